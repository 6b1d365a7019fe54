"""The database: engine, the missing_symbols table and its queries, the code_ids table
(queried by symbolsrv/codeids.py).

SQLAlchemy Core, not ORM: the report streams a million rows (NOTES.md: ORM is 4x slower).
Runs unchanged on SQLite (embedded default) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from symbolsrv.errors import ConfigurationError

metadata = sa.MetaData()

# One row per distinct miss per UTC day. Absent code_file/code_id are '' (not NULL): a NULL
# never conflicts in a unique constraint, so counts would split into duplicate rows.
# The unique key is a hash of the five names, so the index stays small whatever their length.
missing_symbols = sa.Table(
    "missing_symbols",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("debug_file", sa.String(200), nullable=False),
    sa.Column("debug_id", sa.String(64), nullable=False),
    sa.Column("symbol_file", sa.String(200), nullable=False),
    sa.Column("code_file", sa.String(200), nullable=False, server_default=""),
    sa.Column("code_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("day", "key_hash", name="uq_missing_symbols_day_key"),
    # Report order (migration 0003): the CSV streams from the index instead of sorting a day.
    sa.Index("ix_missing_symbols_report", "day", "debug_file", "debug_id", "code_file", "code_id"),
)

# The code-id index (symbolsrv/codeids.py; filled by `symbolsrv index`): one row per `.sym`
# object read from a location, with what its `MODULE` and `INFO CODE_ID` lines say. Rows of
# objects without a code id have code_id '' (so incremental runs don't read them again).
# Lookups match code_file case-insensitively (code_file_key is code_file.lower(), computed in
# Python so SQLite and PostgreSQL agree) and code_id upper-cased. The same code id may be
# indexed from several locations (a regular and a try bucket): the lookup picks by location
# rank, so the unique key is the object, not the code id.
code_ids = sa.Table(
    "code_ids",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("source_hash", sa.String(64), nullable=False),  # sha256(location, object path)
    sa.Column("location", sa.String(1024), nullable=False),  # codeids.location_id(url)
    sa.Column("code_file_key", sa.String(200), nullable=False, server_default=""),
    sa.Column("code_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("code_file", sa.String(200), nullable=False, server_default=""),
    sa.Column("debug_file", sa.String(200), nullable=False),
    sa.Column("debug_id", sa.String(64), nullable=False),
    sa.Column("symbol_file", sa.String(200), nullable=False),
    sa.Column("version", sa.String(200), nullable=False, server_default=""),  # ETag, mtime…
    sa.Column("os", sa.String(32), nullable=False, server_default=""),  # MODULE's, lower-cased
    sa.Column("indexed_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("source_hash", name="uq_code_ids_source"),
    sa.Index("ix_code_ids_code", "code_file_key", "code_id"),
    sa.Index("ix_code_ids_code_id", "code_id"),  # build ids name no file (debuginfod)
    sa.Index("ix_code_ids_location", "location"),
)

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True, slots=True)
class MissKey:
    """What one miss row is keyed by (besides the day)."""

    debug_file: str
    debug_id: str
    symbol_file: str
    code_file: str
    code_id: str

    @property
    def hash(self) -> str:
        text = "\0".join(
            (self.debug_file, self.debug_id, self.symbol_file, self.code_file, self.code_id)
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class MissCount:
    day: dt.date
    key: MissKey
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime


def make_engine(cfg) -> sa.Engine:
    """Create the engine; for SQLite, create the file's directory and allow concurrent use."""
    url = make_url(cfg.sqlalchemy_url)
    if url.get_backend_name() not in _INSERTS:
        raise ConfigurationError(
            f"sqlalchemy.url: unsupported database {url.get_backend_name()!r} "
            "(use sqlite or postgresql)"
        )
    options = {k: v for k, v in cfg.sqlalchemy.items() if k != "sqlalchemy.url"}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
        engine = sa.engine_from_config(
            options, prefix="sqlalchemy.", url=url, connect_args={"timeout": 30}
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.engine_from_config(options, prefix="sqlalchemy.", url=url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the report read while the miss log writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# The newest migration in symbolsrv/migrations/versions; start-up compares it with the database.
SCHEMA_REVISION = "0004"


def create_tables(engine: sa.Engine) -> None:
    """Bring the schema to SCHEMA_REVISION with Alembic (a no-op query when it already is)."""
    if _current_revision(engine) == SCHEMA_REVISION:
        return
    try:
        _upgrade(engine)
    except sa.exc.SQLAlchemyError:
        # Another process started at the same moment and migrated first: fine if it's done.
        if _current_revision(engine) != SCHEMA_REVISION:
            raise


def _current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(engine: sa.Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "symbolsrv:migrations")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # One migrator at a time across every process sharing the database.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(804197)"))
        config.attributes["connection"] = conn
        inspector = sa.inspect(conn)
        if inspector.has_table("missing_symbols") and not inspector.has_table("alembic_version"):
            # Made by create_all before migrations existed (with code_ids: metadata of 0002).
            command.stamp(config, "0002" if inspector.has_table("code_ids") else "0001")
        command.upgrade(config, "head")


def upsert_misses(engine: sa.Engine, counts: Iterable[MissCount]) -> int:
    """Add counts in one transaction: INSERT … ON CONFLICT DO UPDATE count = count + excluded.

    Exact under concurrency from any number of processes (a SELECT-then-UPDATE is not).
    """
    rows = [
        {
            "day": c.day,
            "key_hash": c.key.hash,
            "debug_file": c.key.debug_file,
            "debug_id": c.key.debug_id,
            "symbol_file": c.key.symbol_file,
            "code_file": c.key.code_file,
            "code_id": c.key.code_id,
            "first_seen": c.first_seen,
            "last_seen": c.last_seen,
            "count": c.count,
        }
        for c in counts
    ]
    if not rows:
        return 0
    table = missing_symbols
    stmt = _INSERTS[engine.dialect.name](table)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "key_hash"],
        set_={
            "count": table.c.count + excluded.count,
            "first_seen": sa.case(
                (excluded.first_seen < table.c.first_seen, excluded.first_seen),
                else_=table.c.first_seen,
            ),
            "last_seen": sa.case(
                (excluded.last_seen > table.c.last_seen, excluded.last_seen),
                else_=table.c.last_seen,
            ),
        },
    )
    with engine.begin() as conn:
        conn.execute(stmt, rows)
    return len(rows)


def missing_rows(
    engine: sa.Engine, day: dt.date, microsoft_only: bool = False
) -> Iterator[tuple[str, str, str, str]]:
    """Yield distinct (debug_file, debug_id, code_file, code_id) missed on `day`, streamed.

    A server-side cursor on PostgreSQL; bounded memory whatever the day's size. The query
    runs on the first next(), so callers can catch database errors before answering.
    """
    t = missing_symbols
    stmt = (
        sa.select(t.c.debug_file, t.c.debug_id, t.c.code_file, t.c.code_id)
        .where(t.c.day == day)
        .distinct()
        .order_by(t.c.debug_file, t.c.debug_id, t.c.code_file, t.c.code_id)
    )
    if microsoft_only:
        stmt = stmt.where(
            sa.func.lower(t.c.debug_file).like("%.pdb"),
            sa.func.lower(t.c.symbol_file).like("%.sym"),
        )
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
        for row in result:
            yield tuple(row)


def ping(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


# ------------------------------------------------------------------ missing-symbols API and page

# What /api/v1/missing may sort by; ties are broken by the key columns so pages are stable.
MISSING_SORTS = ("count", "first_seen", "last_seen")
_MISS_KEY_COLUMNS = ("debug_file", "debug_id", "symbol_file", "code_file", "code_id")


@dataclass(frozen=True, slots=True)
class MissingFilter:
    """Which rows of missing_symbols a summary covers: days day_from..day_to inclusive, and
    optionally a case-insensitive substring `q` of debug_file or debug_id and an exact
    `code_file` ('' or None: any)."""

    day_from: dt.date
    day_to: dt.date
    q: str | None = None
    code_file: str | None = None

    def where(self, t=missing_symbols) -> list:
        clauses = [t.c.day >= self.day_from, t.c.day <= self.day_to]
        if self.q:
            # autoescape: % and _ in q are literal characters, not wildcards. icontains is
            # lower(x) LIKE lower(y) on SQLite and ILIKE on PostgreSQL.
            clauses.append(
                sa.or_(
                    t.c.debug_file.icontains(self.q, autoescape=True),
                    t.c.debug_id.icontains(self.q, autoescape=True),
                )
            )
        if self.code_file:
            clauses.append(t.c.code_file == self.code_file)
        return clauses


@dataclass(frozen=True, slots=True)
class MissingSummary:
    """Misses of one key added up over the filter's days."""

    debug_file: str
    debug_id: str
    symbol_file: str
    code_file: str
    code_id: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    days: int  # distinct UTC days with at least one miss


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: dt.date
    distinct: int  # distinct keys missed that day
    count: int  # misses that day


def missing_summary(
    engine: sa.Engine,
    flt: MissingFilter,
    sort: str = "count",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[MissingSummary]]:
    """Return (number of distinct keys matching flt, one page of them summed over the days).

    A key is (debug_file, debug_id, symbol_file, code_file, code_id). `sort` is one of
    MISSING_SORTS; ties are ordered by the key, ascending. Raises ValueError for another sort.
    """
    if sort not in MISSING_SORTS:
        raise ValueError(f"sort must be one of {', '.join(MISSING_SORTS)}")
    t = missing_symbols
    keys = [t.c[name] for name in _MISS_KEY_COLUMNS]
    total_count = sa.func.sum(t.c["count"]).label("total_count")
    first_seen = sa.func.min(t.c.first_seen).label("first_seen")
    last_seen = sa.func.max(t.c.last_seen).label("last_seen")
    days = sa.func.count(sa.distinct(t.c.day)).label("days")
    sort_by = {"count": total_count, "first_seen": first_seen, "last_seen": last_seen}[sort]
    stmt = (
        sa.select(*keys, total_count, first_seen, last_seen, days)
        .where(*flt.where())
        .group_by(*keys)
        .order_by(sort_by.desc() if descending else sort_by.asc(), *keys)
        .limit(limit)
        .offset(offset)
    )
    counted = sa.select(*keys).where(*flt.where()).group_by(*keys).subquery()
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one()
        items = [
            MissingSummary(*row[:5], int(row[5]), row[6], row[7], int(row[8]))
            for row in conn.execute(stmt)
        ]
    return total, items


def missing_module_totals(
    engine: sa.Engine, day_from: dt.date, day_to: dt.date, limit: int = 50
) -> list[tuple[str, str, str, int, dt.datetime]]:
    """The most-missed modules of days day_from..day_to: (debug_file, debug_id, code_file,
    total count, last seen), most misses first (ties by name). symbol_file and code_id are
    added up: a module is the same module whichever file of it was asked for."""
    t = missing_symbols
    keys = [t.c.debug_file, t.c.debug_id, t.c.code_file]
    total_count = sa.func.sum(t.c["count"])
    stmt = (
        sa.select(*keys, total_count, sa.func.max(t.c.last_seen))
        .where(t.c.day >= day_from, t.c.day <= day_to)
        .group_by(*keys)
        .order_by(total_count.desc(), *keys)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [(*row[:3], int(row[3]), row[4]) for row in conn.execute(stmt)]


def missing_day_totals(engine: sa.Engine, flt: MissingFilter) -> list[DayTotal]:
    """Per UTC day of flt with at least one matching miss: distinct keys and misses, by day."""
    t = missing_symbols
    stmt = (
        sa.select(t.c.day, sa.func.count(), sa.func.sum(t.c["count"]))
        .where(*flt.where())
        .group_by(t.c.day)
        .order_by(t.c.day)
    )
    with engine.connect() as conn:
        return [DayTotal(day, int(distinct), int(count)) for day, distinct, count in conn.execute(stmt)]
