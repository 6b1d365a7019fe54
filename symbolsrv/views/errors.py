"""Exception views: a clear 400 for undecodable URLs, a logged plain 500 for bugs."""

from __future__ import annotations

import logging

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPException, HTTPNotFound
from pyramid.view import exception_view_config, notfound_view_config

from symbolsrv import serving

log = logging.getLogger(__name__)


@exception_view_config(URLDecodeError)
def undecodable_url(exc, request):
    return serving.text(400, "Bad Request: path is not valid UTF-8")


@notfound_view_config()
def not_found(request):
    return serving.text(404, "Not Found")


@exception_view_config(Exception)
def server_error(exc, request):
    if isinstance(exc, HTTPNotFound):
        return serving.text(404, "Not Found")
    if isinstance(exc, HTTPException):
        return exc
    log.exception("unhandled error on %s %r", request.method, request.environ.get("PATH_INFO"))
    return serving.text(500, "Internal Server Error")
