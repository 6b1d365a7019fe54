"""symbolsrv.db on SQLite in tmp_path: engine, upsert of miss counts, the report query."""

import datetime as dt

import pytest
import sqlalchemy as sa

from symbolsrv import db
from symbolsrv.db import MissCount, MissKey
from symbolsrv.errors import ConfigurationError

DAY = dt.date(2024, 5, 1)
ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = MissKey("xul.pdb", ID, "xul.sym", "xul.dll", "5F3B2C1A9e4000")


def at(hour, minute=0, day=DAY):
    return dt.datetime.combine(day, dt.time(hour, minute))


def miss(key=KEY, count=1, first=None, last=None, day=DAY):
    first = first or at(12)
    return MissCount(day, key, count, first, last or first)


@pytest.fixture
def engine(make_cfg, tmp_path):
    engine = db.make_engine(make_cfg({"sqlalchemy.url": f"sqlite:///{tmp_path}/misses.sqlite"}))
    db.create_tables(engine)
    yield engine
    engine.dispose()


def all_rows(engine):
    t = db.missing_symbols
    with engine.connect() as conn:
        return [
            dict(row._mapping)
            for row in conn.execute(
                sa.select(
                    t.c.day, t.c.debug_file, t.c.debug_id, t.c.symbol_file, t.c.code_file,
                    t.c.code_id, t.c.first_seen, t.c.last_seen, t.c.count,
                ).order_by(t.c.id)
            )
        ]


# ---------------------------------------------------------------- engine


def test_make_engine_creates_the_sqlite_files_directory(make_cfg, tmp_path):
    path = tmp_path / "a" / "b" / "misses.sqlite"
    engine = db.make_engine(make_cfg({"sqlalchemy.url": f"sqlite:///{path}"}))
    db.create_tables(engine)
    db.ping(engine)
    engine.dispose()
    assert path.is_file()


def test_make_engine_uses_wal_on_sqlite(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_make_engine_accepts_in_memory_sqlite(make_cfg):
    engine = db.make_engine(make_cfg({"sqlalchemy.url": "sqlite://"}))
    db.ping(engine)


@pytest.mark.parametrize("url", ["mysql://u@localhost/db", "oracle://u@localhost/db"])
def test_make_engine_rejects_unsupported_databases(make_cfg, url):
    with pytest.raises(ConfigurationError, match="unsupported database"):
        db.make_engine(make_cfg({"sqlalchemy.url": url}))


def test_ping_raises_when_the_database_cannot_be_opened(make_cfg, tmp_path):
    engine = db.make_engine(make_cfg({"sqlalchemy.url": f"sqlite:///{tmp_path}"}))  # a directory
    with pytest.raises(sa.exc.OperationalError):
        db.ping(engine)


# ---------------------------------------------------------------- upsert_misses


def test_upsert_of_nothing_writes_nothing(engine):
    assert db.upsert_misses(engine, []) == 0
    assert all_rows(engine) == []


def test_upsert_inserts_one_row_per_key_with_its_names(engine):
    assert db.upsert_misses(engine, [miss(count=3, first=at(9), last=at(10))]) == 1
    assert all_rows(engine) == [{
        "day": DAY, "debug_file": "xul.pdb", "debug_id": ID, "symbol_file": "xul.sym",
        "code_file": "xul.dll", "code_id": "5F3B2C1A9e4000",
        "first_seen": at(9), "last_seen": at(10), "count": 3,
    }]


def test_upsert_adds_counts_to_an_existing_row(engine):
    db.upsert_misses(engine, [miss(count=3)])
    db.upsert_misses(engine, [miss(count=4)])
    db.upsert_misses(engine, [miss(count=1)])
    rows = all_rows(engine)
    assert len(rows) == 1
    assert rows[0]["count"] == 8


def test_upsert_keeps_earliest_first_seen_and_latest_last_seen(engine):
    db.upsert_misses(engine, [miss(first=at(10), last=at(12))])
    db.upsert_misses(engine, [miss(first=at(8), last=at(11))])  # earlier first, earlier last
    db.upsert_misses(engine, [miss(first=at(11), last=at(15))])  # later first, later last
    (row,) = all_rows(engine)
    assert (row["first_seen"], row["last_seen"], row["count"]) == (at(8), at(15), 3)


def test_upsert_compares_times_within_the_same_second(engine):
    base = at(10)
    db.upsert_misses(engine, [miss(first=base.replace(microsecond=500), last=base.replace(microsecond=500))])
    db.upsert_misses(engine, [miss(first=base.replace(microsecond=20), last=base.replace(microsecond=999))])
    (row,) = all_rows(engine)
    assert row["first_seen"] == base.replace(microsecond=20)
    assert row["last_seen"] == base.replace(microsecond=999)


def test_empty_and_filled_code_fields_are_distinct_rows(engine):
    keys = [
        MissKey("xul.pdb", ID, "xul.sym", "", ""),
        MissKey("xul.pdb", ID, "xul.sym", "xul.dll", ""),
        MissKey("xul.pdb", ID, "xul.sym", "", "5F3B2C1A9e4000"),
        MissKey("xul.pdb", ID, "xul.sym", "xul.dll", "5F3B2C1A9e4000"),
    ]
    db.upsert_misses(engine, [miss(k) for k in keys])
    db.upsert_misses(engine, [miss(k, count=2) for k in keys])
    rows = all_rows(engine)
    assert [(r["code_file"], r["code_id"], r["count"]) for r in rows] == [
        ("", "", 3), ("xul.dll", "", 3), ("", "5F3B2C1A9e4000", 3), ("xul.dll", "5F3B2C1A9e4000", 3),
    ]


def test_names_that_would_collide_when_joined_are_distinct_rows(engine):
    # "a" + "b/c" and "a/b" + "c" must not share a row.
    db.upsert_misses(engine, [
        miss(MissKey("a", "b/c", "d", "", "")),
        miss(MissKey("a/b", "c", "d", "", "")),
    ])
    assert len(all_rows(engine)) == 2


def test_same_key_on_two_days_is_two_rows(engine):
    next_day = DAY + dt.timedelta(days=1)
    db.upsert_misses(engine, [miss(), miss(day=next_day, first=at(1, day=next_day))])
    assert [(r["day"], r["count"]) for r in all_rows(engine)] == [(DAY, 1), (next_day, 1)]


def test_long_and_non_ascii_names_are_stored_exactly(engine):
    key = MissKey("汉" * 200, "A" * 64, "☃" * 200, "ü" * 200, "Z" * 64)
    db.upsert_misses(engine, [miss(key), miss(key, count=2)])
    (row,) = all_rows(engine)
    assert (row["debug_file"], row["symbol_file"], row["code_file"]) == ("汉" * 200, "☃" * 200, "ü" * 200)
    assert row["count"] == 3


def test_upsert_is_one_transaction(engine):
    # A batch that fails halfway leaves no rows behind (the miss log retries the whole batch).
    bad = MissCount(DAY, MissKey("b.pdb", ID, "b.sym", "", ""), None, at(1), at(1))  # count NOT NULL
    with pytest.raises(sa.exc.IntegrityError):
        db.upsert_misses(engine, [miss(), bad])
    assert all_rows(engine) == []


# ---------------------------------------------------------------- missing_rows


def test_missing_rows_are_distinct_ordered_and_for_one_day_only(engine):
    other_day = DAY - dt.timedelta(days=1)
    db.upsert_misses(engine, [
        miss(MissKey("zlib.pdb", ID, "zlib.sym", "", "")),
        miss(MissKey("b.pdb", ID, "b.sym", "b.dll", "")),
        miss(MissKey("b.pdb", ID, "b.pd_", "b.dll", "")),  # same report row as the line above
        miss(MissKey("b.pdb", ID, "b.sym", "", "")),
        miss(MissKey("a.pdb", "FF" + ID[2:], "a.sym", "", "")),
        miss(MissKey("a.pdb", ID, "a.sym", "", "")),
        miss(MissKey("yesterday.pdb", ID, "y.sym", "", ""), day=other_day),
    ])
    assert list(db.missing_rows(engine, DAY)) == [
        ("a.pdb", ID, "", ""),
        ("a.pdb", "FF" + ID[2:], "", ""),
        ("b.pdb", ID, "", ""),
        ("b.pdb", ID, "b.dll", ""),
        ("zlib.pdb", ID, "", ""),
    ]
    assert list(db.missing_rows(engine, other_day)) == [("yesterday.pdb", ID, "", "")]
    assert list(db.missing_rows(engine, DAY + dt.timedelta(days=1))) == []


def test_microsoft_only_keeps_pdb_debug_files_with_sym_symbol_files(engine):
    db.upsert_misses(engine, [
        miss(MissKey("a.pdb", ID, "a.sym", "", "")),
        miss(MissKey("B.PDB", ID, "B.SYM", "", "")),
        miss(MissKey("c.Pdb", ID, "c.sYm", "", "")),
        miss(MissKey("d.pdb", ID, "d.pd_", "", "")),
        miss(MissKey("libe.so", ID, "libe.so.sym", "", "")),
        miss(MissKey("f.pdbx", ID, "f.sym", "", "")),
        miss(MissKey("g.pdb", ID, "g.sym.gz", "", "")),
        miss(MissKey("XUL", ID, "XUL.sym", "", "")),
    ])
    assert [r[0] for r in db.missing_rows(engine, DAY, microsoft_only=True)] == ["B.PDB", "a.pdb", "c.Pdb"]
    assert len(list(db.missing_rows(engine, DAY))) == 8


def test_missing_rows_runs_no_query_until_iterated(make_cfg, tmp_path):
    engine = db.make_engine(make_cfg({"sqlalchemy.url": f"sqlite:///{tmp_path}"}))  # unusable
    rows = db.missing_rows(engine, DAY)
    with pytest.raises(sa.exc.OperationalError):
        next(rows)


def test_report_query_streams_from_the_report_index_without_sorting(engine):
    # 1M rows used to wait seconds for a temporary sort before the first byte (bench/run).
    import datetime as _dt

    import sqlalchemy as _sa

    from symbolsrv.db import missing_symbols as t

    stmt = (
        _sa.select(t.c.debug_file, t.c.debug_id, t.c.code_file, t.c.code_id)
        .where(t.c.day == _dt.date(2026, 12, 2))
        .distinct()
        .order_by(t.c.debug_file, t.c.debug_id, t.c.code_file, t.c.code_id)
    )
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(_sa.text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_missing_symbols_report" in plan
    assert "TEMP B-TREE" not in plan
