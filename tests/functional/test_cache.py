"""C-16 in process: the existence cache's negative time, `_refresh`, purging, cache off."""

from __future__ import annotations

import pytest

from tests.functional import fake_storage
from tests.functional.scenarios import K, YUL, LocalStore, assert_miss, url
from tests.functional.wsgi_client import WebTestClient

TOKEN = "s3cret-token"


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cached_app(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    testapp, server = make_app(
        tmp_path, locations=[fake_storage.counting(store.root)], purge_token=TOKEN
    )
    clock = FakeClock()
    server.chain.cache.clock = clock
    return WebTestClient(testapp), server, store, clock


def test_negative_answers_expire_within_the_documented_time(cached_app):
    client, server, store, clock = cached_app
    miss_seconds = server.cfg.cache_miss_seconds
    assert 0 < miss_seconds <= 60  # C-16: a minute at most
    storage = server.chain.regular[0]
    assert_miss(client.get(url(K)))
    store.put(K, b"late")
    calls = len(storage.calls)
    assert_miss(client.get(url(K)))  # still remembered as absent...
    assert len(storage.calls) == calls  # ...without asking storage
    clock.now += miss_seconds + 0.001
    store.assert_serves(client.get(url(K)), K, b"late")


def test_local_hits_are_never_cached(cached_app):
    client, server, store, clock = cached_app
    store.put(K, b"here")
    store.assert_serves(client.get(url(K)), K, b"here")
    store.delete(K)
    assert_miss(client.get(url(K)))  # a stat is cheaper than a stale answer


def test_purge_forgets_a_remembered_absence(cached_app):
    client, server, store, clock = cached_app
    assert_miss(client.get(url(K)))
    store.put(K, b"uploaded")
    lower = K.replace(K.split("/")[1], K.split("/")[1].lower())
    for headers, status in (
        ({}, 403),
        ({"Authorization": "Bearer wrong"}, 403),
        ({"Authorization": TOKEN}, 403),
    ):
        reply = client.request("DELETE", f"/__cache__/{K}", headers=headers)
        assert reply.status == status, reply
    assert_miss(client.get(url(K)))
    reply = client.request("DELETE", f"/__cache__/{lower}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status == 200, reply
    store.assert_serves(client.get(url(K)), K, b"uploaded")


def test_purge_is_404_without_a_configured_token(make_app, tmp_path):
    testapp, _ = make_app(tmp_path)
    reply = WebTestClient(testapp).request("DELETE", f"/__cache__/{K}",
                                           headers={"Authorization": "Bearer "})
    assert reply.status == 404, reply


def test_purge_rejects_bad_names(cached_app):
    client, *_ = cached_app
    reply = client.request("DELETE", "/__cache__/xul.pdb/%2e%2e/xul.sym",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status == 400, reply


def test_without_a_cache_an_upload_shows_at_once(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    testapp, _ = make_app(tmp_path, locations=[store.root], cache_url="none")
    client = WebTestClient(testapp)
    assert_miss(client.get(url(K)))
    store.put(K, b"late")
    store.assert_serves(client.get(url(K)), K, b"late")


def test_failures_are_never_cached(make_app, tmp_path):
    store = LocalStore(tmp_path / "flaky")
    store.put(K, b"xul")
    testapp, server = make_app(tmp_path, locations=[fake_storage.failing(store.root)])
    client = WebTestClient(testapp)
    assert client.get(url(YUL)).status == 503
    server.chain.regular[0].failing = False
    assert_miss(client.get(url(YUL)))
    store.assert_serves(client.get(url(K)), K, b"xul")
