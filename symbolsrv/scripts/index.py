"""symbolsrv index <ini> [--full] [--jobs N]: build the code-id index from the stores.

For each configured location (regular, then try) that can be listed (file://, s3://, gs://),
list its `.sym` objects, read the first 4 KB of each (gunzipped when gzip-encoded), and record
what its MODULE and INFO CODE_ID lines say in the code_ids table of `sqlalchemy.url`
(symbolsrv/codeids.py). HTTP upstreams cannot be listed and are skipped, saying so.

Incremental: an object already indexed with the same version (ETag, GCS etag, local
mtime-size) is not read again, unless --full; rows of objects no longer listed are removed.
Progress goes to stderr: one line updated in place on a terminal, a plain line every
PROGRESS_EVERY objects otherwise. One summary line per location goes to stdout. Exit 1 if a
location could not be listed or an object could not be read (run it again: only what is
missing is read), 0 otherwise.

Registered as `symbolsrv index` (symbolsrv/scripts/cli.py calls add_parser); main() also runs
it alone: `python -m symbolsrv.scripts.index <ini>`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from symbolsrv import db, wiring
from symbolsrv.codeids import HEAD_BYTES, CodeIdIndex, IndexedObject, location_id, parse_sym_head
from symbolsrv.errors import BadPath, StorageError, SymbolsrvError
from symbolsrv.keys import check_name
from symbolsrv.placement import split_placement
from symbolsrv.scripts.cli import read_settings

log = logging.getLogger(__name__)

BATCH_ROWS = 500  # rows per upsert transaction
PROGRESS_EVERY = 10_000  # objects listed between plain progress lines (stderr not a terminal)
TTY_REFRESH_SECONDS = 0.2


# ------------------------------------------------------------------ the work


@dataclass
class LocationResult:
    """What indexing one location did; `summary()` is its line of output."""

    label: str  # "location 1 s3:org-symbols", "try location 1 file:/srv/try"
    listed: int = 0
    read: int = 0
    unchanged: int = 0
    with_code_id: int = 0
    no_module: int = 0  # read, but no valid MODULE line at its head
    invalid: int = 0  # listed under a path that can never be requested (bad names)
    gone: int = 0  # listed, deleted before it was read
    errors: int = 0
    removed: int = 0
    skipped: str = ""  # why the location was not indexed at all
    failed: str = ""  # why listing stopped
    seconds: float = 0.0
    first_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors

    def summary(self) -> str:
        if self.skipped:
            return f"{'-':<7} {self.label}: skipped ({self.skipped})"
        counts = (f"{self.listed:,} .sym listed, {self.read:,} read, {self.unchanged:,} unchanged,"
                  f" {self.with_code_id:,} with a code id, {self.no_module:,} without MODULE,"
                  f" {self.removed:,} removed, {self.errors:,} errors")
        extra = f", {self.invalid:,} bad names" if self.invalid else ""
        extra += f", {self.gone:,} gone" if self.gone else ""
        if self.failed:
            return f"{'FAILED':<7} {self.label}: {self.failed} (after {counts}{extra})"
        status = "ok" if self.ok else "errors"
        return f"{status:<7} {self.label}: {counts}{extra} ({self.seconds:.1f} s)"


class Progress:
    """Running counts on `stream`: rewritten in place on a terminal, else a plain line every
    `every` objects listed."""

    def __init__(self, stream: TextIO, every: int = PROGRESS_EVERY, clock=time.monotonic):
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every
        self.clock = clock
        self._shown_at = 0.0
        self._next_line = every
        self._width = 0

    def _text(self, result: LocationResult) -> str:
        return (f"symbolsrv index: {result.label}: {result.listed:,} listed, {result.read:,} read,"
                f" {result.unchanged:,} unchanged, {result.errors:,} errors")

    def update(self, result: LocationResult) -> None:
        if self.tty:
            now = self.clock()
            if now - self._shown_at >= TTY_REFRESH_SECONDS:
                self._shown_at = now
                text = self._text(result)
                self.stream.write("\r" + text.ljust(self._width))
                self._width = len(text)
                self.stream.flush()
        elif result.listed >= self._next_line:
            self._next_line = (result.listed // self.every + 1) * self.every
            self.stream.write(self._text(result) + "\n")
            self.stream.flush()

    def done(self) -> None:
        """Clear the in-place line (the summary follows on stdout); reset for the next location."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._shown_at, self._width, self._next_line = 0.0, 0, self.every


def _requestable(path: str) -> bool:
    """Can a client ask for this path (three valid names, storable in the database)?"""
    parts = path.split("/")
    if len(parts) != 3:
        return False
    try:
        for part in parts:
            check_name(part)
        path.encode("utf-8")  # undecodable file names come as surrogates
    except (BadPath, UnicodeError):
        return False
    return True


def index_location(index: CodeIdIndex, storage, url: str, label: str, *, full: bool = False,
                   jobs: int = 8, progress: Progress | None = None) -> LocationResult:
    """Index the `.sym` objects of one location (see the module docstring). Never raises a
    StorageError: a listing failure is result.failed, a read failure counts in result.errors."""
    result = LocationResult(label)
    started = time.perf_counter()
    if not (callable(getattr(storage, "list_keys", None))
            and callable(getattr(storage, "read_head", None))):
        result.skipped = "cannot list"
        return result
    layout = split_placement(url)[1].layout
    if layout != "flat":
        result.skipped = f"layout={layout} (only flat stores are indexed)"
        return result
    location = location_id(url)
    known = index.known(location)
    seen: set[str] = set()
    pending: list[IndexedObject] = []

    def wanted():
        """The listed objects to read; a listing failure ends the list (result.failed)."""
        try:
            for path, version in storage.list_keys(".sym"):
                result.listed += 1
                if progress is not None:
                    progress.update(result)
                if not _requestable(path):
                    result.invalid += 1
                    continue
                seen.add(path)
                if not full and path in known and (not version or known[path] == version):
                    result.unchanged += 1
                    continue
                yield path, version
        except StorageError as exc:
            result.failed = " ".join(str(exc.original).split())[:300]
        except Exception as exc:  # a plugin bug while listing: this location failed, not the run
            log.exception("storage %s: listing failed", storage.name)
            result.failed = f"{type(exc).__name__}: {exc}"[:300]

    def read(item):
        path, version = item
        try:
            raw = storage.read_head(path, HEAD_BYTES)
        except StorageError as exc:
            return path, version, exc
        except Exception as exc:  # a plugin bug: count it, keep indexing the rest
            return path, version, StorageError(storage.name, f"{type(exc).__name__}: {exc}")
        return path, version, raw

    def take(path, version, raw) -> None:
        if isinstance(raw, StorageError):
            result.errors += 1
            if len(result.first_errors) < 5:
                result.first_errors.append(f"{path}: {raw.original}")
            log.warning("storage %s: cannot read %s: %s", storage.name, path, raw.original)
            return
        if raw is None:
            result.gone += 1
            seen.discard(path)
            return
        head = parse_sym_head(raw, complete=len(raw) < HEAD_BYTES)
        result.read += 1
        if head is None:
            result.no_module += 1
        elif head.code_id:
            result.with_code_id += 1
        pending.append(IndexedObject(location, path, version, head))
        if len(pending) >= BATCH_ROWS:
            index.record(pending)
            pending.clear()
        if progress is not None:
            progress.update(result)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs),
                                thread_name_prefix="symbolsrv-index") as pool:
            chunk: list = []
            for item in wanted():
                chunk.append(item)
                if len(chunk) >= max(1, jobs) * 16:
                    for done in pool.map(read, chunk):
                        take(*done)
                    chunk = []
            for done in pool.map(read, chunk):  # also what was listed before a failure
                take(*done)
    finally:
        index.record(pending)
        pending.clear()
    if not result.failed:
        # Only after a complete listing: a key not listed is really gone.
        result.removed = index.forget(location, set(known) - seen)
    result.seconds = time.perf_counter() - started
    return result


# ------------------------------------------------------------------ the command


def run(args) -> int:
    parts = wiring.build(read_settings(args.config_uri), args.config_uri)
    try:
        db.create_tables(parts.engine)
        cfg = parts.cfg
        index = CodeIdIndex(parts.engine, cfg.locations, cfg.try_locations)
        progress = Progress(sys.stderr, every=args.progress_every)
        # The chain built one storage per configured URL, in the same order.
        targets = [
            (f"{kind}location {rank} {storage.name}", url, storage)
            for kind, urls, storages in (("", cfg.locations, parts.chain.regular),
                                         ("try ", cfg.try_locations, parts.chain.try_))
            for rank, (url, storage) in enumerate(zip(urls, storages), 1)
        ]
        results = []
        for label, url, storage in targets:
            result = index_location(index, storage, url, label, full=args.full, jobs=args.jobs,
                                    progress=progress)
            progress.done()
            results.append(result)
            print(result.summary(), flush=True)
            for error in result.first_errors:
                print(f"          {error}", flush=True)
        objects, mapped = index.counts()
        url = parts.engine.url.render_as_string(hide_password=True)
    finally:
        parts.close()
    failed = [r for r in results if not r.skipped and not r.ok]
    print(f"symbolsrv: {mapped:,} code ids from {objects:,} indexed .sym objects in {url}"
          + (f"; {len(failed)} location(s) incomplete, run again" if failed else ""))
    return 1 if failed else 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `index` subcommand to `symbolsrv`'s subparsers; it runs run(args)."""
    help_text = ("Build the code-id index: read the MODULE and INFO CODE_ID lines of every .sym "
                 "in the listable locations (incrementally) into the database.")
    sub = subparsers.add_parser("index", help=help_text, description=help_text)
    _arguments(sub)
    sub.set_defaults(run=run)
    return sub


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config_uri", metavar="INI", help="settings file, e.g. production.ini")
    parser.add_argument("--full", action="store_true",
                        help="read every .sym again, even those indexed with the same version")
    parser.add_argument("--jobs", type=_positive_int, default=8, metavar="N",
                        help="objects read at once (default 8)")
    parser.add_argument("--progress-every", type=_positive_int, default=PROGRESS_EVERY,
                        metavar="N", help=argparse.SUPPRESS)


def main(argv: list[str] | None = None) -> int:
    """`python -m symbolsrv.scripts.index <ini>`: the same as `symbolsrv index <ini>`."""
    parser = argparse.ArgumentParser(prog="symbolsrv index", description=__doc__.split("\n")[0])
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except SymbolsrvError as exc:
        print(f"symbolsrv: error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"symbolsrv: error: database: {type(exc).__name__}: "
              f"{str(getattr(exc, 'orig', exc)).strip().splitlines()[0][:300]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
