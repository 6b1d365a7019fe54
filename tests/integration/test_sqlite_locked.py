"""A locked SQLite miss log never holds a download back, and no counted miss is lost.

symbolsrv runs under waitress on its own SQLite file, flushing every 0.2 s. The test takes
an exclusive lock on that file from another connection, so the flush thread blocks in
SQLite's busy wait (30 s, symbolsrv/db.py). Requests only count misses in memory: every one
must still answer, and once the lock is gone the table must hold exactly what was sent.
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.expect import SYMBOL_NOT_FOUND
from tests.integration.s3data import A, public_url

pytestmark = pytest.mark.integration

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
# Ten keys in no bucket, asked 30 times in all, repeats interleaved with first requests.
KEYS = [f"locked{n}.pdb/{ID}/locked{n}.sym" for n in range(10)]
TIMES = [6, 5, 4, 3, 3, 2, 2, 2, 2, 1]
# Far below the 30 s busy timeout: a request that waited on the database lock would fail
# here instead of answering late.
REQUEST_TIMEOUT = 10.0
POLL_DEADLINE = 60.0  # seconds to wait for what the flush thread does on its own


def request_order() -> list[str]:
    left = dict(zip(KEYS, TIMES))
    order = []
    while left:
        for key in list(left):
            order.append(key)
            left[key] -= 1
            if not left[key]:
                del left[key]
    return order


def pending_rows(server) -> float:
    """symbolsrv_miss_log_pending_rows from /metrics (read from memory: never waits on the lock)."""
    reply = server.get("/metrics", timeout=REQUEST_TIMEOUT)
    assert reply.status == 200, reply
    for family in text_string_to_metric_families(reply.body.decode("utf-8")):
        if family.name == "symbolsrv_miss_log_pending_rows":
            return family.samples[0].value
    raise AssertionError(f"no symbolsrv_miss_log_pending_rows in {reply.body[:500]!r}")


def table_counts(path: str) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path, timeout=1)) as conn:
        rows = conn.execute("SELECT debug_file, debug_id, symbol_file, SUM(count)"
                            " FROM missing_symbols GROUP BY debug_file, debug_id, symbol_file")
        return {"/".join(row[:3]): row[3] for row in rows}


def test_misses_answer_while_the_database_is_locked_and_are_written_after(
    start_symbolsrv, symbol_buckets, moto
):
    server = start_symbolsrv(settings={"symbolsrv.miss_flush_interval_seconds": "0.2"})
    assert server.sqlite_path
    order = request_order()
    assert len(order) == 30 and collections.Counter(order) == dict(zip(KEYS, TIMES))
    in_a = symbol_buckets.files_in(A)[0]

    lock = sqlite3.connect(server.sqlite_path, isolation_level=None, timeout=5)
    locked = True
    try:
        lock.execute("BEGIN EXCLUSIVE")
        # First every key once: once a flush has taken some of them, fewer than ten are
        # pending (a repeat of a key in flight would be pending again, hence distinct keys).
        first, rest = order[:len(KEYS)], order[len(KEYS):]
        assert sorted(first) == sorted(KEYS)
        for key in first:
            reply = server.get("/" + key, timeout=REQUEST_TIMEOUT)
            assert (reply.status, reply.body) == (404, SYMBOL_NOT_FOUND), (key, reply)
        deadline = time.monotonic() + POLL_DEADLINE
        while pending_rows(server) == len(KEYS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pending_rows(server) < len(KEYS), "the flush thread never took a batch"
        # The flush thread is now stuck in SQLite's busy wait; requests go on answering.
        for key in rest:
            reply = server.get("/" + key, timeout=REQUEST_TIMEOUT)
            assert (reply.status, reply.body) == (404, SYMBOL_NOT_FOUND), (key, reply)
        hit = server.get("/" + in_a, timeout=REQUEST_TIMEOUT)
        assert hit.status == 302, hit
        assert hit.header("location") == public_url(moto.endpoint, A, in_a)
        # /__heartbeat__ may report the database failing; /missingsymbols.csv would flush
        # and wait on the lock, so neither is asked here. Nothing got through the lock:
        assert lock.execute("SELECT COUNT(*) FROM missing_symbols").fetchone()[0] == 0
        lock.execute("ROLLBACK")
        locked = False
    finally:
        if locked:
            lock.execute("ROLLBACK")
        lock.close()

    expected = {key: times for key, times in zip(KEYS, TIMES)}
    deadline = time.monotonic() + POLL_DEADLINE
    counts = table_counts(server.sqlite_path)
    while counts != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        counts = table_counts(server.sqlite_path)
    assert counts == expected, server.log_tail()

    # Once written, counts stay exact: nothing is written twice by a later flush.
    assert server.terminate() == 0
    assert table_counts(server.sqlite_path) == expected
