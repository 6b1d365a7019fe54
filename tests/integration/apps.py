"""symbolsrv itself, run the way operators run it: `pserve <ini>` (waitress) in a subprocess.

SymbolsrvProcess writes an INI file into its own temporary directory, starts
`python -m pyramid.scripts.pserve` on a free port with the environment it is given (aws_env()
of a moto server, usually), logs stdout and stderr to a file there, and is ready once waitress
printed "Serving on http://127.0.0.1:PORT" (so the port is ours, not a neighbour's) and
/__lbheartbeat__ answers 200. terminate() sends SIGTERM and measures how long the process takes
to exit; that is also when symbolsrv flushes its buffered miss counts.

HTTP helpers speak raw http.client: the request target goes on the wire exactly as given
(already percent-encoded), and redirects are never followed.
"""

from __future__ import annotations

import csv
import http.client
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers import _tail, _wait_until, free_port

STOP_TIMEOUT = 5.0  # seconds a SIGTERMed symbolsrv may take to flush and exit

# Numbers worth reading in the test output (replay time, requests/s, latencies): tests add
# lines here and conftest.py prints them at the end of the run.
MEASUREMENTS: list[str] = []


@dataclass
class Reply:
    status: int
    headers: dict  # lower-case names; a repeated header keeps its last value
    body: bytes

    def header(self, name: str, default=None):
        return self.headers.get(name.lower(), default)


def http_request(host: str, port: int, method: str, target: str, headers=None,
                 timeout: float = 30) -> Reply:
    """One request on a fresh connection; `target` is sent byte for byte (no re-encoding)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, target, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


def fetch_url(url: str, method: str = "GET", timeout: float = 30) -> Reply:
    """Fetch an absolute http:// URL (a Location) exactly as written: path and query untouched."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1", url
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return http_request(parts.hostname, parts.port, method, target, timeout=timeout)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process (all its threads) has used so far (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ini_value(value) -> str:
    # PasteDeploy interpolates %(name)s: a literal % (URL escapes) must be doubled.
    return str(value).replace("%", "%%")


class SymbolsrvProcess:
    """One `pserve` process serving symbolsrv on 127.0.0.1:`port`.

    locations: storage location URLs (or `[location:<name>]` section names), in order.
    sqlalchemy_url: None for a fresh SQLite file in the process directory (`sqlite_path`).
    settings: more [app:main] keys. env: added to os.environ for the child (aws_env(),
    LD_PRELOAD/FAKETIME for libfaketime, ...). extra_ini: text appended to the INI file as it
    is, e.g. `[location:<name>]` sections.
    """

    def __init__(self, locations, sqlalchemy_url=None, settings=None, env=None, port=None,
                 threads=8, name="symbolsrv", extra_ini=""):
        self.dir = tempfile.mkdtemp(prefix=f"symbolsrv-{name}-")
        self.port = port or free_port()
        self.locations = list(locations)
        self.sqlite_path = None
        if sqlalchemy_url is None:
            self.sqlite_path = os.path.join(self.dir, "misses.sqlite")
            sqlalchemy_url = f"sqlite:///{self.sqlite_path}"
        self.sqlalchemy_url = sqlalchemy_url
        self.settings = dict(settings or {})
        self.env = dict(env or {})
        self.threads = threads
        self.extra_ini = extra_ini
        self.ini_path = os.path.join(self.dir, "symbolsrv.ini")
        self.log_path = os.path.join(self.dir, "symbolsrv.log")
        self._proc = None
        self._sigterm_at = None
        self.returncode = None
        self.exit_seconds = None
        self._write_ini()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _write_ini(self) -> None:
        app = {
            "use": "egg:symbolsrv",
            "symbolsrv.locations": "\n" + "\n".join(f"    {loc}" for loc in self.locations),
            "sqlalchemy.url": self.sqlalchemy_url,
            **self.settings,
        }
        lines = ["[app:main]"]
        lines += [f"{key} = {_ini_value(value)}" for key, value in app.items()]
        lines += [
            "",
            "[server:main]",
            "use = egg:waitress#main",
            f"listen = 127.0.0.1:{self.port}",
            f"threads = {self.threads}",
            "",
            "[loggers]",
            "keys = root, symbolsrv, access",
            "",
            "[handlers]",
            "keys = file",
            "",
            "[formatters]",
            "keys = generic",
            "",
            "[logger_root]",
            "level = INFO",
            "handlers = file",
            "",
            "[logger_symbolsrv]",
            "level = INFO",
            "handlers =",
            "qualname = symbolsrv",
            "",
            "[logger_access]",
            "level = INFO",
            "handlers =",
            "qualname = symbolsrv.access",
            "",
            "[handler_file]",
            "class = StreamHandler",
            "args = (sys.stderr,)",
            "level = NOTSET",
            "formatter = generic",
            "",
            "[formatter_generic]",
            "format = %(asctime)s %(levelname)-5.5s [%(name)s][%(threadName)s] %(message)s",
            "",
        ]
        if self.extra_ini:
            lines += [self.extra_ini, ""]
        with open(self.ini_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))

    def command(self):
        return [sys.executable, "-m", "pyramid.scripts.pserve", self.ini_path]

    def start(self) -> "SymbolsrvProcess":
        """Launch and wait until it serves (see launch() and wait_ready() to start several)."""
        self.launch()
        return self.wait_ready()

    def launch(self) -> "SymbolsrvProcess":
        """Start the process without waiting for it to serve."""
        if self.running:
            return self
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self._log_start = log.tell()
            self._proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        self.returncode = self.exit_seconds = None
        return self

    def wait_ready(self, timeout: float = 30) -> "SymbolsrvProcess":
        """Return once waitress listens on our port and /__lbheartbeat__ answers 200."""
        try:
            _wait_until(self._ready, f"symbolsrv on port {self.port}", self.log_path, self._proc,
                        timeout=timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def _ready(self) -> bool:
        with open(self.log_path, "rb") as log:
            log.seek(self._log_start)
            if f"Serving on http://127.0.0.1:{self.port}".encode() not in log.read():
                return False
        try:
            return self.get("/__lbheartbeat__", timeout=2).status == 200
        except OSError:
            return False

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM; wait up to `timeout` s. Return the exit status; raise if it did not exit."""
        self.send_sigterm()
        return self.wait_exit(timeout)

    def send_sigterm(self) -> None:
        if self._proc is not None and self._sigterm_at is None:
            self._sigterm_at = time.monotonic()
            self._proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the exit that send_sigterm() asked for; see terminate()."""
        if self._proc is None:
            return self.returncode
        try:
            self.returncode = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"symbolsrv did not exit within {timeout} s of SIGTERM; log "
                                 f"{self.log_path}:\n{self.log_tail()}") from None
        self.exit_seconds = time.monotonic() - self._sigterm_at
        self._proc = self._sigterm_at = None
        return self.returncode

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self.returncode = self._proc.returncode
            self._proc = self._sigterm_at = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, limit=4000) -> str:
        return _tail(self.log_path, limit)

    # HTTP
    def request(self, method: str, target: str, headers=None, timeout: float = 30) -> Reply:
        return http_request("127.0.0.1", self.port, method, target, headers, timeout)

    def get(self, target: str, **kw) -> Reply:
        return self.request("GET", target, **kw)

    def head(self, target: str, **kw) -> Reply:
        return self.request("HEAD", target, **kw)

    def csv_rows(self, query: str = "today=1") -> list[list[str]]:
        """GET /missingsymbols.csv?<query>; assert the header; return the data rows."""
        reply = self.get(f"/missingsymbols.csv?{query}" if query else "/missingsymbols.csv")
        assert reply.status == 200, (reply.status, reply.body[:300])
        rows = list(csv.reader(io.StringIO(reply.body.decode("utf-8"), newline="")))
        assert rows[0] == ["debug_file", "debug_id", "code_file", "code_id"], rows[:1]
        return rows[1:]


_ACCESS = re.compile(r"\[symbolsrv\.access\]\S* (GET|HEAD) '([^']*)' (\d{3}) ")


def access_lines(server: SymbolsrvProcess, wanted: int,
                 timeout: float = 5.0) -> list[tuple[str, str, int]]:
    """(method, path, status) of the access log, once it holds `wanted` lines (the log is
    written off the request thread, every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [(m, p, int(s)) for m, p, s in _ACCESS.findall(server.log_text())]
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def symbolsrv_command(server: SymbolsrvProcess, command: str, *args: str,
                      timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `symbolsrv <command> <server's INI> <args>` as operators do: the console script
    installed next to this interpreter (else `python -m symbolsrv.scripts.cli`), with the
    server's environment (aws_env(), ...), in its directory. Returns the finished process."""
    script = Path(sys.executable).with_name("symbolsrv")
    program = ([str(script)] if script.is_file()
               else [sys.executable, "-m", "symbolsrv.scripts.cli"])
    return subprocess.run([*program, command, server.ini_path, *args], cwd=server.dir,
                          env={**os.environ, **server.env}, capture_output=True, text=True,
                          timeout=timeout)


def sqlite_count_sum(server: SymbolsrvProcess) -> int:
    """Sum of miss counts in a SQLite-backed server's database (its own flush first)."""
    server.csv_rows()  # the report flushes the process's buffered counts
    with sqlite3.connect(server.sqlite_path) as conn:
        return conn.execute("SELECT COALESCE(SUM(count), 0) FROM missing_symbols").fetchone()[0]


def sqlite_miss_counts(server: SymbolsrvProcess) -> dict[tuple[str, str, str], int]:
    """{(debug_file, debug_id, symbol_file): count} summed over days and query values."""
    server.csv_rows()  # the report flushes the process's buffered counts
    with sqlite3.connect(server.sqlite_path) as conn:
        rows = conn.execute("SELECT debug_file, debug_id, symbol_file, SUM(count)"
                            " FROM missing_symbols GROUP BY debug_file, debug_id, symbol_file")
        return {tuple(row[:3]): row[3] for row in rows}


def copy_symbol_files(shared_data, root, paths):
    """A store at `root` holding only these `debug_file/debug_id/file` paths of shared data."""
    for path in paths:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / "symbols" / path, target)
    return root


def stop_cleanly(server: SymbolsrvProcess) -> None:
    """Stop a started server with SIGTERM, which must end it with status 0 within STOP_TIMEOUT
    (the miss log is flushed on the way out); always clean up its process and files."""
    try:
        if server.running:
            status = server.terminate(STOP_TIMEOUT)
            assert status == 0, (f"symbolsrv exited with status {status} on SIGTERM; log:\n"
                                 f"{server.log_tail()}")
    finally:
        server.close()


def stop_all(servers) -> None:
    """stop_cleanly() each server, then fail with every server's complaint at once."""
    errors = []
    for server in servers:
        try:
            stop_cleanly(server)
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n\n".join(errors)


@contextmanager
def running(server: SymbolsrvProcess):
    """`with running(SymbolsrvProcess(...)) as server:` started, then stopped cleanly."""
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    yield server
    stop_cleanly(server)
