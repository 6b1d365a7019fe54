"""GET /metrics: the Prometheus text after a known sequence of requests, value by value.

One deployment: a local directory as the only regular location and `fail://down` as the only
try location, so plain requests never touch the failing one and `?try` requests for a key
the directory lacks are 503s that feed its circuit breaker (threshold 2). The miss log's
background flush is pushed out of reach (an hour), so pending rows change only when the test
flushes through /missingsymbols.csv.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.scenarios import ID, K, LocalStore, assert_miss, url
from tests.functional.wsgi_client import WebTestClient

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DATA = b"MODULE windows x86_64 " + ID.encode() + b" xul.pdb\n"
MISS_1 = f"yul.pdb/{ID}/yul.sym"
MISS_2 = f"zul.pdb/{ID}/zul.sym"
JUNK = "/xul.pdb/NOT-A-HEX-ID/xul.sym"  # 400: the debug id is not 9-64 hex digits
IGNORED = f"/xul.pdb/{ID}/file.ptr"  # 404 without a lookup: file.ptr is never served
TRY_KEYS = [f"try{n}.pdb/{ID}/try{n}.sym" for n in (1, 2, 3)]  # in no location
FAILING = "fail:down"


def scrape(client) -> dict:
    """GET /metrics; assert the content type; return {(sample name, labels): value}."""
    reply = client.get("/metrics")
    assert reply.status == 200, reply
    assert reply.headers.get("Content-Type") == CONTENT_TYPE, reply
    samples = {}
    for family in text_string_to_metric_families(reply.body.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, default=None, **labels):
    """One sample's value; `default` when the series does not exist (yet)."""
    found = samples.get((name, tuple(sorted(labels.items()))), default)
    assert found is not None, f"no sample {name}{labels} in {sorted(samples)}"
    return found


@pytest.fixture
def metered(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    store.put(K, DATA)
    testapp, server = make_app(
        tmp_path,
        try_locations=["fail://down"],
        breaker_failures=2,
        breaker_reset_seconds=3600,  # stays open (2) for the whole test, never half-open (1)
        miss_flush_interval_seconds=3600,
    )
    local = server.chain.regular[0].name
    assert server.chain.try_[0].name == FAILING
    return WebTestClient(testapp), server, local


def test_metrics_count_every_outcome_storage_answer_cache_lookup_and_circuit(metered):
    client, server, local = metered

    before = scrape(client)
    for outcome in ("hit", "miss", "ignored", "rejected", "error", "redirect"):
        assert value(before, "symbolsrv_requests_total", outcome=outcome) == 0
    assert value(before, "symbolsrv_circuit_state", location=local) == 0
    assert value(before, "symbolsrv_circuit_state", location=FAILING) == 0
    assert value(before, "symbolsrv_miss_log_pending_rows") == 0
    assert value(before, "symbolsrv_miss_log_dropped_total") == 0

    # Two hits on the local store: local files are never cached, so both ask the directory.
    for _ in range(2):
        reply = client.get(url(K))
        assert reply.status == 200 and reply.body == DATA, reply
    # Three misses on two keys; the repeat of MISS_1 is answered by the cache.
    assert_miss(client.get(url(MISS_1)))
    after_first_miss = scrape(client)
    assert_miss(client.get(url(MISS_1)))
    after_repeat = scrape(client)
    assert_miss(client.get(url(MISS_2)))
    assert client.get(JUNK).status == 400
    ignored = client.get(IGNORED)
    assert ignored.status == 404 and b"file.ptr" in ignored.body, ignored

    # The cache lookup counter moves: the repeated miss is a cache hit, not a storage call.
    assert value(after_first_miss, "symbolsrv_cache_lookups_total", result="hit") == 0
    assert value(after_repeat, "symbolsrv_cache_lookups_total", result="hit") == 1
    assert (value(after_repeat, "symbolsrv_cache_lookups_total", result="miss")
            == value(after_first_miss, "symbolsrv_cache_lookups_total", result="miss"))
    assert (value(after_repeat, "symbolsrv_location_lookup_seconds_count", location=local,
                  outcome="absent")
            == value(after_first_miss, "symbolsrv_location_lookup_seconds_count",
                     location=local, outcome="absent") == 1)

    # Two try lookups fail on fail://down (503) and open its circuit; the third skips it.
    middle = scrape(client)
    assert value(middle, "symbolsrv_circuit_state", location=FAILING) == 0
    for key in TRY_KEYS:
        reply = client.get(url(key, "try=1"))
        assert reply.status == 503 and reply.headers.get("Retry-After"), reply

    after = scrape(client)
    requests = {outcome: value(after, "symbolsrv_requests_total", outcome=outcome)
                for outcome in ("hit", "miss", "ignored", "rejected", "error", "redirect")}
    assert requests == {"hit": 2, "miss": 3, "ignored": 1, "rejected": 1, "error": 3,
                        "redirect": 0}

    # One histogram observation per storage answer: the directory answered 2 hits and
    # 5 absents (MISS_1 once, MISS_2, three try keys); fail://down failed twice, then was
    # skipped by its open circuit once.
    lookups = {(dict(labels)["location"], dict(labels)["outcome"]): v
               for (name, labels), v in after.items()
               if name == "symbolsrv_location_lookup_seconds_count"}
    assert lookups == {(local, "hit"): 2, (local, "absent"): 5,
                       (FAILING, "error"): 2, (FAILING, "circuit-open"): 1}
    assert value(after, "symbolsrv_location_lookup_seconds_bucket", location=local,
                 outcome="absent", le="+Inf") == 5

    # Every lookup but the cached repeat missed the cache: 2 hits, MISS_1, MISS_2, 3 try keys.
    assert value(after, "symbolsrv_cache_lookups_total", result="miss") == 7
    assert value(after, "symbolsrv_cache_lookups_total", result="hit") == 1

    assert value(after, "symbolsrv_circuit_state", location=FAILING) == 2
    assert value(after, "symbolsrv_circuit_state", location=local) == 0


def test_miss_log_gauge_empties_and_flush_histogram_counts_on_report(metered):
    client, server, _ = metered
    assert_miss(client.get(url(MISS_1)))
    assert_miss(client.get(url(MISS_1)))
    assert_miss(client.get(url(MISS_2)))

    before = scrape(client)
    assert value(before, "symbolsrv_miss_log_pending_rows") == 2  # distinct keys, not requests
    assert value(before, "symbolsrv_miss_log_flush_seconds_count", 0, result="ok") == 0

    report = client.get("/missingsymbols.csv?today=1")  # flushes this process's counts first
    assert report.status == 200, report
    lines = report.body.decode("utf-8").splitlines()
    assert sorted(lines[1:]) == [f"yul.pdb,{ID},,", f"zul.pdb,{ID},,"], lines

    after = scrape(client)
    assert value(after, "symbolsrv_miss_log_pending_rows") == 0
    assert value(after, "symbolsrv_miss_log_flush_seconds_count", result="ok") == 1
    assert value(after, "symbolsrv_miss_log_flush_seconds_count", 0, result="failed") == 0

    # A report with nothing buffered writes nothing: no new observation.
    assert client.get("/missingsymbols.csv?today=1").status == 200
    assert value(scrape(client), "symbolsrv_miss_log_flush_seconds_count", result="ok") == 1

    assert_miss(client.get(url(MISS_2)))
    assert value(scrape(client), "symbolsrv_miss_log_pending_rows") == 1
    assert client.get("/missingsymbols.csv?today=1").status == 200
    final = scrape(client)
    assert value(final, "symbolsrv_miss_log_flush_seconds_count", result="ok") == 2
    assert value(final, "symbolsrv_miss_log_pending_rows") == 0
