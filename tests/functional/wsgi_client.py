"""The scenario client bound to WebTest: requests go straight into the WSGI app, in process."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes
from wsgiref.headers import Headers

import webob
from webtest import lint

from tests.functional.scenarios import ClientBase, Reply


def wire_to_path_info(path: str) -> str:
    """Decode a request-target path the way waitress does (PEP 3333).

    Percent-escapes, %2F included, become raw bytes, and the bytes are handed over as a
    latin-1 str; nothing is folded or normalised.
    """
    return unquote_to_bytes(path).decode("latin-1")


class WebTestClient(ClientBase):
    """Speaks to a webtest.TestApp (lint on) as if through a real WSGI server."""

    def __init__(self, testapp):
        self.testapp = testapp

    def request(self, method: str, target: str, headers: dict[str, str] | None = None) -> Reply:
        path, _, query = target.partition("?")
        return self.request_environ(method, wire_to_path_info(path), query, headers)

    def request_environ(
        self,
        method: str,
        path_info: str,
        query_string: str = "",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send PATH_INFO and QUERY_STRING exactly as given (latin-1 str, any bytes)."""
        request = webob.Request.blank("/")
        request.environ.update(
            REQUEST_METHOD=method, PATH_INFO=path_info, QUERY_STRING=query_string
        )
        for name, value in (headers or {}).items():
            request.headers[name] = value
        # Not TestApp.do_request: it gunzips bodies and drops Content-Encoding, hiding
        # exactly what a client receives (field case C-18). Same lint check, though.
        app = lint.middleware(self.testapp.app) if self.testapp.lint else self.testapp.app
        response = request.get_response(app, catch_exc_info=True)
        return Reply(response.status_int, Headers(list(response.headerlist)), response.body)
