"""DELETE /__cache__/<debug_file>/<debug_id>/<symbol_file>: forget one key's cached answer,
so a symbol uploaded (or deleted) a moment ago is seen at once."""

from __future__ import annotations

import hmac

from pyramid.view import view_config

from symbolsrv import serving
from symbolsrv.errors import BadPath
from symbolsrv.keys import SymbolKey, canonical_key, check_name


@view_config(route_name="cache_purge", request_method="DELETE")
def purge(request):
    app = request.registry["symbolsrv.app"]
    token = app.cfg.purge_token
    if not token:
        return serving.text(404, "Not Found: cache purging is not configured")
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode("utf-8"), f"Bearer {token}".encode("utf-8")):
        return serving.text(403, "Forbidden: a valid Authorization: Bearer token is required")
    names = (request.matchdict["debug_file"], request.matchdict["debug_id"],
             request.matchdict["symbol_file"])
    try:
        for name in names:
            check_name(name)
    except BadPath as exc:
        return serving.text(400, f"Bad Request: {exc}")
    key = canonical_key(*names)
    # A miss of the id as sent is cached apart from the canonical key's (see chain.locate).
    app.chain.forget(key, SymbolKey(*names))
    return serving.text(200, f"Purged {key.path}")
