"""Functional fixtures: symbolsrv built by main({}, **settings), driven in process by WebTest.

`make_app` builds an app over local directories and SQLite in tmp_path; the scenario
fixtures (client, regular, regular2, try_store, storage_calls, miss_rows, outage; see
tests/functional/scenarios.py) bind the scenario classes to one standard deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from webtest import TestApp

from symbolsrv import db, main
from symbolsrv.settings import DEFAULT_PLUGINS
from tests.functional import fake_storage
from tests.functional.scenarios import LocalStore, MissRow
from tests.functional.wsgi_client import WebTestClient


def _location(value) -> str:
    return Path(value).resolve().as_uri() if isinstance(value, Path) else str(value)


@pytest.fixture
def make_app():
    """Factory: make_app(tmp_path, locations=..., try_locations=..., **extra_settings).

    Locations are directories (Path, become file:// URLs) or location URLs (str); the
    default is one directory, tmp_path/"symbols". Extra settings are given by full key
    (**{"symbolsrv.retry_after_seconds": "7"}) or short name (retry_after_seconds=7).
    The fake storage plugin is added when a location uses one of its schemes. Returns
    (TestApp, SymbolServer); every miss log is closed at teardown.
    """
    servers = []

    def factory(tmp_path: Path, locations=None, try_locations=(), **extra_settings):
        if locations is None:
            locations = [tmp_path / "symbols"]
        for location in (*locations, *try_locations):
            if isinstance(location, Path):
                location.mkdir(parents=True, exist_ok=True)
        urls = [_location(loc) for loc in locations]
        try_urls = [_location(loc) for loc in try_locations]
        plugins = DEFAULT_PLUGINS
        if any(u.partition(":")[0] in fake_storage.SCHEMES for u in (*urls, *try_urls)):
            plugins += " " + fake_storage.MODULE
        settings = {
            "symbolsrv.locations": " ".join(urls),
            "symbolsrv.try_locations": " ".join(try_urls),
            "symbolsrv.plugins": plugins,
            "sqlalchemy.url": f"sqlite:///{tmp_path / 'db.sqlite'}",
        }
        for key, value in extra_settings.items():
            full = key if "." in key else f"symbolsrv.{key}"
            settings[full] = str(value)
        router = main({}, **settings)
        server = router.registry["symbolsrv.app"]
        servers.append(server)
        return TestApp(router), server

    yield factory
    for server in servers:
        server.misslog.close()
        close_chain = getattr(server.chain, "close", None)  # its lookup thread pool
        if close_chain is not None:
            close_chain()
        server.engine.dispose()


def read_miss_rows(server) -> list[MissRow]:
    """Flush the app's miss log and return every row of missing_symbols, in a stable order."""
    assert server.misslog.flush(), "miss log flush failed"
    t = db.missing_symbols
    columns = [t.c.day, t.c.debug_file, t.c.debug_id, t.c.symbol_file, t.c.code_file,
               t.c.code_id, t.c["count"]]
    with server.engine.connect() as conn:
        result = conn.execute(sa.select(*columns).order_by(*columns[:6]))
        return [MissRow(*row) for row in result]


@dataclass
class Deployment:
    """Two regular locations and one try location, each a counting local directory."""

    testapp: TestApp
    server: object
    client: WebTestClient
    regular: LocalStore
    regular2: LocalStore
    try_store: LocalStore


@pytest.fixture
def deployment(make_app, tmp_path) -> Deployment:
    dirs = {name: tmp_path / name for name in ("regular", "regular2", "try")}
    for directory in dirs.values():
        directory.mkdir()
    testapp, server = make_app(
        tmp_path,
        locations=[fake_storage.counting(dirs["regular"]), fake_storage.counting(dirs["regular2"])],
        try_locations=[fake_storage.counting(dirs["try"])],
    )
    return Deployment(
        testapp, server, WebTestClient(testapp),
        LocalStore(dirs["regular"]), LocalStore(dirs["regular2"]), LocalStore(dirs["try"]),
    )


@pytest.fixture
def client(deployment):
    return deployment.client


@pytest.fixture
def regular(deployment):
    return deployment.regular


@pytest.fixture
def regular2(deployment):
    return deployment.regular2


@pytest.fixture
def try_store(deployment):
    return deployment.try_store


@pytest.fixture
def storage_calls(deployment):
    return lambda: sum(len(storage.calls) for storage in deployment.server.chain.all)


@pytest.fixture
def miss_rows(deployment):
    return lambda: read_miss_rows(deployment.server)


class _FirstLocationOutage:
    def __init__(self, storage):
        self.storage = storage

    def start(self) -> None:
        self.storage.failing = True

    def end(self) -> None:
        self.storage.failing = False


@pytest.fixture
def outage(deployment):
    return _FirstLocationOutage(deployment.server.chain.regular[0])
