"""Load with a fault halfway: the workload at high concurrency while S3 goes down and comes back.

symbolsrv runs under waitress over the three buckets of its own moto server, with the
existence cache off so that every request really asks S3 (cached answers would hide the
outage). Halfway through, moto is stopped, kept down a moment, restarted and refilled. Every
answer must still be right or an honest 503: never a 500, never a 404 for a stored file,
never a redirect for a missing one, and every 404 "Symbol Not Found" is a counted miss.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time

import pytest

from tests.integration.apps import sqlite_count_sum
from tests.integration.s3data import s3_client
from tests.servers import MotoServer

pytestmark = pytest.mark.integration

REQUESTS = 4000
THREADS = 32
OUTAGE_SECONDS = 1.5
ALLOWED = {
    "hit": {302, 503},
    "legacy-hit": {302, 503},
    "miss": {404, 503},
    "legacy-miss": {404, 503},
    "codeid": {404, 503},  # no code-id index is built here
    "junk": {400, 404, 503},  # some junk is a well-formed key, so it is looked up
}


def test_workload_with_s3_down_halfway_has_no_wrong_answer_and_loses_no_miss(
    start_symbolsrv, symbol_buckets, workload
):
    lines = [w for w in workload[:REQUESTS]]
    with MotoServer() as s3:
        symbol_buckets.upload(s3_client(s3.endpoint))
        server = start_symbolsrv(
            endpoint=s3.endpoint,
            settings={
                "symbolsrv.cache_url": "none",
                "symbolsrv.breaker_reset_seconds": "1",
                "symbolsrv.storage_timeout_seconds": "2",
            },
            name="load",
        )
        results: list[tuple[int, bytes] | None] = [None] * len(lines)
        counter = itertools.count()
        halfway = threading.Event()
        errors: list[BaseException] = []

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                while not errors:
                    i = next(counter)
                    if i >= len(lines):
                        return
                    if i == len(lines) // 2:
                        halfway.set()
                    conn.request("GET", lines[i].target)
                    response = conn.getresponse()
                    results[i] = (response.status, response.read())
            except BaseException as exc:
                errors.append(exc)
            finally:
                conn.close()

        def outage():
            halfway.wait(timeout=120)
            s3.stop()
            time.sleep(OUTAGE_SECONDS)
            s3.start()
            symbol_buckets.upload(s3_client(s3.endpoint))  # moto forgets everything

        fault = threading.Thread(target=outage)
        fault.start()
        pool = [threading.Thread(target=worker) for _ in range(THREADS)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        fault.join()
        assert not errors, errors[0]

        wrong = [
            (line.number, line.label, line.target, status, body[:80])
            for line, (status, body) in zip(lines, results)
            if status not in ALLOWED[line.label]
        ]
        assert wrong == [], f"{len(wrong)} wrong answers, e.g. {wrong[:5]}"
        statuses = [status for status, _ in results]
        assert 500 not in statuses
        assert statuses.count(503) > 0, "the outage never showed: the fault was not exercised"

        # Recovered within the breaker window: a stored file is a redirect again.
        hit = next(line.target for line in lines if line.label == "hit")
        deadline = time.monotonic() + 15
        while server.get(hit).status != 302 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.get(hit).status == 302

        # No miss lost, none counted twice: every "Symbol Not Found" is one count in the table.
        not_found = sum(1 for status, body in results if status == 404 and b"Symbol Not Found" in body)
        assert not_found > 0
        assert sqlite_count_sum(server) == not_found
