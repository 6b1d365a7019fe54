"""URL forms of the old Apache symbol server (symbols.mozilla.org), kept working forever.

Pure functions, no I/O: clients and scripts baked these URLs in years ago.
"""

from __future__ import annotations

from symbolsrv import hookimpl
from symbolsrv.keys import DEBUGINFOD_PREFIX, canonical_key


@hookimpl
def symbolsrv_parse_path(segments, cfg):
    # /firefox/xul.pdb/44E4EC8C2F41492B9369D6B9A059577C2/xul.sym: the old server kept one
    # tree per product; every product now shares one store, so the prefix is dropped.
    # An unknown prefix is not recognised (None), which ends in a 404 with no lookup.
    if len(segments) == 4:
        if segments[0] in cfg.legacy_products:
            return canonical_key(*segments[1:])
        return None
    # /xul.pdb/44e4ec8c2f41492b9369d6b9a059577c2/xul.sym: old clients sent lower-case ids and
    # the Apache server matched them case-insensitively; stores hold upper-case ids.
    # /firefox/946C0C63132015DD88CA2EFCBB9AC4C70/firefox.sym is this plain form too: a binary
    # named "firefox", not a product prefix.
    if len(segments) == 3:
        # /buildid/<build id>/<name> is the debuginfod namespace (plugins.rewrite_debuginfod):
        # its ids are lower-case, so it is never claimed (nor upper-cased) here.
        if segments[0] == DEBUGINFOD_PREFIX:
            return None
        return canonical_key(*segments)
    return None

