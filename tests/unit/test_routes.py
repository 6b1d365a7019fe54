"""The route table: the symbol route is tried first (a cached hit is most of the traffic), so
its lookahead must cede every other route's paths to that route."""

import re

import pytest
from pyramid.request import Request

from symbolsrv import OTHER_ROUTES, main


@pytest.fixture(scope="module")
def mapper(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("routes")
    router = main({}, **{"symbolsrv.locations": tmp.as_uri(),
                         "sqlalchemy.url": f"sqlite:///{tmp / 'db.sqlite'}"})
    yield router.routes_mapper
    router.registry["symbolsrv.app"].misslog.close()


def route_of(mapper, path):
    return mapper(Request.blank(path))["route"].name


@pytest.mark.parametrize("name, pattern", OTHER_ROUTES)
def test_every_other_route_keeps_its_own_paths(mapper, name, pattern):
    path = re.sub(r"\{[^}]+\}", "x.pdb", pattern)
    assert route_of(mapper, path) == name


def test_the_symbol_route_is_first_and_takes_everything_else(mapper):
    names = [route.name for route in mapper.get_routes()]
    assert names[0] == "symbol"
    assert sorted(names[1:]) == sorted(name for name, _ in OTHER_ROUTES)
    for path in ("/xul.pdb/44E4EC8C2F41492B9369D6B9A059577C2/xul.sym",
                 "/metrics/x/y", "/missing/a/b", "/__cache__/a/b", "/api/v1/missing/x",
                 "/__heartbeat__/x/y.sym", "/x\n/y/z"):
        assert route_of(mapper, path) == "symbol", path
