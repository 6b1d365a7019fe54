"""symbolsrv.misslog.MissLog on SQLite in tmp_path: exact counts, retries, the buffer limit."""

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from symbolsrv import db
from symbolsrv.db import MissKey
from symbolsrv.misslog import MissLog

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEYS = [MissKey(f"m{i}.pdb", ID, f"m{i}.sym", "", "") for i in range(5)]
T0 = dt.datetime(2024, 5, 1, 12, 0, 0)


class Clock:
    """A settable clock for MissLog: returns `now`, then advances it by `step`."""

    def __init__(self, now=T0, step=dt.timedelta(seconds=1)):
        self.now = now
        self.step = step

    def __call__(self):
        now = self.now
        self.now += self.step
        return now


@pytest.fixture
def make_engine(make_cfg, tmp_path):
    engines = []

    def make(path):
        engine = db.make_engine(make_cfg({"sqlalchemy.url": f"sqlite:///{path}"}))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def engine(make_engine, tmp_path):
    engine = make_engine(tmp_path / "misses.sqlite")
    db.create_tables(engine)
    return engine


@pytest.fixture
def broken_engine(make_engine, tmp_path):
    """An engine whose every connection fails: its database path is a directory."""
    return make_engine(tmp_path)


def counts(engine):
    t = db.missing_symbols
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.debug_file, t.c.day, t.c.count))
        return {(r.debug_file, r.day): r.count for r in rows}


def totals(engine):
    total = {}
    for (debug_file, _day), count in counts(engine).items():
        total[debug_file] = total.get(debug_file, 0) + count
    return total


def test_counts_are_buffered_until_flush(engine):
    log = MissLog(engine, 60, 100, clock=Clock())
    log.count(KEYS[0])
    log.count(KEYS[0])
    log.count(KEYS[1])
    assert log.pending == 2
    assert counts(engine) == {}
    assert log.flush() is True
    assert log.pending == 0
    assert counts(engine) == {("m0.pdb", T0.date()): 2, ("m1.pdb", T0.date()): 1}


def test_flush_with_nothing_pending_succeeds_without_touching_the_database(broken_engine):
    assert MissLog(broken_engine, 60, 100).flush() is True


def test_first_and_last_seen_come_from_the_clock(engine):
    log = MissLog(engine, 60, 100, clock=Clock())
    for _ in range(3):
        log.count(KEYS[0])
    log.flush()
    t = db.missing_symbols
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.first_seen, t.c.last_seen)).one()
    assert (row.first_seen, row.last_seen) == (T0, T0 + dt.timedelta(seconds=2))


def test_misses_on_either_side_of_midnight_are_rows_for_two_days(engine):
    clock = Clock(now=dt.datetime(2024, 5, 1, 23, 59, 59))
    log = MissLog(engine, 60, 100, clock=clock)
    log.count(KEYS[0])
    log.count(KEYS[0])
    log.flush()
    assert counts(engine) == {("m0.pdb", dt.date(2024, 5, 1)): 1, ("m0.pdb", dt.date(2024, 5, 2)): 1}


def test_default_clock_is_naive_utc(engine):
    log = MissLog(engine, 60, 100)
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    log.count(KEYS[0])
    log.flush()
    t = db.missing_symbols
    with engine.connect() as conn:
        seen = conn.execute(sa.select(t.c.first_seen)).scalar_one()
    assert seen.tzinfo is None
    assert abs(seen - before) < dt.timedelta(seconds=5)


def test_concurrent_counts_from_8_threads_are_exact(engine):
    log = MissLog(engine, 60, 100, clock=lambda: T0)
    start = threading.Barrier(8)

    def worker(n):
        start.wait()
        for i in range(2000):
            log.count(KEYS[(n + i) % len(KEYS)])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.flush() is True
    assert totals(engine) == {f"m{i}.pdb": 16000 // len(KEYS) for i in range(len(KEYS))}
    assert sum(totals(engine).values()) == 16000


def test_counts_stay_exact_while_the_background_thread_flushes(engine):
    log = MissLog(engine, 0.005, 100, clock=lambda: T0)
    log.start()
    try:
        def worker(n):
            for i in range(2000):
                log.count(KEYS[(n + i) % len(KEYS)])

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        log.close()
    assert sum(totals(engine).values()) == 16000
    assert totals(engine) == {f"m{i}.pdb": 3200 for i in range(len(KEYS))}


def test_background_thread_flushes_without_being_asked(engine):
    log = MissLog(engine, 0.01, 100, clock=Clock())
    log.start()
    try:
        log.count(KEYS[0])
        deadline = time.monotonic() + 3
        while not counts(engine) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert counts(engine) == {("m0.pdb", T0.date()): 1}
    finally:
        log.close()


def test_failed_flush_keeps_counts_and_a_later_flush_writes_them_once(broken_engine, engine):
    log = MissLog(broken_engine, 60, 100, clock=Clock())
    for _ in range(3):
        log.count(KEYS[0])
    log.count(KEYS[1])
    assert log.flush() is False
    assert log.pending == 2
    assert log.flush() is False  # still down: still kept, not doubled
    log.count(KEYS[0])  # counted while the database is away
    log.engine = engine  # the database is back
    assert log.flush() is True
    assert log.flush() is True
    assert totals(engine) == {"m0.pdb": 4, "m1.pdb": 1}


def test_failed_flush_keeps_earliest_first_seen(broken_engine, engine):
    log = MissLog(broken_engine, 60, 100, clock=Clock())
    log.count(KEYS[0])  # T0
    log.flush()  # fails; the T0 entry goes back
    log.count(KEYS[0])  # T0 + 1 s
    log.engine = engine
    log.flush()
    t = db.missing_symbols
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.first_seen, t.c.last_seen, t.c.count)).one()
    assert tuple(row) == (T0, T0 + dt.timedelta(seconds=1), 2)


def test_flush_to_a_dropped_table_keeps_counts_until_the_table_returns(engine):
    log = MissLog(engine, 60, 100, clock=Clock())
    db.missing_symbols.drop(engine)
    log.count(KEYS[0])
    log.count(KEYS[0])
    assert log.flush() is False
    db.metadata.create_all(engine)  # the table returns (alembic_version still says head)
    assert log.flush() is True
    assert log.flush() is True
    assert totals(engine) == {"m0.pdb": 2}


def test_full_buffer_drops_new_keys_and_counts_them(engine):
    log = MissLog(engine, 60, 2, clock=Clock())
    log.count(KEYS[0])
    log.count(KEYS[1])
    log.count(KEYS[2])
    log.count(KEYS[3])
    assert (log.pending, log.dropped) == (2, 2)
    log.flush()
    assert totals(engine) == {"m0.pdb": 1, "m1.pdb": 1}


def test_full_buffer_still_counts_keys_already_held(engine):
    log = MissLog(engine, 60, 2, clock=Clock())
    log.count(KEYS[0])
    log.count(KEYS[1])
    log.count(KEYS[2])  # dropped
    log.count(KEYS[0])
    log.count(KEYS[1])
    assert log.dropped == 1
    log.flush()
    assert totals(engine) == {"m0.pdb": 2, "m1.pdb": 2}


def test_flush_makes_room_for_new_keys(engine):
    log = MissLog(engine, 60, 1, clock=Clock())
    log.count(KEYS[0])
    log.flush()
    log.count(KEYS[1])
    assert log.dropped == 0
    log.flush()
    assert totals(engine) == {"m0.pdb": 1, "m1.pdb": 1}


def test_failed_flush_never_drops_already_counted_keys(broken_engine, engine):
    log = MissLog(broken_engine, 60, 2, clock=Clock())
    log.count(KEYS[0])
    log.count(KEYS[1])
    assert log.flush() is False
    log.count(KEYS[2])  # buffer still full of the kept rows: the new key is dropped
    log.count(KEYS[0])  # a kept key is still counted
    assert (log.pending, log.dropped) == (2, 1)
    log.engine = engine
    assert log.flush() is True
    assert totals(engine) == {"m0.pdb": 2, "m1.pdb": 1}


def fail_inserts(engine, during=lambda: None):
    """Make every INSERT on engine fail, after running `during` (a request counting a miss)."""

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            during()
            raise RuntimeError("database went away mid-flush")

    sa.event.listen(engine, "before_cursor_execute", listener)
    return lambda: sa.event.remove(engine, "before_cursor_execute", listener)


def test_counts_of_a_key_made_during_a_failing_flush_are_added_to_the_kept_ones(engine):
    log = MissLog(engine, 60, 100, clock=Clock())
    log.count(KEYS[0])  # T0
    log.count(KEYS[0])  # T0 + 1 s
    restore = fail_inserts(engine, during=lambda: log.count(KEYS[0]))  # T0 + 2 s
    try:
        assert log.flush() is False
    finally:
        restore()
    assert log.pending == 1
    assert log.flush() is True
    t = db.missing_symbols
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.count, t.c.first_seen, t.c.last_seen)).one()
    assert tuple(row) == (3, T0, T0 + dt.timedelta(seconds=2))


def test_new_keys_arriving_during_a_failing_flush_do_not_grow_the_buffer_past_max_rows(engine):
    # While a flush is in flight the buffer is swapped out, so count() sees it empty. If the
    # flush then fails and the batch is merged back, the buffer must still hold at most
    # max_rows distinct keys; otherwise every failed flush during an outage lets another
    # max_rows new keys in and memory grows without bound.
    log = MissLog(engine, 60, 2, clock=Clock())
    new_keys = iter(KEYS[2:])

    def two_new_misses():  # other request threads, while the upsert runs
        log.count(next(new_keys))
        log.count(next(new_keys))

    log.count(KEYS[0])
    log.count(KEYS[1])
    restore = fail_inserts(engine, during=two_new_misses)
    try:
        assert log.flush() is False
    finally:
        restore()
    assert log.pending <= log.max_rows
    assert log.dropped == 2


@pytest.mark.parametrize("flush_fails", [True, False], ids=["failing-flush", "good-flush"])
def test_a_full_buffer_still_counts_held_keys_while_they_are_being_flushed(engine, flush_fails):
    # max_rows limits only new keys. A miss for a key the buffer already holds must be
    # counted even while a flush has that key in flight, whether the flush then fails
    # (after an outage the buffer is full, so every retry window is such a moment) or not.
    log = MissLog(engine, 60, 2, clock=Clock())
    log.count(KEYS[0])
    log.count(KEYS[1])

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            log.count(KEYS[0])  # a request thread, while the upsert runs
            if flush_fails:
                raise RuntimeError("database went away mid-flush")

    sa.event.listen(engine, "before_cursor_execute", listener, once=True)
    log.flush()
    assert log.flush() is True
    assert log.dropped == 0
    assert totals(engine) == {"m0.pdb": 2, "m1.pdb": 1}


def test_close_flushes_what_is_left_and_stops_the_thread(engine):
    log = MissLog(engine, 60, 100, clock=Clock())
    log.start()
    thread = log._thread
    log.count(KEYS[0])
    log.count(KEYS[0])
    started = time.monotonic()
    log.close()
    assert time.monotonic() - started < 2  # does not wait out the 60 s interval
    assert not thread.is_alive()
    assert totals(engine) == {"m0.pdb": 2}


def test_close_without_start_still_flushes(engine):
    log = MissLog(engine, 60, 100, clock=Clock())
    log.count(KEYS[0])
    log.close()
    assert totals(engine) == {"m0.pdb": 1}


def test_close_with_the_database_down_logs_the_rows_it_could_not_write(broken_engine, caplog):
    log = MissLog(broken_engine, 60, 100, clock=Clock())
    log.count(KEYS[0])
    log.close()
    assert log.pending == 1
    assert "1 rows could not be written at shutdown" in caplog.text


def test_start_twice_runs_one_thread(engine):
    def misslog_threads():
        return sum(t.name == "symbolsrv-misslog" for t in threading.enumerate())

    before = misslog_threads()
    log = MissLog(engine, 60, 100)
    log.start()
    first = log._thread
    log.start()
    try:
        assert log._thread is first
        assert misslog_threads() == before + 1
    finally:
        log.close()
    assert misslog_threads() == before
