"""Dockerflow endpoints: /__lbheartbeat__, /__heartbeat__, /__version__."""

from __future__ import annotations

import json
import shutil
from importlib import metadata

from tests.functional.scenarios import YUL, assert_miss, url
from tests.functional.wsgi_client import WebTestClient


def test_lbheartbeat_is_200(make_app, tmp_path):
    testapp, _ = make_app(tmp_path)
    client = WebTestClient(testapp)
    for method in ("GET", "HEAD"):
        reply = client.request(method, "/__lbheartbeat__")
        assert reply.status == 200 and reply.body == b"", reply


def test_heartbeat_reports_database_and_every_location(make_app, tmp_path):
    testapp, server = make_app(
        tmp_path, locations=[tmp_path / "a", tmp_path / "b"], try_locations=[tmp_path / "t"]
    )
    client = WebTestClient(testapp)
    assert_miss(client.get(url(YUL)))
    reply = client.get("/__heartbeat__")
    assert reply.status == 200, reply
    assert reply.headers.get("Content-Type").startswith("application/json")
    assert reply.headers.get("Cache-Control") == "no-store"
    data = json.loads(reply.body)
    assert data["status"] == "ok"
    assert data["checks"]["database"] == "ok"
    names = [storage.name for storage in server.chain.all]
    assert len(names) == 3
    for name in names:
        assert data["checks"][name] == "ok", data
    assert data["requests"]["miss"] >= 1


def test_heartbeat_is_503_when_a_location_directory_is_gone(make_app, tmp_path):
    testapp, server = make_app(tmp_path, locations=[tmp_path / "a", tmp_path / "b"])
    client = WebTestClient(testapp)
    shutil.rmtree(tmp_path / "b")
    reply = client.get("/__heartbeat__")
    assert reply.status == 503, reply
    data = json.loads(reply.body)
    assert data["status"] == "error"
    assert data["checks"]["database"] == "ok"
    good, gone = (storage.name for storage in server.chain.regular)
    assert data["checks"][good] == "ok"
    assert data["checks"][gone].startswith("error"), data
    (tmp_path / "b").mkdir()
    assert client.get("/__heartbeat__").status == 200


def test_version_is_json(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBOLSRV_COMMIT", "0123abcd")
    testapp, _ = make_app(tmp_path)
    reply = WebTestClient(testapp).get("/__version__")
    assert reply.status == 200, reply
    assert reply.headers.get("Content-Type").startswith("application/json")
    data = json.loads(reply.body)
    assert data["name"] == "symbolsrv"
    assert data["version"] == metadata.version("symbolsrv")
    assert data["commit"] == "0123abcd"


def test_heartbeat_with_a_crashing_plugin_is_503_not_500(make_app, tmp_path):
    # A plugin whose ping() raises something other than StorageError is a failing
    # location, as it is for lookups (README), never a 500 from the health check.
    testapp, server = make_app(tmp_path, locations=[tmp_path / "a", "crash://bug"])
    reply = WebTestClient(testapp).get("/__heartbeat__")
    assert reply.status == 503, reply
    data = json.loads(reply.body)
    assert data["checks"]["crash:bug"].startswith("error"), data
