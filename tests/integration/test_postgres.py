"""The miss log on a real PostgreSQL: the README's example, exact counts across processes, a
database outage, and SIGTERM with counts still buffered.

symbolsrv runs under waitress over the session's moto buckets; the database is a fresh one on
the session cluster, or a cluster of its own where the test stops PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time

import pytest

from tests.integration.expect import SYMBOL_NOT_FOUND
from tests.integration.replay import replay
from tests.servers import PostgresServer

pytestmark = pytest.mark.integration

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
SEED = "/foo.pdb/448794C699914DB8A8F9B9F88B98D7412/foo.sym?code_file=FOO.dll&code_id=BAR"
SEED_LINE = "foo.pdb,448794C699914DB8A8F9B9F88B98D7412,FOO.dll,BAR"
HIT = "/xul.pdb/88FD491257B2E0F54C4C44205044422E1/xul.sym"  # in bucket A


def miss_rows(url: str) -> list[tuple]:
    """(day, debug_file, debug_id, symbol_file, code_file, code_id, count), read directly."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(
                "SELECT day, debug_file, debug_id, symbol_file, code_file, code_id, count"
                " FROM missing_symbols ORDER BY debug_file, code_file, day"))]
    finally:
        engine.dispose()


def wait_for(predicate, timeout=10.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def test_readme_example_yesterdays_miss_is_in_the_default_report(start_symbolsrv, pg_url):
    utc_today = dt.datetime.now(dt.timezone.utc).date()
    yesterday = utc_today - dt.timedelta(days=1)
    if os.path.exists(LIBFAKETIME):
        # A server living one day in the past records the miss on yesterday's UTC day.
        past = start_symbolsrv(sqlalchemy_url=pg_url, name="yesterday",
                               env={"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "-1d"})
        assert past.get(SEED).status == 404
        assert past.terminate() == 0  # flushes
    else:
        # No libfaketime (Debian package faketime): write yesterday's row the way the miss
        # log does, through the same upsert.
        from sqlalchemy import create_engine

        from symbolsrv import db

        engine = create_engine(pg_url)
        try:
            db.create_tables(engine)
            when = dt.datetime.combine(yesterday, dt.time(12, 0))
            key = db.MissKey("foo.pdb", "448794C699914DB8A8F9B9F88B98D7412", "foo.sym",
                             "FOO.dll", "BAR")
            db.upsert_misses(engine, [db.MissCount(yesterday, key, 1, when, when)])
        finally:
            engine.dispose()

    server = start_symbolsrv(sqlalchemy_url=pg_url)
    reply = server.get(SEED)  # today's real miss, over HTTP
    assert (reply.status, reply.body) == (404, SYMBOL_NOT_FOUND)

    report = server.get("/missingsymbols.csv")
    assert report.status == 200
    assert report.header("Content-Type").startswith("text/csv")
    assert report.header("Content-Disposition") == (
        f'attachment; filename="missing-symbols-{yesterday.isoformat()}.csv"')
    assert report.body.decode() == f"debug_file,debug_id,code_file,code_id\n{SEED_LINE}\n"
    assert server.csv_rows("today=1") == [SEED_LINE.split(",")]
    assert server.csv_rows(f"date={utc_today.isoformat()}") == [SEED_LINE.split(",")]
    assert [(day, count) for day, *_, count in miss_rows(pg_url)] == [(yesterday, 1),
                                                                     (utc_today, 1)]


def test_two_processes_sharing_a_database_count_concurrent_misses_exactly(start_symbolsrv,
                                                                          pg_url):
    first = start_symbolsrv(sqlalchemy_url=pg_url, name="first", wait=False)
    second = start_symbolsrv(sqlalchemy_url=pg_url, name="second", wait=False)
    first.wait_ready(), second.wait_ready()
    target = ("/yul.pdb/44E4EC8C2F41492B9369D6B9A059577C2/yul.sym"
              "?code_file=yul.dll&code_id=5BEDC1471c98000")
    per_process = 300
    results = {}

    def hammer(server):
        results[server.port] = replay(server.port, [target] * per_process, threads=8)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results.values():
        assert {(r.status, r.body) for r in result.results} == {(404, SYMBOL_NOT_FOUND)}

    first.send_sigterm(), second.send_sigterm()
    assert (first.wait_exit(), second.wait_exit()) == (0, 0)  # both flush on SIGTERM
    today = dt.datetime.now(dt.timezone.utc).date()
    assert miss_rows(pg_url) == [(today, "yul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2",
                                  "yul.sym", "yul.dll", "5BEDC1471c98000", 2 * per_process)]


def test_misses_during_a_database_outage_are_404_and_written_when_it_returns(start_symbolsrv):
    with PostgresServer() as pg:
        server = start_symbolsrv(sqlalchemy_url=pg.url)
        keys = [f"/gone{n}.pdb/44E4EC8C2F41492B9369D6B9A059577C2/gone{n}.sym?code_file=gone{n}.dll"
                for n in range(10)]
        pg.stop()

        for target in keys * 5:
            reply = server.get(target)
            assert (reply.status, reply.body) == (404, SYMBOL_NOT_FOUND), target
        assert server.get(HIT).status == 302  # downloads keep working
        health = server.get("/__heartbeat__")
        status = json.loads(health.body)
        assert health.status == 503 and status["checks"]["database"].startswith("error")
        # Polled: a failing flush attempt holds the batch for a moment, then puts it back.
        assert wait_for(lambda: json.loads(server.get("/__heartbeat__").body)["miss_log"]
                        ["pending"] == 10, timeout=5)
        assert server.get("/missingsymbols.csv?today=1").status == 503

        pg.start()

        def all_written():
            rows = miss_rows(pg.url)
            return rows if sum(row[-1] for row in rows) == 50 else None

        rows = wait_for(all_written, timeout=10)  # the next flush (every second) writes them
        assert rows, miss_rows(pg.url)
        assert sorted((r[1], r[4], r[6]) for r in rows) == sorted(
            (f"gone{n}.pdb", f"gone{n}.dll", 5) for n in range(10))
        assert server.csv_rows("today=1") == sorted(
            [f"gone{n}.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", f"gone{n}.dll", ""]
            for n in range(10))
        assert server.terminate() == 0


def test_sigterm_writes_the_buffered_counts_before_exit(start_symbolsrv, pg_url):
    server = start_symbolsrv(sqlalchemy_url=pg_url,
                             settings={"symbolsrv.miss_flush_interval_seconds": "60"})
    targets = [f"/late{n}.pdb/44E4EC8C2F41492B9369D6B9A059577C2/late{n}.sym" for n in range(4)]
    for target in targets * 3:
        assert server.get(target).status == 404
    time.sleep(0.5)
    assert miss_rows(pg_url) == []  # still buffered: the next flush is a minute away

    assert server.terminate() == 0
    assert server.exit_seconds < 5
    assert sorted((r[1], r[6]) for r in miss_rows(pg_url)) == [(f"late{n}.pdb", 3)
                                                               for n in range(4)]
