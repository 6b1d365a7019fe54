"""The debuginfod protocol (elfutils' debuginfod-find, gdb, libdebuginfod clients).

    GET/HEAD /buildid/<hex build id>/debuginfo
    GET/HEAD /buildid/<hex build id>/executable

are looked up as the storage key `buildid/<id>/debuginfo` (or `executable`), the layout a
debuginfod-style store keeps, with the id lower-cased as debuginfod clients send it and
debuginfod servers store it. Nothing else of the protocol is served (`/buildid/<id>/source/…`,
`/buildid/<id>/section/…`, `/metrics` of a debuginfod server): those paths are not
recognised here and end in a 404 with no lookup.

Pure functions, no I/O.
"""

from __future__ import annotations

from symbolsrv import hookimpl
from symbolsrv.keys import DEBUGINFOD_ARTIFACTS, DEBUGINFOD_PREFIX, SymbolKey


# tryfirst: `/buildid/<id>/debuginfo` also has the three parts of the plain
# /<debug_file>/<debug_id>/<symbol_file> form, which plugins.rewrite_legacy would upper-case.
# pluggy calls tryfirst implementations before the others whatever the registration order,
# so the debuginfod key (id lower-cased) always wins. (rewrite_legacy also declines
# `buildid/…` paths itself, so neither order matters even without this marker.)
@hookimpl(tryfirst=True)
def symbolsrv_parse_path(segments, cfg):
    if (len(segments) == 3 and segments[0] == DEBUGINFOD_PREFIX
            and segments[2] in DEBUGINFOD_ARTIFACTS):
        # The id is judged by the resolver like any debug id (9-64 hex digits, else 400).
        return SymbolKey(DEBUGINFOD_PREFIX, segments[1].lower(), segments[2])
    return None
