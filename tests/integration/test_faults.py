"""Storage faults on real servers: S3 going away and coming back, and a location that hangs.

A failing location is never an "absent": a key no healthy location holds is a 503 with
Retry-After, not a 404 (which clients cache), and nothing is logged as missing.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.integration.apps import MEASUREMENTS, SymbolsrvProcess
from tests.integration.expect import SYMBOL_NOT_FOUND
from tests.integration.s3data import A, C, s3_client
from tests.servers import MotoServer, aws_env

pytestmark = pytest.mark.integration

IN_A = "/xul.pdb/88FD491257B2E0F54C4C44205044422E1/xul.sym"
IN_C = "/libEGL.dll/6A4B8EEE10000/libEGL.dl_"
NOWHERE = "/yul.pdb/44E4EC8C2F41492B9369D6B9A059577C2/yul.sym?code_file=yul.dll&code_id=1"
LOOKUP_DEADLINE = 9.5  # seconds: symbolsrv.lookup_deadline_seconds (10) minus a margin


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung endpoint)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)  # kept open, never read from, never answered
            self.accepted += 1

    def close(self):
        self.sock.close()
        for conn in self._conns:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def timed_get(server, target, method="GET"):
    started = time.monotonic()
    reply = server.request(method, target)
    return reply, time.monotonic() - started


def assert_unavailable(reply):
    assert reply.status == 503, (reply.status, reply.body)
    assert reply.header("Retry-After") == "30"  # symbolsrv.retry_after_seconds default


def test_s3_outage_is_503_with_retry_after_and_recovery_is_immediate(start_symbolsrv,
                                                                     symbol_buckets):
    with MotoServer() as s3:
        symbol_buckets.upload(s3_client(s3.endpoint))
        server = start_symbolsrv(endpoint=s3.endpoint)
        assert server.get(IN_A).status == 302
        # Lower-ranked lookups of that request run on after A answered; let them finish
        # before S3 goes, so that every failure counted below is one of this test's.
        time.sleep(0.5)

        s3.stop()
        # Four failing lookups (at once: a refused connection takes boto3 up to ~2.5 s with
        # its retry), under the default circuit threshold of 5 failures per location, so the
        # circuits stay closed and recovery needs no probe.
        requests = [(IN_A + "?_refresh=1", "GET"), (IN_C, "GET"), (IN_C, "HEAD"), (NOWHERE, "GET")]
        with ThreadPoolExecutor(len(requests)) as pool:
            answers = list(pool.map(lambda r: timed_get(server, *r), requests))
        for (target, method), (reply, seconds) in zip(requests, answers):
            assert_unavailable(reply)
            # Ended by the storage error, not by the lookup deadline (10 s).
            assert seconds < LOOKUP_DEADLINE, f"{method} {target} took {seconds:.1f} s to fail"
        # Found answers are cached (symbolsrv.cache_hit_seconds): without _refresh a hit seen
        # before the outage still redirects, without asking storage.
        assert server.get(IN_A).status == 302
        assert server.csv_rows("today=1") == []  # a 503 is never logged as missing
        log = server.log_text()
        assert "storage s3:symbols-a failed" in log and "storage s3:symbols-c failed" in log

        s3.start()  # moto comes back empty: buckets and objects again
        symbol_buckets.upload(s3_client(s3.endpoint))
        circuits = json.loads(server.get("/__heartbeat__").body)["circuits"]
        assert set(circuits.values()) == {"closed"}, circuits
        # Failures were not remembered: each answers from storage at once.
        assert server.get(IN_A + "?_refresh=1").status == 302
        reply = server.get(IN_C)
        assert reply.status == 302 and urlsplit(reply.header("Location")).path.startswith(
            f"/{C.name}/v1/")
        assert server.head(IN_C).status == 200
        assert server.get(NOWHERE).body == SYMBOL_NOT_FOUND
        assert server.csv_rows("today=1") == [
            ["yul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "yul.dll", "1"]]


@pytest.fixture(scope="module")
def behind_a_hanging_location(moto, symbol_buckets):
    """Answers of symbolsrv over [a location that never answers, timeout 1 s; bucket A] to a
    GET of a key A holds and a GET of a key nobody holds, sent at the same time."""
    with SilentServer() as hang:
        server = SymbolsrvProcess(
            [f"s3://hang-bucket/v1?endpoint_url=http://127.0.0.1:{hang.port}&timeout_seconds=1",
             A.location],
            env=aws_env(moto.endpoint), name="hang")
        try:
            server.start()
            with ThreadPoolExecutor(2) as pool:
                hit, miss = pool.map(lambda target: timed_get(server, target), [IN_A, NOWHERE])
            rows = server.csv_rows("today=1")
            assert server.terminate() == 0
        finally:
            server.close()
        return {"hit": hit, "miss": miss, "rows": rows, "connections": hang.accepted}


def test_a_hanging_first_location_fails_over_to_the_next_and_never_says_absent(
        behind_a_hanging_location):
    (hit, hit_seconds), (miss, miss_seconds) = (behind_a_hanging_location["hit"],
                                                behind_a_hanging_location["miss"])
    assert hit.status == 302
    assert urlsplit(hit.header("Location")).path.startswith(f"/{A.name}/v1/")
    assert_unavailable(miss)
    assert behind_a_hanging_location["rows"] == []  # the 503 is not logged as missing
    assert behind_a_hanging_location["connections"] >= 2  # the hung location was asked
    # Ended by the location's own timeout (one attempt of 1 s), not by the lookup deadline (symbolsrv.lookup_deadline_seconds, 10 s).
    assert 1 <= hit_seconds < LOOKUP_DEADLINE and 1 <= miss_seconds < LOOKUP_DEADLINE, (
        hit_seconds, miss_seconds)
    MEASUREMENTS.append(f"hanging location (timeout_seconds=1): hit behind it {hit_seconds:.1f} s,"
                        f" 503 for a missing key {miss_seconds:.1f} s")


def test_a_hanging_location_costs_its_timeout_once(behind_a_hanging_location):
    # Field case C-14: 503 "within the timeout plus about a second" — one attempt per lookup,
    # no silent retries (each would cost the timeout again). Counted, not timed: the two
    # concurrent lookups opened exactly one connection each to the hung endpoint.
    assert behind_a_hanging_location["connections"] == 2


def test_a_hit_that_won_because_a_higher_location_failed_is_not_cached(start_symbolsrv):
    with MotoServer() as upper:
        client = s3_client(upper.endpoint)
        client.create_bucket(Bucket="upper")
        server = start_symbolsrv(locations=[
            f"s3://upper/v1?endpoint_url={upper.endpoint}", A.location])

        upper.stop()
        reply = server.get(IN_A)  # upper failed, A holds the key: A's answer is right now
        if not urlsplit(reply.header("Location", "")).path.startswith(f"/{A.name}/v1/"):
            pytest.fail(f"expected a 302 to bucket A while upper is down: {reply}")

        upper.start()
        client.create_bucket(Bucket="upper")
        client.put_object(Bucket="upper", Key="v1" + IN_A, Body=b"MODULE upper", ACL="public-read")
        again = server.get(IN_A, headers={"Debug": "true"})
        fresh = server.get(IN_A + "?_refresh=1")
        if not urlsplit(fresh.header("Location", "")).path.startswith("/upper/v1/"):
            pytest.fail(f"upper is back and holds the key, yet a fresh lookup says: {fresh}")
        # README: the answer is the highest-ranked hit; failures are never cached.
        assert urlsplit(again.header("Location")).path.startswith("/upper/v1/"), (
            again.header("Symbolsrv-Trace"))
