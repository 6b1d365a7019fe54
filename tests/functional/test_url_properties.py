"""Property test over the URL grammar: any path and query gets a sane answer, never a 500.

PATH_INFO is handed over as a server would (bytes as latin-1 text, PEP 3333), including
bytes that are not UTF-8, so the undecodable-path route is exercised too.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from symbolsrv import db
from tests.functional import fake_storage
from tests.functional.scenarios import ID, K, LocalStore
from tests.functional.wsgi_client import WebTestClient

STORED = b"MODULE windows x86 " + ID.encode() + b" xul.pdb\n"
ALLOWED = {200, 204, 206, 302, 304, 400, 404, 503}

SPECIAL_SEGMENTS = [
    "", ".", "..", "%", "%2F", "%00", "%%", "try", "firefox", "gobblygook", ID, ID.lower(),
    "0" * 33, "file.ptr", "FILE.PTR", "xul.pdb", "xul.sym", "xul.pd_", "xul.xxx", "a" * 200,
    "a" * 201, "汉" * 70, "汉" * 201, "x\u0085y", "\u2028", "\ufeff", "a b", "a+b", "c++",
    "{d10d0bf8}.xpi", "\x00", "\n", "\x7f", "\\", "..\\..", "null", "0x" + ID, "A" * 65,
]

segment = st.one_of(
    st.sampled_from(SPECIAL_SEGMENTS),
    st.text(max_size=16),  # any code point, control characters included
    st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=70),
    st.builds(lambda c, n: c * n, st.sampled_from("ab汉ü/%."), st.integers(150, 700)),
)
known_paths = st.sampled_from([
    "/" + K, f"/xul.pdb/{ID.lower()}/xul.sym", f"/firefox/{K}", f"/try/{K}",
    f"/try/firefox/{K}", f"/xul.pdb/{ID}/xul.pd_", f"/{K}/",
])
utf8_path = st.builds(
    lambda segments: ("/" + "/".join(segments)).encode("utf-8").decode("latin-1"),
    st.lists(segment, max_size=7),
)
raw_path = st.builds(lambda raw: "/" + raw.decode("latin-1"), st.binary(max_size=80))
path_info = st.one_of(known_paths, utf8_path, raw_path)

param = st.tuples(
    st.sampled_from(["code_file", "code_id", "try", "_refresh", "_trace", "date", "x", ""]),
    st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["%FF", "%00", "%", "+", "c" * 5000])),
)
query_string = st.one_of(
    st.just(""),
    st.builds(
        lambda params: "&".join(n if v is None else f"{n}={v}" for n, v in params)
        .encode("utf-8").decode("latin-1"),
        st.lists(param, max_size=4),
    ),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
)


@pytest.fixture
def app(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    store.put(K, STORED)
    store.put(f"xul.pdb/{ID}/xul.pd_", b"MSCF" + bytes(20))
    testapp, server = make_app(tmp_path, locations=[fake_storage.counting(store.root)])
    return WebTestClient(testapp), server


def _logged_total(server) -> int:
    """Every GET miss counted so far (buffered counts flushed first)."""
    server.misslog.flush()
    total = sa.select(sa.func.coalesce(sa.func.sum(db.missing_symbols.c["count"]), 0))
    with server.engine.connect() as conn:
        return conn.execute(total).scalar()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "GET", "HEAD", "OPTIONS"]),
    path=path_info,
    query=query_string,
)
def test_any_request_gets_a_sane_answer(app, method, path, query):
    client, server = app
    storage = server.chain.regular[0]
    calls_before, logged_before = len(storage.calls), _logged_total(server)

    reply = client.request_environ(method, path, query)

    assert reply.status in ALLOWED, (method, path, query, reply)
    if method == "HEAD" or reply.status in (204, 304):
        assert reply.body == b"", reply
    if reply.status >= 400:
        assert reply.headers.get("Content-Type", "").startswith("text/plain"), reply
        assert len(reply.body) < 300, reply
    # ?_trace answers 200 with a JSON diagnosis; the answer it describes is inside.
    traced = reply.headers.get("Content-Type", "").startswith("application/json")
    status = reply.status
    if traced:
        assert "_trace" in query and reply.status == 200, (path, query, reply)
        if method == "GET":
            status = json.loads(reply.body)["status"]
            assert status in ALLOWED, reply
    event(f"{method} {status}{' traced' if traced else ''}")
    if status == 400:
        assert len(storage.calls) == calls_before, "a 400 asked storage"
    if traced or status != 404 or method != "GET":
        assert _logged_total(server) == logged_before, "only a GET 404 may be logged"
    if status == 200 and method == "GET" and not traced:
        assert reply.body in (STORED, b"MSCF" + bytes(20)), reply
    for key in storage.calls[calls_before:]:
        # Whatever reached storage is a checked key: no separators or dot segments.
        for name in (key.debug_file, key.debug_id, key.symbol_file):
            assert name not in ("", ".", "..") and "/" not in name and "\x00" not in name
