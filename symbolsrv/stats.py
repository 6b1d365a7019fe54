"""Per-process counters of symbol GETs by outcome."""

from __future__ import annotations

import threading

from symbolsrv.lookup import OUTCOMES


class RequestCounters:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(OUTCOMES, 0)

    def add(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
