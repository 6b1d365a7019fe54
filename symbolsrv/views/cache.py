"""DELETE /__cache__/<debug_file>/<debug_id>/<symbol_file>: forget one key's cached answer,
so a symbol uploaded (or deleted) a moment ago is seen at once."""

from __future__ import annotations

import hmac

from pyramid.view import view_config

from symbolsrv import serving
from symbolsrv.lookup import REJECTED, Answer


@view_config(route_name="cache_purge", request_method="DELETE")
def purge(request):
    app = request.registry["symbolsrv.app"]
    token = app.cfg.purge_token
    if not token:
        return serving.text(404, "Not Found: cache purging is not configured")
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode("utf-8"), f"Bearer {token}".encode("utf-8")):
        return serving.text(403, "Forbidden: a valid Authorization: Bearer token is required")
    # The key a GET of the same path looks up (the parse hooks decide: an upper-cased debug
    # id, a lower-cased debuginfod build id), and the id as sent, whose misses are cached
    # apart from the canonical key's (see chain.locate).
    path = request.path_info[len("/__cache__"):]
    prepared = app.resolver.prepare(path, False)
    if isinstance(prepared, Answer):
        if prepared.outcome == REJECTED:
            return serving.text(400, f"Bad Request: {prepared.reason}")
        if prepared.key is None:
            return serving.text(404, f"Not Found: {prepared.reason}")
        key, alternate = prepared.key, None  # never looked up, so nothing is cached
    else:
        key, _, _, alternate = prepared
    app.chain.forget(key, alternate)
    return serving.text(200, f"Purged {key.path}")
