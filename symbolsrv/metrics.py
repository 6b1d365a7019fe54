"""Prometheus metrics for /metrics: one registry per app, so tests can build many apps.

Per-location latencies are observed as they happen (the chain's observer hook); everything
that already has a counter elsewhere (outcomes, cache, miss-log, circuits) is read at scrape
time, so the hot path pays nothing twice.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from symbolsrv.breaker import CLOSED, HALF_OPEN, OPEN

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_CIRCUIT_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.location_seconds = Histogram(
            "symbolsrv_location_lookup_seconds",
            "Time a storage location took to answer one existence check, by outcome",
            ["location", "outcome"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.flush_seconds = Histogram(
            "symbolsrv_miss_log_flush_seconds",
            "Time to write one batch of buffered miss counts",
            ["result"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._children = {}

    def observe_location(self, location: str, outcome: str, seconds: float) -> None:
        child = self._children.get((location, outcome))
        if child is None:
            child = self._children[(location, outcome)] = self.location_seconds.labels(
                location, outcome
            )
        child.observe(seconds)

    def observe_flush(self, seconds: float, ok: bool) -> None:
        self.flush_seconds.labels("ok" if ok else "failed").observe(seconds)

    def watch(self, server) -> None:
        """Read the server's own counters at scrape time."""
        self.registry.register(_ServerCollector(server))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ServerCollector:
    def __init__(self, server):
        self.server = server

    def collect(self):
        server = self.server
        requests = CounterMetricFamily(
            "symbolsrv_requests", "Symbol GET requests by outcome", labels=["outcome"]
        )
        for outcome, count in server.counters.snapshot().items():
            requests.add_metric([outcome], count)
        yield requests

        cache = server.chain.cache
        lookups = CounterMetricFamily(
            "symbolsrv_cache_lookups", "Existence-cache lookups by result", labels=["result"]
        )
        lookups.add_metric(["hit"], getattr(cache, "hits", 0))
        lookups.add_metric(["miss"], getattr(cache, "misses", 0))
        yield lookups

        yield GaugeMetricFamily(
            "symbolsrv_miss_log_pending_rows", "Distinct misses buffered, not yet written",
            value=server.misslog.pending,
        )
        yield CounterMetricFamily(
            "symbolsrv_miss_log_dropped", "Misses dropped because the buffer was full",
            value=server.misslog.dropped,
        )
        circuits = GaugeMetricFamily(
            "symbolsrv_circuit_state", "Circuit per location: 0 closed, 1 half-open, 2 open",
            labels=["location"],
        )
        for storage in server.chain.all:
            circuits.add_metric([storage.name], _CIRCUIT_VALUE[server.chain.breaker(storage).state])
        yield circuits
