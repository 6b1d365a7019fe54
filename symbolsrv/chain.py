"""StorageChain: where is this key? Asks the configured locations, answers in INI order.

Locations may be asked all at once (latency of the slowest needed, not the sum), but a
lower-ranked hit only wins once every higher-ranked location has said absent or failed.
Identical concurrent lookups share one round trip; answers are cached; failures never are.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Sequence

from symbolsrv.breaker import CircuitBreaker
from symbolsrv.cache import MISSING, NoCache
from symbolsrv.errors import ConfigurationError, StorageError, StorageUnavailable
from symbolsrv.keys import SymbolKey
from symbolsrv.location_options import redact
from symbolsrv.placement import Placement, split_placement
from symbolsrv.singleflight import SingleFlight
from symbolsrv.storage import Hit, Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    """One answer in a lookup trace: which location, its rank, what it said, how long it took."""

    location: str
    rank: int
    # hit, "hit (as sent)" (found under the id as the client spelled it), absent, error,
    # circuit-open, timeout; or for the cache: hit/absent
    outcome: str
    seconds: float


# Cache keys of lookups that left forwarding locations out (chain.locate(forward=False)).
OWN_PREFIX = "own:"


def _no_observer(location: str, outcome: str, seconds: float) -> None:
    pass


def _name_apart(storages: Sequence[Storage]) -> None:
    """Give locations with the same name (two prefixes of one bucket, or one store listed twice
    with different casings) distinct ones, `s3:org-symbols#2`: the heartbeat's checks and the
    metrics' labels are keyed by name."""
    seen: dict[str, int] = {}
    for storage in storages:
        count = seen[storage.name] = seen.get(storage.name, 0) + 1
        if count > 1:
            try:
                storage.name = f"{storage.name}#{count}"
            except AttributeError:
                raise ConfigurationError(
                    f"two locations are named {storage.name!r} and its plugin cannot rename one"
                ) from None


class StorageChain:
    def __init__(
        self,
        regular: Sequence[Storage],
        try_: Sequence[Storage] = (),
        *,
        cache=None,
        concurrent: bool = False,
        deadline_seconds: float = 10.0,
        breaker_failures: int = 0,
        breaker_reset_seconds: float = 30.0,
        observer=_no_observer,
        placements: Sequence[Placement] | None = None,
    ):
        """`placements` holds each location's layout and casing, regular then try ones, in
        order; None means the default (flat, casing=auto) for all."""
        self.regular = tuple(regular)
        self.try_ = tuple(try_)
        placements = tuple(placements) if placements is not None else (Placement(),) * len(self.all)
        if len(placements) != len(self.all):
            raise ValueError("one placement per location")
        self.placements = {id(s): p for s, p in zip(self.all, placements)}
        self.cache = cache if cache is not None else NoCache()
        self.deadline_seconds = deadline_seconds
        # observer(location, outcome, seconds) after every storage answer: metrics hook it.
        self.observer = observer
        self.breakers = {
            id(s): CircuitBreaker(breaker_failures, breaker_reset_seconds) for s in self.all
        }
        self._flights = SingleFlight()
        self._executor = None
        if concurrent and len(self.all) > 1:
            self._executor = ThreadPoolExecutor(
                max_workers=min(64, 8 * len(self.all)), thread_name_prefix="symbolsrv-lookup"
            )

    @classmethod
    def from_locations(cls, cfg, pm, cache=None) -> "StorageChain":
        """Build one storage per configured location URL through the storage hook."""

        placements: list[Placement] = []

        def build(location: str) -> Storage:
            # layout= and casing= are core's (symbolsrv/placement.py); the rest is the plugin's.
            plugin_location, placement = split_placement(location)
            storage = pm.hook.symbolsrv_storage_for(location=plugin_location, cfg=cfg)
            if storage is None:
                raise ConfigurationError(f"no plugin handles location {redact(location)!r}; "
                                         "is its plugin in symbolsrv.plugins?")
            placements.append(placement)
            return storage

        regular = [build(loc) for loc in cfg.locations]
        try_ = [build(loc) for loc in cfg.try_locations]
        _name_apart(regular + try_)
        return cls(
            regular,
            try_,
            placements=placements,
            cache=cache,
            concurrent=cfg.concurrent_lookups,
            deadline_seconds=cfg.lookup_deadline_seconds,
            breaker_failures=cfg.breaker_failures,
            breaker_reset_seconds=cfg.breaker_reset_seconds,
        )

    @property
    def all(self) -> tuple[Storage, ...]:
        return self.regular + self.try_

    def breaker(self, storage: Storage) -> CircuitBreaker:
        return self.breakers[id(storage)]

    def placement(self, storage: Storage) -> Placement:
        return self.placements[id(storage)]

    @staticmethod
    def cache_key(key: SymbolKey, include_try: bool) -> str:
        return ("try:" if include_try else "") + key.path

    def forget(self, key: SymbolKey, alternate: SymbolKey | None = None) -> None:
        """Drop cached answers for key (a fresh upload or deletion must show at once): with and
        without try locations, with and without forwarding ones, and the misses of an as-sent
        spelling (purging names the key as the client spells it)."""
        for include_try in (False, True):
            names = {self.cache_key(key, include_try),
                     self.miss_cache_key(key, include_try, alternate)}
            for name in names:
                self.cache.delete(name)
                self.cache.delete(OWN_PREFIX + name)

    def locate(
        self,
        key: SymbolKey,
        include_try: bool = False,
        refresh: bool = False,
        trace: list[Step] | None = None,
        alternate: SymbolKey | None = None,
        forward: bool = True,
    ) -> Hit | None:
        """Return the Hit of the highest-ranked location holding key; None if all said absent.

        `forward=False` leaves out locations that forward to another symbol server (a storage
        with `forwards = True`: the HTTP plugin): the request came from one (README: loop
        protection). Such answers are cached apart.

        Every regular location ranks above every try location. A failing location is
        logged and skipped; if no later location has the key, StorageUnavailable is
        raised, because "absent" would be a lie a client may cache. `refresh` skips the
        cache and stores the fresh answer. A `trace` list receives one Step per answer
        (and the lookup runs on its own, outside single-flight, so the trace is its own).

        `alternate` is the key as the client spelled it when that differs from `key` (a
        mixed-case id, field case C-02). Each location is asked for the forms its placement
        names (symbolsrv/placement.py; by default `key`, then `alternate`) in order, in the
        same per-location task, so ranking and concurrency are unchanged. A hit of any form
        is cached under `key`'s cache key (it names the same object); a miss under
        miss_cache_key(), because a miss of `key` alone says nothing about `alternate` and
        must not hide it.
        """
        if alternate == key:
            alternate = None
        cache_key = self.cache_key(key, include_try)
        miss_key = self.miss_cache_key(key, include_try, alternate)
        if not forward:
            cache_key, miss_key = OWN_PREFIX + cache_key, OWN_PREFIX + miss_key
        if not refresh:
            cached = self.cache.get(cache_key)
            if miss_key != cache_key and (cached is MISSING or cached is None):
                # Not cached, or a miss of the canonical key alone: a miss of both forms?
                cached = self.cache.get(miss_key)
            if cached is not MISSING:
                if trace is not None:
                    trace.append(Step("cache", 0, "hit" if cached else "absent", 0.0))
                return cached
        storages = self.all if include_try else self.regular
        if trace is not None:
            return self._lookup(key, alternate, storages, cache_key, miss_key, trace, forward)
        return self._flights.do(
            miss_key,
            lambda: self._lookup(key, alternate, storages, cache_key, miss_key, None, forward),
        )

    @classmethod
    def miss_cache_key(cls, key: SymbolKey, include_try: bool,
                       alternate: SymbolKey | None) -> str:
        """Where a miss is cached: the cache key, plus the as-sent id when it was also asked."""
        cache_key = cls.cache_key(key, include_try)
        if alternate is None or alternate == key:
            return cache_key
        return f"{cache_key}|as-sent:{alternate.debug_id}"

    def _lookup(self, key, alternate, storages, cache_key, miss_key, trace,
                forward=True) -> Hit | None:
        # Only locations that may hold the key are asked (a layout=debuginfod location holds
        # only /buildid/ keys; a forwarding one is left out for a request that was forwarded):
        # the others are absent without a request, a breaker check, a metric or a trace step,
        # so their health never decides another kind of request.
        asked = [(rank, s, forms) for rank, s in enumerate(storages, 1)
                 if (forward or not getattr(s, "forwards", False))
                 and (forms := self.placement(s).stored_keys(key, alternate))]
        failed: list[str] = []
        if self._executor is None or len(asked) <= 1:
            answers = (self._ask_or_error(s, rank, key, forms, trace) for rank, s, forms in asked)
        else:
            answers = self._ask_all(asked, key, trace)
        try:
            for (_, storage, _), answer in zip(asked, answers):
                if isinstance(answer, StorageError):
                    failed.append(storage.name)
                elif answer is not None:
                    # A hit that won only because a better location failed is not cached:
                    # the better location must win again as soon as it is back.
                    if not failed:
                        self.cache.put(cache_key, answer)
                    return answer
        finally:
            answers.close()
        if failed:
            raise StorageUnavailable(failed)
        self.cache.put(miss_key, None)
        return None

    def _ask_all(self, asked, key, trace):
        """Yield each storage's answer in rank order while all of them work concurrently."""
        started = time.monotonic()
        deadline = started + self.deadline_seconds
        futures = [
            self._executor.submit(self._ask_or_error, s, rank, key, forms, trace)
            for rank, s, forms in asked
        ]
        try:
            for (rank, storage, _), future in zip(asked, futures):
                try:
                    yield future.result(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    # Not a breaker failure here: the worker records its own when the storage's
                    # timeout fires, and one slow request must not count twice.
                    log.warning("storage %s: no answer within the %.1fs lookup deadline for %s",
                                storage.name, self.deadline_seconds, key.path)
                    self._record(storage.name, rank, "timeout", time.monotonic() - started, trace)
                    yield StorageError(storage.name, "lookup deadline exceeded")
        finally:
            for future in futures:
                future.cancel()  # lower-ranked lookups no one waits for any more

    def _ask_or_error(self, storage, rank, key, forms, trace) -> Hit | None | StorageError:
        """Ask one location for each stored form of key in turn (`forms`, from its placement:
        by default the canonical id, then the id byte for byte as the client sent it, for a
        case-sensitive mirror storing `%08X%x` code ids, field case C-02)."""
        breaker = self.breaker(storage)
        if not breaker.allow():
            self._record(storage.name, rank, "circuit-open", 0.0, trace)
            return StorageError(storage.name, "circuit open")
        started = time.perf_counter()
        outcome = "hit"
        try:
            try:
                hit = None
                for form, stored in forms:
                    hit = storage.locate(stored)
                    if hit is not None:
                        outcome = f"hit ({form})" if form else "hit"
                        break
            except StorageError:
                raise
            except Exception as exc:
                # A plugin bug is a fault of that location, not a 500 and never "absent"; it
                # must also count, or a half-open probe that crashes would wedge the circuit.
                log.exception("storage %s raised unexpectedly for %s", storage.name, key.path)
                raise StorageError(storage.name, exc) from exc
        except StorageError as exc:
            self._record(storage.name, rank, "error", time.perf_counter() - started, trace)
            log.warning("storage %s failed for %s: %s", storage.name, key.path, exc.original)
            if breaker.record_failure():
                log.error("storage %s: circuit opened for %.0fs after repeated failures",
                          storage.name, breaker.reset_seconds)
            return exc
        # Metrics see "hit" for either spelling; the trace says which one it was.
        self._record(storage.name, rank, "absent" if hit is None else "hit",
                     time.perf_counter() - started, trace,
                     "absent" if hit is None else outcome)
        breaker.record_success()
        return hit

    def _record(self, location, rank, outcome, seconds, trace, trace_outcome=None) -> None:
        self.observer(location, outcome, seconds)
        if trace is not None:
            trace.append(Step(location, rank, trace_outcome or outcome, seconds))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
