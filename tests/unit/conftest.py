"""Fixtures shared by the unit tests: Settings built the way main() builds them, a hand-moved
clock, and an in-process existence cache on that clock."""

import pytest

from symbolsrv.cache import MemoryCache
from symbolsrv.settings import load_settings
from tests.unit.clocks import Ticks

MINIMAL_INI = {
    "symbolsrv.locations": "file:///srv/symbols",
    "sqlalchemy.url": "sqlite://",
}


@pytest.fixture
def make_cfg():
    """Return make(overrides) -> Settings for the minimal INI updated with `overrides`."""

    def make(overrides=None):
        return load_settings({**MINIMAL_INI, **(overrides or {})})

    return make


@pytest.fixture
def cfg(make_cfg):
    return make_cfg()


@pytest.fixture
def ticks():
    return Ticks()


@pytest.fixture
def cache(ticks):
    return MemoryCache(hit_seconds=300, miss_seconds=30, max_entries=100, clock=ticks)


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials and no shared config, so no test can reach a real account."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
