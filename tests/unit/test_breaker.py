"""symbolsrv.breaker.CircuitBreaker: open after N consecutive failures, one probe after reset."""

import threading

from symbolsrv.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from tests.unit.clocks import Ticks


def opened(failures=3, reset=30):
    ticks = Ticks()
    breaker = CircuitBreaker(failures, reset, clock=ticks)
    for _ in range(failures):
        breaker.record_failure()
    return breaker, ticks


def test_new_breaker_is_closed_and_allows():
    breaker = CircuitBreaker(3, 30)
    assert breaker.state == CLOSED
    assert breaker.allow() is True


def test_opens_on_the_threshold_failure_and_says_so_once():
    breaker = CircuitBreaker(3, 30, clock=Ticks())
    assert [breaker.record_failure() for _ in range(5)] == [False, False, True, False, False]
    assert breaker.state == OPEN
    assert breaker.allow() is False


def test_success_resets_the_failure_count():
    breaker = CircuitBreaker(3, 30, clock=Ticks())
    for _ in range(10):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state == CLOSED


def test_zero_threshold_never_opens():
    breaker = CircuitBreaker(0, 30, clock=Ticks())
    assert not any(breaker.record_failure() for _ in range(100))
    assert breaker.allow() is True


def test_stays_open_until_the_reset_time():
    breaker, ticks = opened()
    ticks.now += 29.9
    assert breaker.allow() is False
    ticks.now += 0.1
    assert breaker.state == HALF_OPEN


def test_half_open_lets_exactly_one_probe_through():
    breaker, ticks = opened()
    ticks.now += 30
    assert [breaker.allow() for _ in range(5)] == [True, False, False, False, False]


def test_half_open_lets_one_probe_through_under_concurrency():
    breaker, ticks = opened()
    ticks.now += 30
    allowed = []
    start = threading.Barrier(8)

    def ask():
        start.wait()
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(allowed) == [False] * 7 + [True]


def test_successful_probe_closes_the_circuit():
    breaker, ticks = opened()
    ticks.now += 30
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED
    assert all(breaker.allow() for _ in range(3))


def test_failed_probe_reopens_for_a_full_reset_period():
    breaker, ticks = opened()
    ticks.now += 30
    assert breaker.allow()
    assert breaker.record_failure() is True
    assert breaker.state == OPEN
    ticks.now += 29
    assert breaker.allow() is False
    ticks.now += 1
    assert breaker.allow() is True
