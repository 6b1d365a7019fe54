"""C-14 with in-process fault injection: which location failed, and what the client sees."""

from __future__ import annotations

import logging
import shutil

from tests.functional import fake_storage
from tests.functional.conftest import read_miss_rows
from tests.functional.scenarios import K, YUL, LocalStore, assert_miss, url
from tests.functional.wsgi_client import WebTestClient


def test_a_later_location_holding_the_key_answers_despite_a_failing_one(make_app, tmp_path, caplog):
    store = LocalStore(tmp_path / "good")
    store.put(K, b"xul")
    testapp, server = make_app(
        tmp_path, locations=["fail://down", fake_storage.counting(store.root)],
        retry_after_seconds=7,
    )
    client = WebTestClient(testapp)
    store.assert_serves(client.get(url(K)), K, b"xul")

    with caplog.at_level(logging.WARNING):
        reply = client.get(url(YUL))
    assert reply.status == 503, reply
    assert reply.headers.get("Retry-After") == "7"
    assert any("fail:down" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert read_miss_rows(server) == []


def test_a_failing_lower_ranked_location_does_not_hide_a_hit(make_app, tmp_path):
    store = LocalStore(tmp_path / "good")
    store.put(K, b"xul")
    testapp, server = make_app(
        tmp_path, locations=[fake_storage.counting(store.root), "fail://down"]
    )
    client = WebTestClient(testapp)
    store.assert_serves(client.get(url(K)), K, b"xul")
    store.assert_serves(client.head(url(K)), K, b"xul", "HEAD")
    assert client.get(url(YUL)).status == 503


def test_exact_c14_sequence_recovers_at_once(make_app, tmp_path):
    store = LocalStore(tmp_path / "flaky")
    store.put(K, b"xul")
    testapp, server = make_app(tmp_path, locations=[fake_storage.failing(store.root)])
    client = WebTestClient(testapp)
    assert client.get(url(K)).status == 503
    assert client.head(url(K)).status == 503
    server.chain.regular[0].failing = False
    store.assert_serves(client.get(url(K)), K, b"xul")


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_recovery_after_a_long_outage_within_the_breaker_reset(make_app, tmp_path):
    # C-14 asks for "a 302 straight away" after recovery. README documents the trade-off of
    # the circuit breaker: after a long outage (breaker_failures or more failed lookups) the
    # location is served again within breaker_reset_seconds of its return.
    store = LocalStore(tmp_path / "flaky")
    store.put(K, b"xul")
    testapp, server = make_app(tmp_path, locations=[fake_storage.failing(store.root)])
    client = WebTestClient(testapp)
    clock = FakeClock()
    for breaker in server.chain.breakers.values():
        breaker.clock = clock
    for _ in range(max(20, server.cfg.breaker_failures + 1)):
        reply = client.get(url(K))
        assert reply.status == 503, reply
    server.chain.regular[0].failing = False
    first = client.get(url(K))
    assert first.status in (200, 503), first  # 503 while the circuit is still open
    clock.now += server.cfg.breaker_reset_seconds
    store.assert_serves(client.get(url(K)), K, b"xul")
    store.assert_serves(client.get(url(K)), K, b"xul")
    assert read_miss_rows(server) == []


def test_a_plugin_crash_is_a_failing_location_not_a_500(make_app, tmp_path, caplog):
    store = LocalStore(tmp_path / "good")
    store.put(K, b"xul")
    testapp, server = make_app(tmp_path, locations=["crash://bug", fake_storage.counting(store.root)])
    client = WebTestClient(testapp)
    store.assert_serves(client.get(url(K)), K, b"xul")
    with caplog.at_level(logging.WARNING):
        reply = client.get(url(YUL))
    assert reply.status == 503, reply
    assert b"Traceback" not in reply.body
    assert any(r.exc_info for r in caplog.records if "crash:bug" in r.getMessage()), [
        r.getMessage() for r in caplog.records
    ]
    assert read_miss_rows(server) == []


def test_a_vanished_local_root_is_an_outage_not_a_miss(make_app, tmp_path):
    store = LocalStore(tmp_path / "nfs")
    store.put(K, b"xul")
    testapp, server = make_app(tmp_path, locations=[store.root])
    client = WebTestClient(testapp)
    shutil.rmtree(store.root)  # an unmounted share: every path is "no such file"
    for target in (url(K), url(YUL)):
        reply = client.get(target)
        assert reply.status == 503, reply
        assert reply.headers.get("Retry-After")
    assert read_miss_rows(server) == []
    store.put(K, b"xul again")
    store.assert_serves(client.get(url(K)), K, b"xul again")
    assert_miss(client.get(url(YUL)))


def test_a_directory_where_the_file_should_be_is_a_miss(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    (store.root / K).mkdir(parents=True)
    testapp, _ = make_app(tmp_path, locations=[store.root])
    assert_miss(WebTestClient(testapp).get(url(K)))
