"""Fixtures shared by the unit tests: a Settings built the way main() builds it."""

import pytest

from symbolsrv.settings import load_settings

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
