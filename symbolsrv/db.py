"""The miss-log database: engine, the missing_symbols table, and the two queries on it.

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


def create_tables(engine: sa.Engine) -> None:
    metadata.create_all(engine)


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
