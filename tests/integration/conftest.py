"""Fixtures for the integration tests: real servers on 127.0.0.1, symbolsrv in a subprocess.

Session-wide: one moto server holding shared/data/symbols in three buckets (tests/integration/
s3data.py), one fake-gcs-server (started on first use), one PostgreSQL cluster (a fresh
database per test). Per test: `start_symbolsrv(...)` starts symbolsrv under waitress with the
caller's locations and database, and stops it with SIGTERM at the end, asserting it exits
within a few seconds; `serve_directory(kind, dir)` puts a directory into a fresh store of each
kind (tests/integration/stores.py), and `symbolsrv` runs a real client's test once per kind.

Outside CI a missing server or data directory skips with the reason; under CI=true it fails.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.data import (
    SYMBOLS,
    WORKLOAD,
    WORKLOAD_LABELS,
    WorkloadLine,
    load_workload,
    require_shared_data,
)
from tests.integration.apps import MEASUREMENTS, SymbolsrvProcess, running, stop_all
from tests.integration.s3data import SymbolBuckets, s3_client
from tests.integration.stores import (
    STORE_KINDS,
    fresh_bucket_name,
    gcs_client,
    upload_to_gcs,
    upload_to_s3,
)
from tests.servers import (
    FakeGcsServer,
    MotoServer,
    PostgresServer,
    StaticHttpServer,
    aws_env,
    gcs_env,
    require_module,
)

# ------------------------------------------------------------------------------ data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """shared/data next to the repository (tests/data.py): symbols, minidumps, workload."""
    return require_shared_data(SYMBOLS, WORKLOAD, WORKLOAD_LABELS, "minidumps")


@pytest.fixture(scope="session")
def workload(shared_data) -> list[WorkloadLine]:
    """The 20,000 request targets of workload.txt with their labels, in order."""
    return load_workload(shared_data)


# ------------------------------------------------------------------------------ S3


@pytest.fixture(scope="session")
def moto():
    """A moto S3 server for the whole session (restart it only in a test's own MotoServer)."""
    require_module("boto3", "to load the S3 emulator")
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def symbol_buckets(moto, shared_data, workload) -> SymbolBuckets:
    """Buckets A, B, C on the session moto, holding every file of shared/data/symbols."""
    buckets = SymbolBuckets.split(shared_data / "symbols", [(w.label, w.detail) for w in workload])
    buckets.upload(s3_client(moto.endpoint))
    return buckets


# ------------------------------------------------------------------------------ GCS


@pytest.fixture(scope="session")
def fake_gcs():
    """A fake-gcs-server for the whole session, with an in-memory backend (a fresh bucket per
    use)."""
    require_module("google.cloud.storage", "to fill the GCS emulator")
    with FakeGcsServer() as server:
        yield server


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="session")
def pg_cluster():
    require_module("psycopg2", "as SQLAlchemy's PostgreSQL driver")
    with PostgresServer() as server:
        yield server


def create_database(server: PostgresServer, name: str) -> str:
    """CREATE DATABASE `name` on `server`; return its SQLAlchemy URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(server.url.rsplit("/", 1)[0] + "/postgres",
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A fresh, empty database on the session cluster."""
    return create_database(pg_cluster, "t_" + uuid.uuid4().hex[:12])


# ------------------------------------------------------------------------------ symbolsrv


@pytest.fixture
def start_symbolsrv(moto, symbol_buckets):
    """start_symbolsrv(locations=None, sqlalchemy_url=None, settings=None, env=None,
    endpoint=None, name="symbolsrv", wait=True, port=None, extra_ini="") -> SymbolsrvProcess

    Start symbolsrv under waitress; by default over the session's buckets A, B, C with SQLite,
    boto3 pointed at the session moto (or at `endpoint`). With wait=False the process is only
    launched (call .wait_ready()), so that several start at once. Stopped with SIGTERM at
    teardown, which must exit with status 0 within STOP_TIMEOUT seconds.
    """
    started: list[SymbolsrvProcess] = []

    def start(locations=None, sqlalchemy_url=None, settings=None, env=None, endpoint=None,
              name="symbolsrv", wait=True, port=None, extra_ini=""):
        server = SymbolsrvProcess(
            locations if locations is not None else symbol_buckets.locations,
            sqlalchemy_url=sqlalchemy_url,
            settings=settings,
            env={**aws_env(endpoint or moto.endpoint), **(env or {})},
            name=name,
            port=port,
            extra_ini=extra_ini,
        )
        started.append(server)
        server.launch()
        return server.wait_ready() if wait else server

    yield start
    stop_all(started)


@pytest.fixture(scope="session")
def symbolsrv_s3(moto, symbol_buckets):
    """symbolsrv over buckets A, B, C with SQLite, for the whole session (the workload replay)."""
    with running(SymbolsrvProcess(symbol_buckets.locations, env=aws_env(moto.endpoint),
                                  name="main")) as server:
        yield server


# ------------------------------------------------------------------------------ measurements


def pytest_terminal_summary(terminalreporter):
    """Print what the tests measured (tests/integration/apps.py: MEASUREMENTS)."""
    if MEASUREMENTS:
        terminalreporter.section("integration measurements")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)


@pytest.fixture
def serve_directory(request):
    """serve_directory(kind, directory) -> (locations, env)

    The files under `directory` in a fresh store of `kind` (tests/integration/stores.py:
    "local", "s3", "gcs" or "http"), as symbolsrv's locations and the environment its process
    needs. The session moto or fake-gcs-server is asked for only when its kind is, so a
    missing emulator skips (fails under CI=true) only the tests of that kind. HTTP mirrors are
    stopped at teardown.
    """
    mirrors: list[StaticHttpServer] = []

    def serve(kind: str, directory: Path) -> tuple[list[str], dict[str, str]]:
        if kind == "local":
            return [directory.resolve().as_uri()], {}
        if kind == "s3":
            moto = request.getfixturevalue("moto")
            bucket = fresh_bucket_name(kind)
            upload_to_s3(s3_client(moto.endpoint), bucket, directory)
            return [f"s3://{bucket}"], aws_env(moto.endpoint)
        if kind == "gcs":
            gcs = request.getfixturevalue("fake_gcs")
            bucket = fresh_bucket_name(kind)
            upload_to_gcs(gcs_client(gcs.endpoint), bucket, directory)
            # anonymous=true: no credentials looked up whatever this machine has; the public
            # object URL is the emulator's (symbolsrv's client follows STORAGE_EMULATOR_HOST).
            return [f"gs://{bucket}?anonymous=true"], gcs_env(gcs.endpoint)
        if kind == "http":
            mirror = StaticHttpServer(directory)
            mirrors.append(mirror)
            mirror.start()
            return [mirror.url + "/"], {}
        raise ValueError(f"unknown store kind {kind!r}; expected one of {STORE_KINDS}")

    yield serve
    for mirror in mirrors:
        mirror.close()


@pytest.fixture(params=STORE_KINDS)
def symbolsrv(request, start_symbolsrv, local_store, serve_directory):
    """symbolsrv under waitress over the module's `local_store` directory, once per store kind:
    the directory itself (200 with the bytes), the session's S3 buckets A, B, C (302 to a
    public or presigned URL), or the directory's files in a fresh GCS bucket or behind an HTTP
    mirror (302 to the emulator's or the mirror's URL)."""
    if request.param == "s3":
        return start_symbolsrv()
    locations, env = serve_directory(request.param, local_store)
    return start_symbolsrv(locations, env=env)
