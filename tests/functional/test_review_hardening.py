"""Holes a newcomer's adversarial review found, each closed for its whole kind."""

from __future__ import annotations

import os

import pytest

from symbolsrv.codeids import IndexedObject, SymHead, location_id
from tests.functional.scenarios import K, LocalStore, url
from tests.functional.wsgi_client import WebTestClient

ID = K.split("/")[1]


@pytest.mark.parametrize("host", ["a@evil.example", "evil.example", "evil.example\\@127.0.0.1"])
def test_redirects_to_symbolsrv_itself_never_name_the_clients_host(make_app, tmp_path, host):
    # WebOb makes a relative Location absolute from Host, which the client chooses: an open
    # redirect, cached for an hour. Location stays relative.
    store = LocalStore(tmp_path / "symbols")
    store.put(K, b"MODULE")
    testapp, server = make_app(tmp_path, locations=[store.root])
    head = SymHead("windows", "x86_64", ID, "xul.pdb", "54AF957E1B34000", "xul.dll")
    server.codeids.record(
        [IndexedObject(location_id(server.cfg.locations[0]), K, "v1", head)]
    )
    client = WebTestClient(testapp)
    for target in ("/xul.dll/54AF957E1B34000/xul.sym", "/missing"):
        reply = client.request("GET", target, headers={"Host": host})
        assert reply.status == 302, (target, reply)
        location = reply.headers["Location"]
        assert location.startswith("/") and "evil" not in location, location


@pytest.mark.parametrize("header", ["bytes=-", "bytes=--5", "bytes=-a", "bytes= -", "bytes=x-y"])
def test_a_malformed_range_is_ignored_not_a_500(make_app, tmp_path, header):
    store = LocalStore(tmp_path / "symbols")
    store.put(K, b"0123456789")
    testapp, _ = make_app(tmp_path, locations=[store.root])
    client = WebTestClient(testapp)
    for method in ("GET", "HEAD"):
        reply = client.request(method, url(K), headers={"Range": header})
        assert reply.status == 200, reply
        assert reply.headers["Content-Length"] == "10"
        if method == "GET":
            assert reply.body == b"0123456789"


def test_a_symlink_leading_out_of_the_store_is_not_served(make_app, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"root:x:0:0")
    store = LocalStore(tmp_path / "symbols")
    store.put(K, b"MODULE")
    inside = store.file(K).parent / "evil.sym"
    os.symlink(secret, inside)
    alias = store.file(K).parent / "alias.sym"
    os.symlink(store.file(K), alias)  # a link within the store is fine
    testapp, _ = make_app(tmp_path, locations=[store.root])
    client = WebTestClient(testapp)
    evil = client.get(url(K.rsplit("/", 1)[0] + "/evil.sym"))
    assert evil.status == 404 and b"root:x" not in evil.body
    assert client.get(url(K.rsplit("/", 1)[0] + "/alias.sym")).body == b"MODULE"


@pytest.mark.parametrize("path", [
    f"/.../{ID}/x.sym",
    f"/%252e%252e/{ID}/x.sym",
    f"/a%E2%80%A8b.pdb/{ID}/x.sym",
    f"/a%E2%80%AEb.pdb/{ID}/x.sym",
])
def test_traversal_probes_and_invisible_characters_are_400_and_not_logged(make_app, tmp_path, path):
    testapp, server = make_app(tmp_path)
    reply = WebTestClient(testapp).get(path)
    assert reply.status == 400, reply
    server.misslog.flush()
    assert server.misslog.pending == 0
    import sqlalchemy as sa

    from symbolsrv.db import missing_symbols
    with server.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(missing_symbols)).scalar() == 0
