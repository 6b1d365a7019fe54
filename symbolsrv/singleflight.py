"""SingleFlight: concurrent identical lookups share one storage round trip."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self):
        self._lock = threading.Lock()
        self._flights: dict[Hashable, Future] = {}

    def do(self, key: Hashable, fn: Callable[[], T]) -> T:
        """Run fn once for all callers asking for `key` at the same time; share its result
        or its exception."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = Future()
        if not leader:
            return flight.result()
        try:
            result = fn()
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            with self._lock:
                del self._flights[key]
