"""Replay request targets against a server over keep-alive HTTP/1.1 connections, concurrently.

Each worker thread owns one http.client connection and takes the next target from a shared
counter, so the order of sending follows the list. Targets go on the wire as written;
redirects are not followed. A response is kept with its status, Location, the body of
non-redirects (short texts) and the time from send to last byte.
"""

from __future__ import annotations

import http.client
import itertools
import statistics
import threading
import time
from dataclasses import dataclass


@dataclass
class Result:
    status: int
    location: str | None
    cache_control: str | None
    body: bytes
    seconds: float


@dataclass
class Replay:
    results: list[Result]
    wall_seconds: float

    @property
    def per_second(self) -> float:
        return len(self.results) / self.wall_seconds

    def latency_ms(self, indices=None) -> dict[str, float]:
        picked = self.results if indices is None else [self.results[i] for i in indices]
        ms = sorted(r.seconds * 1000 for r in picked)
        if not ms:
            return {}
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
        return {"p50": q[49], "p90": q[89], "p99": q[98], "max": ms[-1]}


def replay(port: int, targets: list[str], method: str = "GET", threads: int = 8,
           timeout: float = 30) -> Replay:
    results: list[Result | None] = [None] * len(targets)
    counter = itertools.count()
    errors: list[BaseException] = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            while not errors:
                i = next(counter)  # atomic under the GIL
                if i >= len(targets):
                    return
                started = time.perf_counter()
                conn.request(method, targets[i])
                response = conn.getresponse()
                body = response.read()
                results[i] = Result(response.status, response.getheader("Location"),
                                    response.getheader("Cache-Control"), body,
                                    time.perf_counter() - started)
        except BaseException as exc:  # reported by the caller with the target that failed
            errors.append(exc)
        finally:
            conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, name=f"replay-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return Replay(results, wall)
