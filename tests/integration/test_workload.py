"""The whole shared/data workload over real HTTP against symbolsrv backed by three moto buckets.

Every line of workload.txt is sent as a GET (8 connections at once) and its answer checked
against workload_labels.tsv; every distinct redirect target is fetched from moto and must be
the file's exact bytes; /missingsymbols.csv must then hold exactly the distinct misses; a
HEAD pass over a sample agrees with GET and logs nothing.
"""

from __future__ import annotations

import collections
import random
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import pytest

from tests.integration.apps import MEASUREMENTS, cpu_seconds, fetch_url, sqlite_count_sum
from tests.integration.expect import SYMBOL_NOT_FOUND, csv_row, documented_valid_key
from tests.integration.replay import replay
from tests.integration.s3data import A, B, C, PREFIX

pytestmark = pytest.mark.integration

HITS = ("hit", "legacy-hit")
MISSES = ("miss", "legacy-miss", "codeid")  # no code-id index yet (issue 3): codeid is a miss
# Distinct lines per label for the HEAD pass (about 300; every distinct hit line).
HEAD_SAMPLE = {"hit": 1000, "legacy-hit": 1000, "miss": 100, "legacy-miss": 30, "codeid": 30,
               "junk": 40}


@pytest.fixture(scope="module")
def get_replay(symbolsrv_s3, workload, moto):
    cpu = (cpu_seconds(symbolsrv_s3.pid), cpu_seconds(moto._proc.pid), time.process_time())
    result = replay(symbolsrv_s3.port, [w.target for w in workload], "GET", threads=8)
    cpu = [after - before for before, after in zip(cpu, (
        cpu_seconds(symbolsrv_s3.pid), cpu_seconds(moto._proc.pid), time.process_time()))]
    by_class = collections.defaultdict(list)
    for w in workload:
        by_class[w.label].append(w.number - 1)
    MEASUREMENTS.append(
        f"workload GET replay: {len(workload)} requests, 8 threads, {result.wall_seconds:.1f} s,"
        f" {result.per_second:.0f} req/s; CPU s: symbolsrv {cpu[0]:.1f}, moto {cpu[1]:.1f},"
        f" test client {cpu[2]:.1f}")
    for name, indices in [("all", None)] + sorted(by_class.items()):
        lat = result.latency_ms(indices)
        MEASUREMENTS.append(f"  latency {name:<11} " + "  ".join(f"{k} {v:6.1f} ms"
                                                                for k, v in lat.items()))
    return result


def describe(w, r) -> str:
    return f"line {w.number} {w.label} {w.target[:200]!r}: {r.status} {r.location or r.body[:80]!r}"


def test_every_get_is_answered_as_labelled_and_never_5xx(get_replay, workload, symbol_buckets,
                                                          moto):
    wrong = []
    for w, r in zip(workload, get_replay.results):
        if r.status >= 500:
            wrong.append("5xx: " + describe(w, r))
        elif w.label in HITS:
            bucket = symbol_buckets.first_bucket(w.detail)
            parts = urlsplit(r.location or "")
            expected_path = f"/{bucket.name}/{quote(PREFIX + w.detail, safe='/-_.~')}"
            max_age = 150 if bucket.private else 3600  # presigned: half of expires_seconds=300
            if (r.status != 302 or f"{parts.scheme}://{parts.netloc}" != moto.endpoint
                    or parts.path != expected_path
                    or ("X-Amz-Signature=" in parts.query) != bucket.private
                    or r.cache_control != f"public, max-age={max_age}" or r.body != b""):
                wrong.append(f"expected 302 to {expected_path}: " + describe(w, r))
        elif w.label in MISSES:
            if r.status != 404 or r.body != SYMBOL_NOT_FOUND or r.cache_control != "no-store":
                wrong.append("expected 404 Symbol Not Found: " + describe(w, r))
        elif w.label == "junk":
            if r.status not in (400, 404):
                wrong.append("expected 400 or 404: " + describe(w, r))
            # A junk line is looked up (and its miss logged) exactly when README's rules make
            # it a well-formed key: e.g. a 34-hex debug id, a space or '%' in a name.
            elif (r.body == SYMBOL_NOT_FOUND) != documented_valid_key(w.target):
                said = "a lookup" if documented_valid_key(w.target) else "no lookup"
                wrong.append(f"README says {said}: " + describe(w, r))
        else:
            wrong.append("unknown label: " + describe(w, r))
    assert wrong == [], f"{len(wrong)} wrong answers, first ones:\n" + "\n".join(wrong[:20])


def test_hits_came_from_every_bucket_first_in_ini_order(get_replay, workload, symbol_buckets):
    served = collections.Counter()
    for w, r in zip(workload, get_replay.results):
        if w.label in HITS and r.status == 302:
            served[urlsplit(r.location).path.split("/")[1]] += 1
    assert set(served) == {A.name, B.name, C.name}, served
    # Files stored twice are answered from the higher-ranked bucket.
    doubled = {d: bs for d, bs in symbol_buckets.holders.items() if len(bs) > 1}
    assert [tuple(bs) for bs in doubled.values()] == [(A, B), (B, C)]
    MEASUREMENTS.append(f"  hits served per bucket: {dict(sorted(served.items()))}")


def test_every_distinct_redirect_serves_the_exact_file(get_replay, workload, symbol_buckets):
    # Public Locations repeat; presigned ones differ by signature time: fetch one per object.
    targets = {}
    for w, r in zip(workload, get_replay.results):
        if w.label in HITS and r.status == 302:
            parts = urlsplit(r.location)
            key = r.location if not parts.query else parts.path
            targets.setdefault(key, (w.detail, r.location))
    assert len(targets) == len(symbol_buckets.holders)  # every stored file was asked for

    def check(item):
        detail, location = item
        reply = fetch_url(location)
        if reply.status != 200 or reply.body != symbol_buckets.data(detail):
            return f"{location} -> {reply.status}, {len(reply.body)} bytes, want {detail}"
        return None

    with ThreadPoolExecutor(4) as pool:
        failures = [f for f in pool.map(check, targets.values()) if f]
    assert failures == []
    MEASUREMENTS.append(f"  distinct redirect targets fetched: {len(targets)}")


@pytest.fixture(scope="module")
def expected_rows(get_replay, workload):
    """Distinct CSV rows: every labelled miss, plus junk lines README makes real misses."""
    return {csv_row(w.target) for w, r in zip(workload, get_replay.results)
            if w.label in MISSES or (w.label == "junk" and r.body == SYMBOL_NOT_FOUND)}


def test_report_holds_exactly_the_distinct_misses(get_replay, workload, symbolsrv_s3,
                                                  expected_rows):
    rows = symbolsrv_s3.csv_rows("today=1")
    assert len(rows) == len(set(map(tuple, rows))), "duplicate rows in the report"
    got = set(map(tuple, rows))
    assert got - expected_rows == set()
    assert expected_rows - got == set()
    labelled = {csv_row(w.target) for w in workload if w.label in MISSES}
    junk = [w for w, r in zip(workload, get_replay.results)
            if w.label == "junk" and r.body == SYMBOL_NOT_FOUND]
    MEASUREMENTS.append(
        f"  report: {len(got)} distinct rows ({len(labelled)} from labelled misses,"
        f" {len(expected_rows - labelled)} more from {len(junk)} junk lines that README makes"
        f" well-formed keys: {dict(collections.Counter(w.detail for w in junk))})")
    # Every GET miss counted exactly once (the report flushes the buffered counts).
    logged = sum(1 for r in get_replay.results if r.body == SYMBOL_NOT_FOUND)
    assert sqlite_count_sum(symbolsrv_s3) == logged


def test_head_sample_agrees_with_get_and_logs_nothing(get_replay, workload, symbolsrv_s3,
                                                      expected_rows):
    first = {}
    for w, r in zip(workload, get_replay.results):
        first.setdefault(w.target, (w, r))
    by_label = collections.defaultdict(list)
    for target, (w, _) in sorted(first.items()):
        by_label[w.label].append(target)
    rng = random.Random(20000)
    sample = [t for label, targets in sorted(by_label.items())
              for t in rng.sample(targets, min(len(targets), HEAD_SAMPLE[label]))]
    counted_before = sqlite_count_sum(symbolsrv_s3)

    heads = replay(symbolsrv_s3.port, sample, "HEAD", threads=8)

    wrong = []
    for target, head in zip(sample, heads.results):
        w, get = first[target]
        want = 200 if w.label in HITS else 404 if w.label in MISSES else get.status
        if head.status != want or head.body != b"" or head.location is not None:
            wrong.append(f"HEAD {w.label} {target[:160]!r}: {head.status} {head.location},"
                         f" want {want}")
    assert wrong == []
    assert set(map(tuple, symbolsrv_s3.csv_rows("today=1"))) == expected_rows
    assert sqlite_count_sum(symbolsrv_s3) == counted_before
    classes = collections.Counter(first[t][0].label for t in sample)
    MEASUREMENTS.append(f"  HEAD sample: {len(sample)} distinct lines"
                        f" {dict(sorted(classes.items()))}, {heads.wall_seconds:.1f} s,"
                        f" {heads.per_second:.0f} req/s")
