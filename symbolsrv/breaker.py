"""A per-location circuit breaker: stop asking a location that keeps failing, probe it later.

While open, the location counts as failed (never as "absent"), so a key nobody healthy has
still gets a 503, not a 404.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    def __init__(self, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.threshold = failures  # 0 disables the breaker
        self.reset_seconds = reset_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return CLOSED
            if self._probing or self.clock() - self._opened_at >= self.reset_seconds:
                return HALF_OPEN
            return OPEN

    def allow(self) -> bool:
        """May this request ask the location? Half-open lets exactly one probe through."""
        if self._opened_at is None:  # fast path, read without the lock
            return True
        with self._lock:
            if self._opened_at is None:
                return True
            if self._probing or self.clock() - self._opened_at < self.reset_seconds:
                return False
            self._probing = True
            return True

    def record_success(self) -> None:
        if self._failures or self._opened_at is not None:
            with self._lock:
                self._failures = 0
                self._opened_at = None
                self._probing = False

    def record_failure(self) -> bool:
        """Count a failure; return True when this one opened (or re-opened) the circuit."""
        with self._lock:
            self._failures += 1
            if self._probing or (self.threshold and self._failures >= self.threshold
                                 and self._opened_at is None):
                self._opened_at = self.clock()
                self._probing = False
                return True
            return False
