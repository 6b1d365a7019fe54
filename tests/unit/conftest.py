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
