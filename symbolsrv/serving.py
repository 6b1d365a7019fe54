"""Responses for symbol requests, built as plain Responses (HTTPFound costs twice the CPU)."""

from __future__ import annotations

import json
import os

from pyramid.response import Response
from webob.static import FileIter

from symbolsrv.errors import StorageError

CORS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, HEAD"),
)
PREFLIGHT = CORS + (
    ("Access-Control-Allow-Headers", "*"),
    ("Access-Control-Max-Age", "86400"),
)
ALLOW = "GET, HEAD, OPTIONS"


class ClosingFileIter(FileIter):
    """WebOb's FileIter closes its file only when iterated to the end; a HEAD, a dropped
    client or a discarded response never iterates. WSGI servers call close() in every case."""

    def close(self) -> None:
        self.file.close()


_REASONS = {301: "301 Moved Permanently", 302: "302 Found", 303: "303 See Other",
            307: "307 Temporary Redirect", 308: "308 Permanent Redirect"}
_NO_BODY = (b"",)
_CONTENT_LENGTH_0 = ("Content-Length", "0")
_CACHE_CONTROL: dict[int, tuple[str, str]] = {}  # max_age -> its header, built once


class Redirect(Response):
    """A response whose Location is sent exactly as built. WebOb would make a relative
    Location absolute from the request's Host header, which the client controls: with
    `Host: a@evil.example` that is an open redirect, and a cached one.

    Built without WebOb's __init__ and sent without its __call__ (a cached hit is mostly
    this response): given an integer status and a header list it only stores them.
    Everything else of a WebOb Response (headers, status_int, app_iter) still works.
    """

    def __init__(self, status=302, headerlist=None, **kw):
        line = _REASONS.get(status) if type(status) is int else None
        if line is None or headerlist is None or kw:
            super().__init__(status=status, headerlist=headerlist, **kw)
            return
        self._status = line
        self._headerlist = headerlist
        self._headers = None
        self._app_iter = _NO_BODY
        self.conditional_response = False

    def _abs_headerlist(self, environ):
        return list(self._headerlist)

    def __call__(self, environ, start_response):
        if self.conditional_response:
            return super().__call__(environ, start_response)
        # The server copies the list into its own (PEP 3333 start_response), so no copy here.
        start_response(self._status, self._headerlist)
        if environ["REQUEST_METHOD"] == "HEAD":
            return ()
        return self._app_iter


def cache_control(max_age: int) -> tuple[str, str]:
    header = _CACHE_CONTROL.get(max_age)
    if header is None:
        if len(_CACHE_CONTROL) >= 1000:  # a presigned lifetime may vary: stay bounded
            _CACHE_CONTROL.clear()
        header = _CACHE_CONTROL[max_age] = ("Cache-Control", f"public, max-age={max_age}")
    return header


def redirect(url: str, max_age: int) -> Response:
    """302 to a configured location's URL, or to a relative path on symbolsrv itself."""
    return Redirect(302, [("Location", url), cache_control(max_age), _CONTENT_LENGTH_0, *CORS])


def exists(max_age: int) -> Response:
    """HEAD hit: 200 with no body (a GET-presigned URL would answer a HEAD with 403)."""
    return Response(
        status=200,
        headerlist=[("Cache-Control", f"public, max-age={max_age}"), ("Content-Length", "0"), *CORS],
    )


def text(status: int, message: str, *extra: tuple[str, str]) -> Response:
    body = (message + "\n").encode("utf-8")
    return Response(
        status=status,
        body=body,
        headerlist=[
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *CORS,
            *extra,
        ],
    )


def json_response(status: int, data, *extra: tuple[str, str]) -> Response:
    """Indented UTF-8 JSON, never cached, never sniffed as anything else."""
    body = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return Response(
        status=status,
        body=body,
        headerlist=[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            *extra,
        ],
    )


def preflight() -> Response:
    return Response(status=204, headerlist=list(PREFLIGHT))


def method_not_allowed() -> Response:
    return text(405, "Method Not Allowed", ("Allow", ALLOW))


def _ranges_usable(request) -> bool:
    """Whether WebOb may answer Range/If-* itself. It reads only the first of several ranges
    (a mislabelled 206, C-17) and raises on a malformed header (`bytes=-`): send those whole,
    as RFC 9110 lets a server ignore a Range it does not honour."""
    header = request.environ.get("HTTP_RANGE")
    if not header:
        return True
    if "," in header:
        return False
    try:
        request.range
    except ValueError:
        return False
    return True


def local_file(request, path: str, location: str, max_age: int) -> Response:
    """Stream a file of a local store with Content-Length, ETag, Last-Modified and Range.

    A `.sym` stored gzip-compressed is sent as stored with Content-Encoding: gzip, whatever
    the client's Accept-Encoding (as S3 does with such objects): never compressed twice.
    """
    try:
        handle = open(path, "rb")
        st = os.fstat(handle.fileno())
        magic = handle.read(2)
        handle.seek(0)
    except OSError as exc:
        raise StorageError(location, exc) from exc
    response = Response(conditional_response=_ranges_usable(request))
    is_sym = path.lower().endswith(".sym")
    response.headers["Content-Type"] = "text/plain" if is_sym else "application/octet-stream"
    if is_sym and magic == b"\x1f\x8b":
        response.content_encoding = "gzip"
    response.app_iter = ClosingFileIter(handle)
    response.content_length = st.st_size
    response.last_modified = st.st_mtime
    response.etag = f"{st.st_mtime_ns:x}-{st.st_size:x}"
    response.accept_ranges = "bytes"
    response.cache_control = f"public, max-age={max_age}"
    response.headerlist.extend(CORS)
    return response
