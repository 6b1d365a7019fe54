"""symbolsrv.singleflight.SingleFlight: concurrent identical calls share one run."""

import threading

import pytest

from symbolsrv.singleflight import SingleFlight


def run_concurrently(flight, key, fn, callers=6):
    """Start `callers` threads calling flight.do(key, fn); fn must block until released."""
    results, errors = [], []

    def call():
        try:
            results.append(flight.do(key, fn))
        except Exception as exc:  # collected for the assertions
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    return threads, results, errors


def wait_for_followers(entered):
    """Wait until the leader is inside fn, then give the other callers time to join it."""
    assert entered.wait(5)
    threading.Event().wait(0.05)


def test_concurrent_callers_share_one_run_and_its_result():
    flight = SingleFlight()
    entered, release = threading.Event(), threading.Event()
    runs = []

    def fn():
        runs.append(1)
        entered.set()
        release.wait(5)
        return object()

    threads, results, errors = run_concurrently(flight, "k", fn)
    wait_for_followers(entered)
    release.set()
    for thread in threads:
        thread.join(5)
    assert runs == [1]
    assert errors == []
    assert len(results) == 6 and all(r is results[0] for r in results)


def test_concurrent_callers_share_the_exception():
    flight = SingleFlight()
    entered, release = threading.Event(), threading.Event()
    runs = []

    def fn():
        runs.append(1)
        entered.set()
        release.wait(5)
        raise LookupError("boom")

    threads, results, errors = run_concurrently(flight, "k", fn)
    wait_for_followers(entered)
    release.set()
    for thread in threads:
        thread.join(5)
    assert runs == [1]
    assert results == []
    assert len(errors) == 6 and all(isinstance(e, LookupError) for e in errors)


def test_later_calls_run_again():
    flight = SingleFlight()
    counter = iter(range(10))
    assert flight.do("k", lambda: next(counter)) == 0
    assert flight.do("k", lambda: next(counter)) == 1


def test_a_failure_does_not_stick_to_the_key():
    flight = SingleFlight()
    with pytest.raises(ValueError):
        flight.do("k", lambda: int("x"))
    assert flight.do("k", lambda: 42) == 42


def test_different_keys_do_not_share():
    flight = SingleFlight()
    inner = []
    # A call for another key made while "a" is in flight runs on its own.
    assert flight.do("a", lambda: inner.append(flight.do("b", lambda: "b")) or "a") == "a"
    assert inner == ["b"]
