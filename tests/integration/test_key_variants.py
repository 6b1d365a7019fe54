"""Field case C-02 on real HTTP: a case-sensitive mirror holding a mixed-case PE code id.

A tiny http.server mirror (plugins/storage_http location) holds only
`/symbols/renderdoc.dll/61015E74442b000/renderdoc.dl_` (`%08X%x`: timestamp upper-case,
image size lower-case); an empty-for-this-key S3 bucket ranks above it. symbolsrv under
waitress must ask the mirror for the upper-cased id, then for the id as sent, and redirect to
the mirror URL with the id byte for byte as requested.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.apps import sqlite_miss_counts
from tests.integration.s3data import A

pytestmark = pytest.mark.integration

SENT_ID = "61015E74442b000"
AS_SENT = f"renderdoc.dll/{SENT_ID}/renderdoc.dl_"
CANONICAL = f"renderdoc.dll/{SENT_ID.upper()}/renderdoc.dl_"


class CaseSensitiveMirror:
    """Serves exactly the paths in `files` (byte for byte, case-sensitive) under /symbols/;
    records every (method, path) it is asked."""

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.seen: list[tuple[str, str]] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bool):
                mirror.seen.append((self.command, self.path))
                data = mirror.files.get(self.path)
                self.send_response(404 if data is None else 200)
                self.send_header("Content-Length", str(0 if data is None else len(data)))
                self.end_headers()
                if body and data is not None:
                    self.wfile.write(data)

            def do_HEAD(self):
                self._answer(False)

            def do_GET(self):
                self._answer(True)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/symbols"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror():
    with CaseSensitiveMirror({f"/symbols/{AS_SENT}": b"MSCF renderdoc"}) as server:
        yield server


def test_mixed_case_code_id_redirects_to_the_mirror_byte_for_byte(start_symbolsrv, mirror):
    server = start_symbolsrv([A.location, mirror.base + "/"])

    reply = server.get(f"/{AS_SENT}")
    assert reply.status == 302, (reply.status, reply.body, server.log_tail())
    assert reply.header("Location") == f"{mirror.base}/{AS_SENT}"
    # Upper-cased canonical form first, then the id as sent: two probes, no more.
    assert mirror.seen == [("HEAD", f"/symbols/{CANONICAL}"), ("HEAD", f"/symbols/{AS_SENT}")]

    mirror.seen.clear()
    assert server.head(f"/{AS_SENT}").status == 200
    assert server.get(f"/{AS_SENT}").status == 302
    assert len(mirror.seen) <= 2  # the found answer is cached under the canonical key
    assert sqlite_miss_counts(server) == {}


def test_upper_case_request_probes_once(start_symbolsrv, mirror):
    server = start_symbolsrv([mirror.base])
    assert server.get(f"/{CANONICAL}").status == 404
    assert mirror.seen == [("HEAD", f"/symbols/{CANONICAL}")]
    # The remembered miss of the canonical key does not hide the mixed-case spelling.
    assert server.get(f"/{AS_SENT}").status == 302


def test_both_spellings_absent_is_one_miss_row_after_two_probes(start_symbolsrv, mirror):
    other = "61015E74442c000"
    server = start_symbolsrv([mirror.base])
    reply = server.get(f"/renderdoc.dll/{other}/renderdoc.dl_")
    assert reply.status == 404
    assert mirror.seen == [
        ("HEAD", f"/symbols/renderdoc.dll/{other.upper()}/renderdoc.dl_"),
        ("HEAD", f"/symbols/renderdoc.dll/{other}/renderdoc.dl_"),
    ]
    assert sqlite_miss_counts(server) == {
        ("renderdoc.dll", other.upper(), "renderdoc.dl_"): 1
    }
