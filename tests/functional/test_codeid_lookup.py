"""Code-id lookup (field case C-19): `/<code_file>/<code_id>/<symbol_file>` answers a 302 to
`/<debug_file>/<debug_id>/<symbol_file>` on symbolsrv itself once `symbolsrv index` has read the
stores; unknown mappings are ordinary misses; a database fault is never a 500."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from symbolsrv.scripts.index import index_location
from tests.functional.conftest import read_miss_rows
from tests.functional.scenarios import ID, K, LocalStore, url
from tests.functional.wsgi_client import WebTestClient

CODE_ID = "651C9AF99241000"
XUL_SYM = (f"MODULE windows x86_64 {ID} xul.pdb\r\nINFO CODE_ID {CODE_ID} xul.dll\r\n"
           "FILE 0 xul.cpp\r\n").encode()
CODE_KEY = f"xul.dll/{CODE_ID}/xul.sym"


@pytest.fixture
def indexed(make_app, tmp_path):
    """K stored (with xul.dll's code id in its head) in the one regular location, and a try
    location holding try.pdb; the index built over both, as `symbolsrv index` does."""
    store = LocalStore(tmp_path / "symbols")
    store.put(K, XUL_SYM)
    store.put("firefox.exe/59021DD066000/firefox.ex_", b"MSCF")  # a file under a code-id path
    try_store = LocalStore(tmp_path / "try")
    try_store.put(f"try.pdb/{ID}/try.sym",
                  f"MODULE windows x86 {ID} try.pdb\nINFO CODE_ID 5F00000011000 try.dll\n".encode())
    testapp, server = make_app(tmp_path, locations=[store.root], try_locations=[try_store.root])
    for rank, (location, storage) in enumerate(
        zip((*server.cfg.locations, *server.cfg.try_locations), server.chain.all), 1
    ):
        result = index_location(server.codeids, storage, location, f"location {rank}")
        assert result.ok and result.with_code_id == 1, result.summary()
    return WebTestClient(testapp), server, store


def location_of(reply):
    assert reply.status == 302, reply
    location = reply.headers.get("Location")
    assert location.isascii(), location
    return urlsplit(location)


def test_c19_the_shape_of_the_code_id_redirect(indexed):
    client, server, store = indexed
    query = f"code_file=xul.dll&code_id={CODE_ID}"

    reply = client.get(url(CODE_KEY, query))
    assert reply.status == 302, reply  # exactly 302: rust-minidump takes only 301/302
    target = location_of(reply)
    assert target.path == f"/xul.pdb/{ID}/xul.sym"
    assert target.query == query
    assert reply.body == b""
    assert reply.headers.get("Cache-Control") == "public, max-age=3600"
    assert reply.headers.get("Access-Control-Allow-Origin") == "*"
    # The Location is symbolsrv itself: following it serves K.
    store.assert_serves(client.get(f"{target.path}?{target.query}"), K, XUL_SYM)

    head = client.head(url(CODE_KEY))
    assert head.status == 302 and head.body == b"", head
    assert location_of(head).path == f"/xul.pdb/{ID}/xul.sym"

    via_try = location_of(client.get(url(f"try/{CODE_KEY}")))
    assert via_try.path == f"/try/xul.pdb/{ID}/xul.sym" and via_try.query == ""
    store.assert_serves(client.get(via_try.path), K, XUL_SYM)

    lower = location_of(client.get(url(f"xul.dll/{CODE_ID.lower()}/xul.sym")))
    assert lower.path == f"/xul.pdb/{ID}/xul.sym"
    upper_file = location_of(client.get(url(f"XUL.DLL/{CODE_ID}/xul.sym")))
    assert upper_file.path == f"/xul.pdb/{ID}/xul.sym"

    nope = client.get(url(f"nope.dll/{CODE_ID}/nope.sym"))
    assert nope.status == 404 and nope.body.strip() == b"Symbol Not Found", nope
    rows = [(r.debug_file, r.debug_id, r.symbol_file, r.count) for r in read_miss_rows(server)]
    assert rows == [("nope.dll", CODE_ID, "nope.sym", 1)]  # redirects are not misses
    assert server.counters.snapshot()["redirect"] == 4  # GETs only: HEAD is not counted


def test_redirects_are_counted_in_heartbeat_and_metrics(indexed):
    client, _, _ = indexed
    client.get(url(CODE_KEY))
    heartbeat = json.loads(client.get("/__heartbeat__").body)
    assert heartbeat["requests"]["redirect"] == 1
    metrics = client.get("/metrics").body.decode()
    assert 'symbolsrv_requests_total{outcome="redirect"} 1.0' in metrics


def test_try_mappings_answer_only_try_requests(indexed):
    client, _, _ = indexed
    key = "try.dll/5F00000011000/try.sym"
    assert client.get(url(key)).status == 404
    assert location_of(client.get(url(key, "try=1"))).path == f"/try.pdb/{ID}/try.sym"
    assert location_of(client.get(url(f"try/{key}"))).path == f"/try/try.pdb/{ID}/try.sym"


def test_files_under_code_id_paths_are_still_served_as_stored(indexed):
    client, _, store = indexed
    reply = client.get(url("firefox.exe/59021DD066000/firefox.ex_"))
    store.assert_serves(reply, "firefox.exe/59021DD066000/firefox.ex_", b"MSCF")


def test_trace_and_debug_header_name_the_code_id_step(indexed):
    client, server, _ = indexed
    data = json.loads(client.get(url(CODE_KEY, "_trace=1")).body)
    assert (data["outcome"], data["status"]) == ("redirect", 302)
    assert data["steps"][0]["location"] == "code-id index" and data["steps"][0]["outcome"] == "hit"
    reply = client.get(url(CODE_KEY), headers={"Debug": "true"})
    assert reply.headers.get("Symbolsrv-Trace").startswith("0 code-id index hit")
    assert read_miss_rows(server) == []


def test_a_database_fault_during_the_code_id_step_is_never_a_500(indexed):
    client, server, store = indexed
    store.put(f"stored.dll/{CODE_ID}/stored.sym", b"MODULE windows x86 x stored.pdb\n")
    with server.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE code_ids RENAME TO code_ids_away"))
    try:
        # Stored as asked: served normally, as without an index.
        reply = client.get(url(f"stored.dll/{CODE_ID}/stored.sym"))
        store.assert_serves(reply, f"stored.dll/{CODE_ID}/stored.sym",
                            b"MODULE windows x86 x stored.pdb\n")
        # Not stored: the index might have known it, so not a 404 a client would cache.
        reply = client.get(url(f"other.dll/{CODE_ID}/other.sym"))
        assert reply.status == 503 and reply.headers.get("Retry-After"), reply
        # A cached mapping (none here yet: the first request) and plain keys are unaffected.
        store.assert_serves(client.get(url(K)), K, XUL_SYM)
    finally:
        with server.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE code_ids_away RENAME TO code_ids"))
    assert read_miss_rows(server) == []
    server.codeids.clear_cache()  # skip the 5 s retry pause after the failure
    assert location_of(client.get(url(CODE_KEY))).path == f"/xul.pdb/{ID}/xul.sym"


def test_a_mapping_indexed_after_a_miss_is_served_after_refresh(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    testapp, server = make_app(tmp_path, locations=[store.root])
    client = WebTestClient(testapp)
    assert client.get(url(CODE_KEY)).status == 404
    store.put(K, XUL_SYM)
    index_location(server.codeids, server.chain.regular[0], server.cfg.locations[0], "location 1")
    assert client.get(url(CODE_KEY)).status == 404  # remembered "not indexed" (60 s at most)
    assert location_of(client.get(url(CODE_KEY, "_refresh=1"))).path == f"/xul.pdb/{ID}/xul.sym"


def test_the_query_string_is_kept_and_made_ascii(indexed):
    client, _, _ = indexed
    reply = client.request_environ("GET", f"/{CODE_KEY}", "code_file=x\xc3\xbc.dll&code_id=")
    assert location_of(reply).query == "code_file=x%C3%BC.dll&code_id="


def test_under_a_mount_prefix_the_location_keeps_it(indexed):
    client, _, _ = indexed
    response = client.testapp.get(f"/{CODE_KEY}", extra_environ={"SCRIPT_NAME": "/symbols"},
                                  status=302)
    assert urlsplit(response.headers["Location"]).path == f"/symbols/xul.pdb/{ID}/xul.sym"
