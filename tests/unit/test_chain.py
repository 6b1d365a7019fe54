"""symbolsrv.chain.StorageChain: ordered lookup, failures, try locations, construction."""

import logging
import threading
import time

import pytest

from plugins.storage_local import LocalStorage
from symbolsrv.breaker import CircuitBreaker
from symbolsrv.chain import StorageChain
from symbolsrv.errors import ConfigurationError, StorageError, StorageUnavailable
from symbolsrv.keys import SymbolKey
from symbolsrv.plugin_manager import make_plugin_manager
from symbolsrv.storage import Hit

KEY = SymbolKey("xul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "xul.sym")


class FakeStorage:
    """`behaviour` is "hit", "absent" or "fail"; every call is appended to a shared log."""

    def __init__(self, name, behaviour, log):
        self.name = name
        self.behaviour = behaviour
        self.log = log

    def locate(self, key):
        self.log.append(self.name)
        if self.behaviour == "fail":
            raise StorageError(self.name, "connection refused")
        if self.behaviour == "hit":
            return Hit(self.name, url=f"https://{self.name}/{key.path}")
        return None

    def ping(self):
        pass


def make_chain(regular, try_=()):
    """regular/try_ are sequences of (name, behaviour); returns (chain, call log)."""
    calls = []
    chain = StorageChain(
        tuple(FakeStorage(n, b, calls) for n, b in regular),
        tuple(FakeStorage(n, b, calls) for n, b in try_),
    )
    return chain, calls


def test_first_hit_in_order_wins_and_later_locations_are_not_asked():
    chain, calls = make_chain([("a", "absent"), ("b", "hit"), ("c", "hit")])
    assert chain.locate(KEY).location == "b"
    assert calls == ["a", "b"]


def test_every_location_absent_is_none():
    chain, calls = make_chain([("a", "absent"), ("b", "absent")])
    assert chain.locate(KEY) is None
    assert calls == ["a", "b"]


def test_failing_location_followed_by_a_hit_is_the_hit(caplog):
    chain, calls = make_chain([("a", "fail"), ("b", "hit")])
    with caplog.at_level(logging.WARNING, logger="symbolsrv.chain"):
        assert chain.locate(KEY).location == "b"
    assert calls == ["a", "b"]
    assert "storage a failed" in caplog.text


def test_hit_before_a_failing_location_is_the_hit():
    chain, calls = make_chain([("a", "hit"), ("b", "fail")])
    assert chain.locate(KEY).location == "a"
    assert calls == ["a"]


def test_failure_with_all_others_absent_raises_storage_unavailable_naming_it():
    chain, _ = make_chain([("a", "absent"), ("b", "fail"), ("c", "absent")])
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY)
    assert exc_info.value.failed == ["b"]
    assert "b" in str(exc_info.value)


def test_every_failed_location_is_listed_in_order():
    chain, _ = make_chain([("a", "fail"), ("b", "absent"), ("c", "fail")])
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY)
    assert exc_info.value.failed == ["a", "c"]


def test_try_locations_are_not_searched_without_include_try():
    chain, calls = make_chain([("a", "absent")], try_=[("t", "hit")])
    assert chain.locate(KEY) is None
    assert calls == ["a"]


def test_try_locations_are_searched_after_every_regular_one():
    chain, calls = make_chain([("a", "absent"), ("b", "absent")], try_=[("t1", "absent"), ("t2", "hit")])
    assert chain.locate(KEY, include_try=True).location == "t2"
    assert calls == ["a", "b", "t1", "t2"]


def test_regular_hit_wins_over_try_hit():
    chain, calls = make_chain([("a", "absent"), ("b", "hit")], try_=[("t", "hit")])
    assert chain.locate(KEY, include_try=True).location == "b"
    assert calls == ["a", "b"]


def test_failing_try_location_with_no_hit_is_unavailable():
    chain, _ = make_chain([("a", "absent")], try_=[("t", "fail")])
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY, include_try=True)
    assert exc_info.value.failed == ["t"]


def test_failing_try_location_is_not_asked_for_a_regular_request():
    chain, _ = make_chain([("a", "absent")], try_=[("t", "fail")])
    assert chain.locate(KEY) is None


def test_all_lists_regular_then_try_locations():
    chain, _ = make_chain([("a", "absent")], try_=[("t", "absent")])
    assert [s.name for s in chain.all] == ["a", "t"]


def test_from_locations_builds_one_storage_per_location_in_order(make_cfg, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "try").mkdir()
    cfg = make_cfg({
        "symbolsrv.locations": f"file://{tmp_path}/two file://{tmp_path}/one",
        "symbolsrv.try_locations": f"file://{tmp_path}/try",
    })
    chain = StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))
    assert all(isinstance(s, LocalStorage) for s in chain.all)
    assert [s.name for s in chain.regular] == [f"file:{tmp_path}/two", f"file:{tmp_path}/one"]
    assert [s.name for s in chain.try_] == [f"file:{tmp_path}/try"]


@pytest.mark.parametrize("location", ["ftp://symbols.example.test/v1", "azure://container/v1"])
def test_location_no_plugin_handles_is_a_configuration_error(make_cfg, location):
    cfg = make_cfg({"symbolsrv.locations": location})
    with pytest.raises(ConfigurationError, match="no plugin handles location"):
        StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))


def test_location_without_a_scheme_is_a_configuration_error(make_cfg):
    with pytest.raises(ConfigurationError, match=r"'bucket/v1' is not a URL \(scheme://"):
        make_cfg({"symbolsrv.locations": "bucket/v1"})


def test_unknown_scheme_in_try_locations_is_a_configuration_error(make_cfg):
    cfg = make_cfg({"symbolsrv.try_locations": "ftp://example.test/try"})
    with pytest.raises(ConfigurationError, match="ftp://example.test/try"):
        StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))


def test_s3_location_without_its_plugin_is_a_configuration_error(make_cfg):
    cfg = make_cfg({"symbolsrv.locations": "s3://org-symbols/v1"})
    with pytest.raises(ConfigurationError, match="s3://org-symbols/v1"):
        StorageChain.from_locations(cfg, make_plugin_manager(("plugins.storage_local",)))


# ---------------------------------------------------------------- concurrent lookups


class SlowStorage(FakeStorage):
    """Answers like FakeStorage, after `delay` seconds or when `release` is set."""

    def __init__(self, name, behaviour, log, delay):
        super().__init__(name, behaviour, log)
        self.delay = delay
        self.release = threading.Event()

    def locate(self, key):
        self.release.wait(self.delay)
        return super().locate(key)


@pytest.fixture
def chains():
    """Build chains (closed at teardown): chains(regular, try_=(), **kwargs)."""
    built = []

    def build(regular, try_=(), **kwargs):
        chain = StorageChain(regular, try_, **kwargs)
        built.append(chain)
        return chain

    yield build
    for chain in built:
        for storage in chain.all:
            if isinstance(storage, SlowStorage):
                storage.release.set()
        chain.close()


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
@pytest.mark.parametrize(
    "regular, try_, include_try, expected",
    [
        ([("a", "absent"), ("b", "hit"), ("c", "hit")], [], False, "b"),
        ([("a", "fail"), ("b", "hit")], [], False, "b"),
        ([("a", "hit"), ("b", "fail")], [], False, "a"),
        ([("a", "absent")], [("t", "hit")], False, None),
        ([("a", "absent")], [("t", "hit")], True, "t"),
        ([("a", "hit")], [("t", "hit")], True, "a"),
        ([("a", "absent"), ("b", "absent")], [("t", "fail")], False, None),
    ],
)
def test_answer_is_the_same_whether_locations_are_asked_in_turn_or_at_once(
    chains, concurrent, regular, try_, include_try, expected
):
    calls = []
    chain = chains(
        [FakeStorage(n, b, calls) for n, b in regular],
        [FakeStorage(n, b, calls) for n, b in try_],
        concurrent=concurrent,
    )
    hit = chain.locate(KEY, include_try=include_try)
    assert (hit.location if hit else None) == expected


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
def test_failure_with_others_absent_is_unavailable_in_both_modes(chains, concurrent):
    calls = []
    chain = chains(
        [FakeStorage("a", "absent", calls), FakeStorage("b", "fail", calls)],
        [FakeStorage("t", "fail", calls)],
        concurrent=concurrent,
    )
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY, include_try=True)
    assert exc_info.value.failed == ["b", "t"]


def test_concurrent_lookup_waits_for_a_slow_higher_ranked_hit(chains):
    calls = []
    slow = SlowStorage("slow", "hit", calls, delay=0.1)
    fast = FakeStorage("fast", "hit", calls)
    chain = chains([slow, fast], concurrent=True)
    assert chain.locate(KEY).location == "slow"
    assert sorted(calls) == ["fast", "slow"]  # both were asked


def test_concurrent_lookup_asks_every_location_at_the_same_time(chains):
    # Each location waits until all three are inside locate() at once: asked in turn, the
    # first would wait alone and its barrier would break. Proven by meeting, not by timing.
    barrier = threading.Barrier(3)
    met = []

    class MeetingStorage:
        def __init__(self, name):
            self.name = name

        def locate(self, key):
            barrier.wait(timeout=10)
            met.append(self.name)
            return None

        def ping(self):
            pass

    chain = chains([MeetingStorage(n) for n in "abc"], concurrent=True)
    assert chain.locate(KEY) is None
    assert sorted(met) == ["a", "b", "c"]


def test_location_past_the_deadline_counts_as_failed(chains):
    calls = []
    stuck = SlowStorage("stuck", "hit", calls, delay=5)
    chain = chains([stuck, FakeStorage("b", "absent", calls)], concurrent=True, deadline_seconds=0.05)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY)
    assert time.monotonic() - started < 4  # the deadline, not the 5 s the location takes
    assert exc_info.value.failed == ["stuck"]


def test_hit_below_a_location_past_the_deadline_wins(chains):
    calls = []
    stuck = SlowStorage("stuck", "hit", calls, delay=5)
    chain = chains([stuck, FakeStorage("b", "hit", calls)], concurrent=True, deadline_seconds=0.05)
    assert chain.locate(KEY).location == "b"


def test_identical_concurrent_lookups_share_one_round_trip(chains):
    calls = []
    slow = SlowStorage("a", "hit", calls, delay=5)
    chain = chains([slow])
    results = []

    def lookup():
        results.append(chain.locate(KEY))

    threads = [threading.Thread(target=lookup) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 2
    while not chain._flights._flights and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # let the other four join the flight
    slow.release.set()
    for thread in threads:
        thread.join(timeout=5)
    assert calls == ["a"]
    assert len(results) == 5 and all(r == results[0] for r in results)


# ---------------------------------------------------------------- existence cache


def test_hit_is_cached_and_served_without_asking_storage(chains, cache, ticks):
    calls = []
    chain = chains([FakeStorage("a", "hit", calls)], cache=cache)
    first = chain.locate(KEY)
    ticks.now += 299
    assert chain.locate(KEY) == first
    assert calls == ["a"]
    ticks.now += 2  # past hit_seconds
    chain.locate(KEY)
    assert calls == ["a", "a"]


def test_absent_is_cached_for_miss_seconds(chains, cache, ticks):
    calls = []
    chain = chains([FakeStorage("a", "absent", calls)], cache=cache)
    assert chain.locate(KEY) is None
    ticks.now += 29
    assert chain.locate(KEY) is None
    assert calls == ["a"]
    ticks.now += 2
    chain.locate(KEY)
    assert calls == ["a", "a"]


def test_failure_is_never_cached(chains, cache):
    calls = []
    storage = FakeStorage("a", "fail", calls)
    chain = chains([storage], cache=cache)
    with pytest.raises(StorageUnavailable):
        chain.locate(KEY)
    storage.behaviour = "hit"
    assert chain.locate(KEY).location == "a"
    assert calls == ["a", "a"]


def test_local_file_hits_are_never_cached(chains, cache, tmp_path):
    calls = []

    class FileStorage(FakeStorage):
        def locate(self, key):
            self.log.append(self.name)
            return Hit(self.name, path=str(tmp_path / "x.sym"))

    chain = chains([FileStorage("f", "hit", calls)], cache=cache)
    chain.locate(KEY)
    chain.locate(KEY)
    assert calls == ["f", "f"]


def test_refresh_skips_the_cache_and_stores_the_fresh_answer(chains, cache):
    calls = []
    storage = FakeStorage("a", "absent", calls)
    chain = chains([storage], cache=cache)
    assert chain.locate(KEY) is None
    storage.behaviour = "hit"  # uploaded since
    assert chain.locate(KEY) is None  # cached "absent"
    assert chain.locate(KEY, refresh=True).location == "a"
    assert chain.locate(KEY).location == "a"
    assert calls == ["a", "a"]


def test_try_and_regular_answers_are_cached_apart(chains, cache):
    calls = []
    chain = chains([FakeStorage("a", "absent", calls)], [FakeStorage("t", "hit", calls)], cache=cache)
    assert chain.locate(KEY) is None
    assert chain.locate(KEY, include_try=True).location == "t"
    assert chain.locate(KEY) is None
    assert chain.locate(KEY, include_try=True).location == "t"
    assert calls == ["a", "a", "t"]


def test_forget_drops_both_cached_answers(chains, cache):
    calls = []
    chain = chains([FakeStorage("a", "hit", calls)], cache=cache)
    chain.locate(KEY)
    chain.locate(KEY, include_try=True)
    chain.forget(KEY)
    chain.locate(KEY)
    chain.locate(KEY, include_try=True)
    assert calls == ["a"] * 4


# ---------------------------------------------------------------- circuit breakers


def test_breaker_opens_after_consecutive_failures_and_skips_the_location(chains, ticks):
    calls = []
    storage = FakeStorage("a", "fail", calls)
    chain = chains([storage], breaker_failures=2, breaker_reset_seconds=30)
    chain.breakers[id(storage)] = CircuitBreaker(2, 30, clock=ticks)
    for _ in range(2):
        with pytest.raises(StorageUnavailable):
            chain.locate(KEY)
    storage.behaviour = "hit"
    with pytest.raises(StorageUnavailable) as exc_info:  # open: not asked, still a 503
        chain.locate(KEY)
    assert exc_info.value.failed == ["a"]
    assert calls == ["a", "a"]
    ticks.now += 30  # half-open: one probe
    assert chain.locate(KEY).location == "a"
    assert chain.locate(KEY).location == "a"
    assert calls == ["a"] * 4


def test_open_breaker_lets_a_lower_ranked_location_answer(chains, ticks):
    calls = []
    broken = FakeStorage("a", "fail", calls)
    chain = chains([broken, FakeStorage("b", "hit", calls)], breaker_failures=1)
    chain.breakers[id(broken)] = CircuitBreaker(1, 30, clock=ticks)
    assert chain.locate(KEY).location == "b"
    assert chain.locate(KEY).location == "b"
    assert calls == ["a", "b", "b"]


def test_breaker_disabled_with_zero_failures(chains):
    calls = []
    storage = FakeStorage("a", "fail", calls)
    chain = chains([storage], breaker_failures=0)
    for _ in range(10):
        with pytest.raises(StorageUnavailable):
            chain.locate(KEY)
    assert len(calls) == 10


class CrashingStorage(FakeStorage):
    """A plugin with a bug: raises something other than StorageError while behaviour is "crash"."""

    def locate(self, key):
        if self.behaviour == "crash":
            self.log.append(self.name)
            raise RuntimeError("unexpected plugin bug")
        return super().locate(key)


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
def test_a_plugin_crash_counts_as_a_location_failure(chains, concurrent):
    calls = []
    crashing = CrashingStorage("a", "crash", calls)
    chain = chains([crashing, FakeStorage("b", "absent", calls)], concurrent=concurrent)
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY)
    assert exc_info.value.failed == ["a"]
    chain = chains([CrashingStorage("a", "crash", calls), FakeStorage("b", "hit", calls)],
                   concurrent=concurrent)
    assert chain.locate(KEY).location == "b"


def test_a_probe_that_crashes_does_not_wedge_the_breaker_open(chains, ticks):
    # An unexpected exception during the half-open probe must not leave the circuit
    # "probing" forever: once the location is healthy again it has to be asked again.
    calls = []
    storage = CrashingStorage("a", "fail", calls)
    chain = chains([storage], breaker_failures=1)
    chain.breakers[id(storage)] = CircuitBreaker(1, 30, clock=ticks)
    with pytest.raises(StorageUnavailable):
        chain.locate(KEY)  # opens the circuit
    ticks.now += 30
    storage.behaviour = "crash"
    with pytest.raises(StorageUnavailable):
        chain.locate(KEY)  # the probe crashes
    storage.behaviour = "hit"
    ticks.now += 30  # another reset period
    assert chain.locate(KEY).location == "a"
    assert calls == ["a", "a", "a"]


def test_observer_sees_every_answer(chains):
    seen = []
    calls = []
    chain = chains(
        [FakeStorage("a", "fail", calls), FakeStorage("b", "absent", calls), FakeStorage("c", "hit", calls)],
        observer=lambda location, outcome, seconds: seen.append((location, outcome)),
    )
    chain.locate(KEY)
    assert seen == [("a", "error"), ("b", "absent"), ("c", "hit")]


def test_trace_lists_each_step_in_rank_order_and_the_cache(chains, cache):
    calls = []
    chain = chains([FakeStorage("a", "absent", calls), FakeStorage("b", "hit", calls)], cache=cache)
    trace = []
    chain.locate(KEY, trace=trace)
    assert [(s.location, s.rank, s.outcome) for s in trace] == [("a", 1, "absent"), ("b", 2, "hit")]
    trace = []
    chain.locate(KEY, trace=trace)
    assert [(s.location, s.rank, s.outcome) for s in trace] == [("cache", 0, "hit")]


# ---------------------------------------------------------------- construction from settings


def test_from_locations_applies_lookup_settings(make_cfg, tmp_path):
    cfg = make_cfg({
        "symbolsrv.locations": f"file://{tmp_path}/a file://{tmp_path}/b",
        "symbolsrv.concurrent_lookups": "true",
        "symbolsrv.lookup_deadline_seconds": "2.5",
        "symbolsrv.breaker_failures": "7",
        "symbolsrv.breaker_reset_seconds": "12",
    })
    chain = StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))
    try:
        assert chain._executor is not None
        assert chain.deadline_seconds == 2.5
        assert {(b.threshold, b.reset_seconds) for b in chain.breakers.values()} == {(7, 12.0)}
    finally:
        chain.close()


def test_from_locations_runs_in_turn_when_concurrency_is_off(make_cfg, tmp_path):
    cfg = make_cfg({
        "symbolsrv.locations": f"file://{tmp_path}/a file://{tmp_path}/b",
        "symbolsrv.concurrent_lookups": "false",
    })
    chain = StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))
    assert chain._executor is None


def test_locations_with_the_same_name_are_named_apart(make_cfg, tmp_path):
    (tmp_path / "s").mkdir()
    uri = (tmp_path / "s").as_uri()
    cfg = make_cfg({"symbolsrv.locations": f"{uri} {uri}?casing=lower",
                    "symbolsrv.try_locations": uri})
    chain = StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))
    assert [s.name for s in chain.all] == [f"file:{tmp_path}/s", f"file:{tmp_path}/s#2",
                                           f"file:{tmp_path}/s#3"]


@pytest.mark.parametrize("location", ["ftp://user:hunter2@example.test/v1", "http://[::1/x"])
def test_location_errors_never_show_a_password_nor_a_traceback(make_cfg, location):
    cfg = make_cfg({"symbolsrv.locations": location})
    with pytest.raises(ConfigurationError) as info:
        StorageChain.from_locations(cfg, make_plugin_manager(cfg.plugins))
    assert "hunter2" not in str(info.value)
