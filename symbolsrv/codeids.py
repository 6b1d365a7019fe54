"""The code-id index: which debug key a Windows binary's code_file/code_id maps to.

Crash reports name a module by its binary (`xul.dll`, code id `54AF957E1B34000` = PE
TimeDateStamp `%08X` + SizeOfImage `%x`) when the debug file is unknown; rust-minidump then asks
`/xul.dll/54AF957E1B34000/xul.sym`. Each `.sym` says both halves at its head:

    MODULE windows x86_64 44E4EC8C2F41492B9369D6B9A059577C2 xul.pdb
    INFO CODE_ID 54AF957E1B34000 xul.dll

`symbolsrv index` reads those lines from every `.sym` of the listable locations and records
them in the code_ids table (symbolsrv/db.py); the Resolver asks CodeIdIndex.lookup() and answers
a 302 to `/xul.pdb/<debug_id>/xul.sym`.

Case rules: code_file matches case-insensitively (Windows writes `KERNEL32.DLL` and
`kernel32.dll` for the same binary), code_id upper-cased (as debug ids are); debug_file and
symbol_file keep their case. Linux and macOS `.sym` files have `INFO CODE_ID <build id>` with
no file name: the row's code_file is then the MODULE's debug_file. Those rows are recorded,
and looked up by build id alone for debuginfod requests (see debuginfod_symbol_file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple, Sequence
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from symbolsrv.db import code_ids
from symbolsrv.errors import BadPath, SymbolsrvError
from symbolsrv.keys import SymbolKey, check_name

log = logging.getLogger(__name__)

# Binaries whose code id names them in a request: PE images (DLLs, executables, drivers,
# ActiveX controls). ELF and Mach-O requests use the debug file's own name and a debug id, so a
# `/libxul.so/<id>/libxul.so.sym` is always a debug-id request.
PE_EXTENSIONS = (".dll", ".exe", ".sys", ".ocx", ".drv")
HEAD_BYTES = 4096  # MODULE and INFO lines come first; dump_syms writes a few hundred bytes
TTL_SECONDS = 60.0
MAX_ENTRIES = 10_000
RETRY_SECONDS = 5.0  # after a database failure, lookups skip the database this long

# debuginfod artifacts and the Breakpad file names they map to (debuginfod_symbol_file).
DEBUGINFOD_FILES = {"debuginfo": "{}.dbg", "executable": "{}"}
# MODULE systems (lower-cased) whose binaries are ELF files: the rows a build id may match.
ELF_SYSTEMS = ("linux", "android", "fuchsia", "solaris", "nacl")

_HEX_ID = re.compile(r"[0-9A-Fa-f]{9,64}\Z")  # the same rule as a requested id (keys.check_key)
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class CodeIdIndexUnavailable(SymbolsrvError):
    """The index could not be read (database error, or within RETRY_SECONDS of one).

    `fresh` is True for the lookup that met the database error (log it), False while later
    lookups skip the database.
    """

    def __init__(self, reason: str, fresh: bool):
        super().__init__(reason)
        self.fresh = fresh


class CodeIdTarget(NamedTuple):
    debug_file: str
    debug_id: str


# ------------------------------------------------------------------ pure rules


def looks_like_code_id(key: SymbolKey) -> bool:
    """True for `/<PE name>/<id>/<name>.sym` (names compared case-insensitively)."""
    return (key.debug_file.lower().endswith(PE_EXTENSIONS)
            and key.symbol_file.lower().endswith(".sym"))


def debuginfod_symbol_file(debug_file: str, artifact: str) -> str:
    """Where a Breakpad-layout store keeps a debuginfod artifact under the module's debug key:
    the split debug file `libxul.so.dbg` (Mozilla's symbolstore convention), or the binary
    itself under its own name."""
    return DEBUGINFOD_FILES[artifact].format(debug_file)


def is_same_key(key: SymbolKey, target: CodeIdTarget) -> bool:
    """Would a redirect to target land on key itself (names any case, ids upper-cased)?"""
    return (target.debug_file.lower() == key.debug_file.lower()
            and target.debug_id.upper() == key.debug_id.upper())


def redirect_path(target: CodeIdTarget, symbol_file: str, try_prefix: bool) -> str:
    """`/[try/]<debug_file>/<debug_id>/<symbol_file>`, percent-encoded as README's Location."""
    path = SymbolKey(target.debug_file, target.debug_id, symbol_file).quoted_path
    return ("/try/" if try_prefix else "/") + path


def ascii_query(query_string: str) -> str:
    """A WSGI QUERY_STRING (latin-1 str of the raw bytes) safe for a Location: existing %XX
    escapes and ASCII punctuation stay, other bytes (non-ASCII, spaces, controls) are encoded."""
    return quote(query_string.encode("latin-1", "replace"), safe="%/?&=+;:@,$!*()~-._'")


def location_id(url: str) -> str:
    """A location's stable name in the index: its URL without credentials, options and trailing
    slash (`s3://org-symbols/v1`, `file:///srv/symbols`), so adding `?private=true` to a
    location keeps its rows. Storage names (`s3:<bucket>`) would mix two prefixes of a bucket."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class SymHead:
    """What the head of a `.sym` says. code_file is '' when INFO CODE_ID names no file."""

    os: str
    arch: str
    debug_id: str
    debug_file: str
    code_id: str = ""
    code_file: str = ""


def head_text(raw: bytes, complete: bool) -> tuple[str, bool]:
    """Decode the first bytes of a `.sym` (gunzipped when they start with the gzip magic).

    `complete` says whether raw is the whole object. Returns (text, complete) where complete
    now says whether text is the whole file (a cut gzip stream is not).
    """
    if raw[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(raw, 4 * HEAD_BYTES)
        except zlib.error:
            return "", False
        complete = inflater.eof
        raw = data
    return raw.decode("utf-8", "replace"), complete


def parse_sym_head(raw: bytes, complete: bool = False) -> SymHead | None:
    """Parse the MODULE and INFO CODE_ID lines at the head of a `.sym` (LF or CRLF, gzip ok).

    `complete` is False when raw may be cut short: a last line without its newline is then
    ignored (a cut `INFO CODE_ID 5ED4399` must not become a wrong code id). Returns None when
    the first line is not a valid MODULE line. A CODE_ID that is not 9-64 hex digits, or whose
    file name is not a valid name, is left out.
    """
    text, complete = head_text(raw, complete)
    lines = text.split("\n")
    if not complete:
        lines = lines[:-1]  # the fragment after the last newline ('' if it ended with one)
    lines = [line.rstrip("\r\t ") for line in lines]
    if not lines:
        return None
    fields = lines[0].lstrip("\ufeff").split(None, 4)
    if len(fields) != 5 or fields[0] != "MODULE":
        return None
    _, os_name, arch, debug_id, debug_file = fields
    if not _HEX_ID.match(debug_id) or not _valid_name(debug_file):
        return None
    code_id = code_file = ""
    for line in lines[1:]:
        if not line.startswith("INFO "):
            break  # FILE, FUNC, PUBLIC…: the header is over
        fields = line.split(None, 3)
        if len(fields) >= 3 and fields[1] == "CODE_ID":
            if not _HEX_ID.match(fields[2]):
                break
            name = fields[3].strip() if len(fields) == 4 else ""
            # Some producers write the module's full path; requests carry its base name.
            name = re.split(r"[\\/]", name)[-1]
            if name and not _valid_name(name):
                break
            code_id, code_file = fields[2].upper(), name
            break
    return SymHead(os_name, arch, debug_id.upper(), debug_file, code_id, code_file)


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except BadPath:
        return False
    return "/" not in name


# ------------------------------------------------------------------ rows


@dataclass(frozen=True, slots=True)
class IndexedObject:
    """One `.sym` object read by `symbolsrv index`: where it is and what its head says.

    `path` is the storage key relative to the location (`xul.pdb/<id>/xul.sym`); `head` is
    None when the object has no valid MODULE line (it is still recorded, so it is not read
    again).
    """

    location: str  # location_id(url)
    path: str
    version: str  # ETag, generation or mtime-size: a change makes the next run read it again
    head: SymHead | None

    def row(self, now: dt.datetime) -> dict | None:
        debug_file, debug_id, symbol_file = self.path.split("/")
        head = self.head
        code_id = head.code_id if head else ""
        # Linux and macOS: the build id names no file; the binary is the debug file.
        code_file = (head.code_file or head.debug_file) if code_id else ""
        return {
            "source_hash": source_hash(self.location, self.path),
            "location": self.location,
            "code_file_key": code_file.lower(),
            "code_id": code_id,
            "code_file": code_file,
            "debug_file": debug_file,
            # The redirect goes where the object is (the path), not where MODULE says: the
            # resolver upper-cases requested ids, so the id is upper-cased here too.
            "debug_id": debug_id.upper(),
            "symbol_file": symbol_file,
            "version": self.version[:200],
            "os": head.os.lower()[:32] if head else "",
            "indexed_at": now,
        }


def source_hash(location: str, path: str) -> str:
    return hashlib.sha256(f"{location}\0{path}".encode("utf-8")).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# ------------------------------------------------------------------ the index


class CodeIdIndex:
    """The code_ids table with a small in-process LRU of answers (found and not found).

    `regular` and `try_` are the configured location URLs in order: a lookup only answers with
    rows of configured locations, try locations only for try requests, the highest-ranked
    location first (so a regular bucket's copy wins over the try bucket's, as in the chain).
    """

    def __init__(
        self,
        engine: sa.Engine,
        regular: Sequence[str] = (),
        try_: Sequence[str] = (),
        ttl_seconds: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.engine = engine
        self.ranks: dict[str, tuple[bool, int]] = {}
        for is_try, urls in ((False, regular), (True, try_)):
            for rank, url in enumerate(urls):
                self.ranks.setdefault(location_id(url), (is_try, rank))
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, tuple[float, CodeIdTarget | None]] = OrderedDict()
        self._down_until = 0.0

    # ---------------------------------------------------------------- lookups

    def lookup(
        self, code_file: str | None, code_id: str, include_try: bool = False,
        refresh: bool = False,
    ) -> CodeIdTarget | None:
        """The (debug_file, debug_id) that code_file/code_id maps to, or None if not indexed.

        code_file matches case-insensitively, code_id upper-cased; code_file None matches any
        ELF module (a build id names one binary on its own: debuginfod requests). Answers are
        remembered for ttl_seconds (`refresh` asks the database again). Raises CodeIdIndexUnavailable on a
        database error and, without asking the database, for retry_seconds after one; such
        failures are never remembered as "not indexed".
        """
        cache_key = (code_file.lower() if code_file is not None else None, code_id.upper(),
                     include_try)
        now = self.clock()
        if not refresh:
            with self._lock:
                entry = self._cache.get(cache_key)
                if entry is not None:
                    if entry[0] > now:
                        self._cache.move_to_end(cache_key)
                        return entry[1]
                    del self._cache[cache_key]
        if now < self._down_until:
            raise CodeIdIndexUnavailable("code-id index: database failed recently", fresh=False)
        try:
            target = self._select(cache_key[0], cache_key[1], include_try)
        except sa.exc.SQLAlchemyError as exc:
            self._down_until = self.clock() + self.retry_seconds
            reason = str(getattr(exc, "orig", None) or exc).strip().split("\n")[0][:200]
            raise CodeIdIndexUnavailable(
                f"code-id index: {type(exc).__name__}: {reason}", fresh=True
            ) from exc
        with self._lock:
            self._cache[cache_key] = (self.clock() + self.ttl_seconds, target)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return target

    def _select(self, code_file_key: str | None, code_id: str,
                include_try: bool) -> CodeIdTarget | None:
        t = code_ids
        stmt = sa.select(t.c.location, t.c.debug_file, t.c.debug_id, t.c.indexed_at).where(
            t.c.code_id == code_id
        )
        if code_file_key is not None:
            stmt = stmt.where(t.c.code_file_key == code_file_key)
        else:  # a build id: only ELF modules have one (a PE or Mach-O id is no build id)
            stmt = stmt.where(t.c.os.in_(ELF_SYSTEMS))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        best = None
        for location, debug_file, debug_id, indexed_at in rows:
            rank = self.ranks.get(location)
            if rank is None or (rank[0] and not include_try):
                continue  # a location no longer configured, or try storage for a plain request
            if debug_id == code_id and code_file_key in (None, debug_file.lower()):
                continue  # a .sym stored under its code-id path maps to itself
            # Highest-ranked location, then the newest indexed, then by name (deterministic).
            order = (rank, -indexed_at.timestamp(), debug_file, debug_id)
            if best is None or order < best[0]:
                best = (order, CodeIdTarget(debug_file, debug_id))
        return best[1] if best else None

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
        self._down_until = 0.0

    # ---------------------------------------------------------------- writes (symbolsrv index)

    def record(self, objects: Iterable[IndexedObject]) -> int:
        """Insert or update one row per object (keyed by location and path) in one transaction."""
        now = _utcnow()
        rows = [obj.row(now) for obj in objects]
        if not rows:
            return 0
        stmt = _INSERTS[self.engine.dialect.name](code_ids)
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_hash"],
            set_={name: excluded[name] for name in rows[0] if name != "source_hash"},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)
        return len(rows)

    def known(self, location: str) -> dict[str, str]:
        """{path: version} of every object of `location` (a location_id) already indexed."""
        t = code_ids
        stmt = sa.select(t.c.debug_file, t.c.debug_id, t.c.symbol_file, t.c.version).where(
            t.c.location == location
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=10_000).execute(stmt)
            return {f"{f}/{i}/{s}": version for f, i, s, version in result}

    def counts(self) -> tuple[int, int]:
        """(objects indexed, objects with a code id), over every location."""
        t = code_ids
        with_code_id = sa.func.count().filter(t.c.code_id != "")
        with self.engine.connect() as conn:
            objects, mapped = conn.execute(sa.select(sa.func.count(), with_code_id)).one()
        return int(objects), int(mapped or 0)

    def forget(self, location: str, paths: Iterable[str]) -> int:
        """Delete the rows of objects no longer in `location` (their redirect would 404)."""
        hashes = [source_hash(location, path) for path in paths]
        deleted = 0
        with self.engine.begin() as conn:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start:start + 500]
                deleted += conn.execute(
                    sa.delete(code_ids).where(code_ids.c.source_hash.in_(chunk))
                ).rowcount
        return deleted
