"""MissLog: counts GET misses in memory and writes them to the database in batches.

A request only touches a dict under a lock (~1 µs); a background thread upserts the batch.
If the database is down, counts stay buffered and are written when it returns, so a
database fault never slows or breaks a download and no counted miss is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Callable

from symbolsrv import db

log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class MissLog:
    def __init__(
        self,
        engine,
        flush_interval_seconds: float,
        max_rows: int,
        clock: Callable[[], dt.datetime] = utcnow,
        on_flush: Callable[[float, bool], None] = lambda seconds, ok: None,
    ):
        self.engine = engine
        self.flush_interval_seconds = flush_interval_seconds
        self.max_rows = max_rows
        self.clock = clock
        self.on_flush = on_flush  # (seconds, ok) after every database write: metrics
        self.dropped = 0  # distinct new misses refused while the buffer was full
        self._pending: dict[tuple[dt.date, db.MissKey], db.MissCount] = {}
        self._in_flight: dict = {}  # the batch a flush has taken; it may yet come back
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def count(self, key: db.MissKey) -> None:
        """Count one miss now, on today's UTC day."""
        now = self.clock()
        slot = (now.date(), key)
        with self._lock:
            entry = self._pending.get(slot)
            if entry is not None:
                entry.count += 1
                entry.last_seen = now
            elif slot in self._in_flight or len(self._pending) + len(self._in_flight) < self.max_rows:
                self._pending[slot] = db.MissCount(now.date(), key, 1, now, now)
            else:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 10000 == 0:
                    log.error("miss-log buffer full (%d rows): %d misses dropped",
                              self.max_rows, self.dropped)

    def flush(self) -> bool:
        """Write everything buffered. Return False (and keep the counts) if the database failed."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
                self._in_flight = batch
            if not batch:
                return True
            started = time.perf_counter()
            try:
                db.upsert_misses(self.engine, batch.values())
            except Exception as exc:  # any driver error: keep the counts, try again later
                log.warning("miss log: database write failed, %d rows kept for retry: %s",
                            len(batch), exc)
                self._merge_back(batch)
                self.on_flush(time.perf_counter() - started, False)
                return False
            with self._lock:
                self._in_flight = {}
            self.on_flush(time.perf_counter() - started, True)
            return True

    def _merge_back(self, batch) -> None:
        # Rows already counted are never dropped; new ones were admitted only while
        # pending + in-flight stayed under max_rows, so the buffer stays bounded.
        with self._lock:
            self._in_flight = {}
            for slot, entry in batch.items():
                newer = self._pending.get(slot)
                if newer is None:
                    self._pending[slot] = entry
                else:
                    newer.count += entry.count
                    newer.first_seen = min(newer.first_seen, entry.first_seen)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="symbolsrv-misslog", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_seconds):
            self.flush()

    def close(self) -> None:
        """Stop the background thread and write what is left (called at exit and SIGTERM)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.flush_interval_seconds + 5)
            self._thread = None
        if not self.flush():
            log.error("miss log: %d rows could not be written at shutdown", self.pending)
