"""symbolsrv <command> <config.ini> …: symbolsrv's own parts from the command line, no server.

  symbolsrv check <ini>                     settings, database, every location: one line each
  symbolsrv lookup <ini> <path>             resolve a path as a GET would; print the trace
  symbolsrv missing <ini> [--date D | --today] [--microsoft-only]
                                            a day's missing-symbols CSV to stdout
  symbolsrv initdb <ini>                    create the miss-log tables (as symbolsrv-initdb)

Settings, plugins, chain and engine are built by symbolsrv.wiring.build, exactly as the server
builds them, but no miss-log thread starts and nothing is counted. A bad INI or setting prints
`symbolsrv: error: …` and exits 1.
"""

from __future__ import annotations

import argparse
import configparser
import datetime as dt
import re
import sys
import time
from typing import Iterable, Iterator, TextIO
from urllib.parse import unquote_to_bytes, urlsplit

from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy.exc import SQLAlchemyError

from symbolsrv import csvreport, db, wiring
from symbolsrv.errors import ConfigurationError, StorageError, SymbolsrvError
from symbolsrv.codeids import CodeIdIndex
from symbolsrv.lookup import ERROR, HIT, IGNORED, MISS, REDIRECT, REJECTED, Answer, Resolver
from symbolsrv.query import parse_query
from symbolsrv.location_sections import read_location_sections
from symbolsrv.settings import Settings, load_settings

PROGRESS_EVERY = 100_000  # rows between progress lines of `missing` (on a terminal only)


# ------------------------------------------------------------------ loading


def read_settings(config_uri: str) -> dict:
    """The [app:main] settings of an INI file, with its logging set up.

    Raises ConfigurationError for a missing, unreadable or malformed file.
    """
    try:
        setup_logging(config_uri)
        return dict(get_appsettings(config_uri))
    except (OSError, LookupError, ValueError, configparser.Error) as exc:
        message = " ".join(str(exc).split())  # configparser's messages span lines
        raise ConfigurationError(f"cannot read {config_uri}: {message}") from None


def load_config(config_uri: str) -> Settings:
    """The checked Settings of an INI file, its [location:<name>] sections included."""
    return load_settings(read_settings(config_uri), read_location_sections(config_uri))


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """A short, single-line reason (driver errors carry SQL and a URL to the docs)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    reason = text[0] if text else ""
    return f"{type(original).__name__}: {reason}"[:limit]


# ------------------------------------------------------------------ check


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def check(args) -> int:
    parts = wiring.build(read_settings(args.config_uri), args.config_uri)
    try:
        results: list[bool] = []

        def report(what: str, run) -> None:
            started = time.perf_counter()
            try:
                run()
                problem = ""
            except StorageError as exc:
                problem = " ".join(str(exc.original).split())[:300]
            except Exception as exc:  # a plugin bug or a driver error: a failed check, not a crash
                problem = _one_line(exc)
            ms = (time.perf_counter() - started) * 1000
            results.append(not problem)
            status = "FAILED" if problem else "ok"
            detail = f": {problem}" if problem else ""
            print(f"{status:<6}  {what}{detail} ({ms:.1f} ms)", flush=True)

        cfg = parts.cfg
        print(f"{'ok':<6}  settings {args.config_uri} ({_count(cfg.locations, 'location')}, "
              f"{_count(cfg.try_locations, 'try location')}, plugins: {' '.join(cfg.plugins)})")
        results.append(True)
        url = parts.engine.url.render_as_string(hide_password=True)
        report(f"database {url}", lambda: db.ping(parts.engine))
        for kind, storages in (("location", parts.chain.regular),
                               ("try location", parts.chain.try_)):
            for rank, storage in enumerate(storages, 1):
                placement = parts.chain.placement(storage).describe()
                shown = f"{storage.name} ({placement})" if placement else storage.name
                report(f"{kind} {rank} {shown}", storage.ping)
        cache = parts.chain.cache
        if hasattr(cache, "ping"):
            report(f"cache {cache.name}", cache.ping)
    finally:
        parts.close()
    failed = results.count(False)
    if failed:
        print(f"symbolsrv: {failed} of {len(results)} checks FAILED")
        return 1
    print(f"symbolsrv: all {len(results)} checks ok")
    return 0


# ------------------------------------------------------------------ lookup


def path_info_of(target: str) -> tuple[str, str]:
    """(PATH_INFO, query string) for a path, a path with ?query, or a whole http(s) URL.

    Percent-escapes are decoded as waitress decodes them, into the latin-1 form of the UTF-8
    bytes that PEP 3333 prescribes (the Resolver re-decodes it).
    """
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    path, _, query = target.partition("?")
    if not path.startswith("/"):
        path = "/" + path
    return unquote_to_bytes(path).decode("latin-1"), query


def status_of(answer: Answer) -> str:
    """The status line a GET of the same path would get (mirrors views.symbols.respond)."""
    if answer.outcome == HIT:
        if answer.hit.path is not None:
            return "200 OK (symbolsrv serves the file)"
        return "302 Found"
    if answer.outcome == MISS:
        return "404 Symbol Not Found"
    if answer.outcome == REJECTED:
        return f"400 Bad Request: {answer.reason}"
    if answer.outcome == ERROR:
        return "503 Storage Unavailable"
    if answer.outcome == REDIRECT:
        return f"302 Found ({answer.reason}) to {answer.target_path}"
    return f"404 Not Found: {answer.reason}"


def lookup(args) -> int:
    parts = wiring.build(read_settings(args.config_uri), args.config_uri)
    try:
        path_info, query_string = path_info_of(args.path)
        query = parse_query(query_string)
        steps = []
        codeids = CodeIdIndex(parts.engine, parts.cfg.locations, parts.cfg.try_locations)
        resolver = Resolver(parts.cfg, parts.pm, parts.chain, codeids)
        answer = resolver.resolve(path_info, try_flag=query.try_,
                                  refresh=query.refresh or args.refresh, trace=steps)
    finally:
        parts.close()
    print(f"path     {args.path}")
    print(f"key      {answer.key.path if answer.key else '-'}")
    print(f"try      {'yes' if answer.is_try else 'no'}")
    if steps:
        width = max(len(step.location) for step in steps)
        for step in sorted(steps, key=lambda s: s.rank):
            print(f"  {step.rank:>2}  {step.location:<{width}}  {step.outcome:<12} "
                  f"{step.seconds * 1000:8.1f} ms")
    elif answer.outcome in (REJECTED, IGNORED):
        print("  (no location asked)")
    hit = answer.hit
    print(f"winner   {hit.location if hit else '-'}")
    if hit is not None:
        # Without the query string: a presigned signature is a credential.
        print(f"url      {hit.url.split('?', 1)[0] if hit.url else hit.path}")
    print(f"outcome  {answer.outcome}" + (f" ({answer.reason})" if answer.outcome == ERROR else ""))
    print(f"status   {status_of(answer)}")
    return 0 if answer.outcome in (HIT, REDIRECT) else 1


# ------------------------------------------------------------------ missing


def progress(rows: Iterable, stream: TextIO, every: int = PROGRESS_EVERY) -> Iterator:
    """Pass rows through; on a terminal, print a running count to `stream` every `every` rows."""
    if not stream.isatty():
        yield from rows
        return
    n = 0
    for n, row in enumerate(rows, 1):
        yield row
        if n % every == 0:
            stream.write(f"\rsymbolsrv: {n:,} rows")
            stream.flush()
    if n >= every:
        stream.write(f"\rsymbolsrv: {n:,} rows\n")
        stream.flush()


def _date(value: str) -> dt.date:
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}")


def missing(args) -> int:
    cfg = load_config(args.config_uri)
    engine = db.make_engine(cfg)
    try:
        today = dt.datetime.now(dt.timezone.utc).date()
        day = args.date or (today if args.today else today - dt.timedelta(days=1))
        rows = progress(db.missing_rows(engine, day, args.microsoft_only), sys.stderr)
        sys.stdout.flush()
        out = sys.stdout.buffer
        try:
            for chunk in csvreport.render(rows):
                out.write(chunk)
            out.flush()
        except BrokenPipeError:
            # `symbolsrv missing … | head`: the reader left; stop quietly.
            return 1
    finally:
        engine.dispose()
    return 0


# ------------------------------------------------------------------ initdb


def initdb(args) -> int:
    cfg = load_config(args.config_uri)
    engine = db.make_engine(cfg)
    try:
        db.create_tables(engine)
    finally:
        engine.dispose()
    print(f"symbolsrv: tables ready in {engine.url.render_as_string(hide_password=True)}")
    return 0


# ------------------------------------------------------------------ main


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symbolsrv", description="symbolsrv's parts from the command line, without serving.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, run, help):
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("config_uri", metavar="INI", help="settings file, e.g. production.ini")
        sub.set_defaults(run=run)
        return sub

    command("check", check,
            "Check settings, ping the database and every location; exit 1 if any check fails.")
    sub = command("lookup", lookup,
                  "Resolve one symbol path as a GET would (nothing is served or counted); "
                  "print every location asked, its answer and time, the winner and the status. "
                  "Exit 0 when found, 1 otherwise.")
    sub.add_argument("path", help="e.g. /xul.pdb/<debug_id>/xul.sym, with ?try for try "
                                  "locations; a whole URL works too")
    sub.add_argument("--refresh", action="store_true", help="skip the existence cache")
    sub = command("missing", missing,
                  "Write a UTC day's missing-symbols CSV (as /missingsymbols.csv) to stdout; "
                  "yesterday by default.")
    when = sub.add_mutually_exclusive_group()
    when.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="that day")
    when.add_argument("--today", action="store_true", help="today so far")
    sub.add_argument("--microsoft-only", action="store_true",
                     help="only .pdb debug files with .sym symbol files")
    command("initdb", initdb, "Create the miss-log tables (the server also does at start).")
    from symbolsrv.scripts import index  # `symbolsrv index`: the code-id index, its own module
    index.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.run(args)
    except SymbolsrvError as exc:
        print(f"symbolsrv: error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"symbolsrv: error: database: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
