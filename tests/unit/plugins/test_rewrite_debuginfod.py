"""plugins.rewrite_debuginfod: /buildid/<id>/debuginfo|executable -> the debuginfod-layout key."""

import pytest

import plugins.rewrite_legacy
from plugins.rewrite_debuginfod import symbolsrv_parse_path
from symbolsrv.keys import SymbolKey
from symbolsrv.plugin_manager import make_plugin_manager
from symbolsrv.settings import load_settings

CFG = load_settings({"symbolsrv.locations": "file:///srv/symbols", "sqlalchemy.url": "sqlite://"})
BUILD_ID = "8f3a1c2b4d5e6f708192a3b4c5d6e7f809a1b2c3"  # 40 hex digits, as readelf -n prints it


def parse(path: str):
    return symbolsrv_parse_path(segments=tuple(path.strip("/").split("/")), cfg=CFG)


@pytest.mark.parametrize(
    "path, key",
    [
        (f"/buildid/{BUILD_ID}/debuginfo", SymbolKey("buildid", BUILD_ID, "debuginfo")),
        (f"/buildid/{BUILD_ID}/executable", SymbolKey("buildid", BUILD_ID, "executable")),
        # Upper- or mixed-case ids are lower-cased: debuginfod stores ids in lower case.
        (f"/buildid/{BUILD_ID.upper()}/debuginfo", SymbolKey("buildid", BUILD_ID, "debuginfo")),
        (f"/buildid/{BUILD_ID[:20].upper()}{BUILD_ID[20:]}/executable",
         SymbolKey("buildid", BUILD_ID, "executable")),
        # The id is judged later, like any debug id (check_key): not here.
        ("/buildid/nothex/debuginfo", SymbolKey("buildid", "nothex", "debuginfo")),
        # Other debuginfod requests are not served.
        (f"/buildid/{BUILD_ID}/source/usr/src/hello.c", None),
        (f"/buildid/{BUILD_ID}/section/.gdb_index", None),
        (f"/buildid/{BUILD_ID}/source", None),
        (f"/buildid/{BUILD_ID}", None),
        (f"/buildid/{BUILD_ID}/debuginfo/extra", None),
        # Names are exact: case matters, as in debuginfod.
        (f"/buildid/{BUILD_ID}/DebugInfo", None),
        (f"/BuildID/{BUILD_ID}/debuginfo", None),
        (f"/buildid/{BUILD_ID}/debuginfo.sym", None),
        # Everything else is left to the other parsers.
        (f"/libxul.so/{BUILD_ID}/libxul.so.dbg.gz", None),
        (f"/xul.pdb/{BUILD_ID}/debuginfo", None),
        (f"/firefox/buildid/{BUILD_ID}/debuginfo", None),
    ],
)
def test_debuginfod_paths_map_to_the_debuginfod_layout_key(path, key):
    assert parse(path) == key


def test_the_key_path_is_the_debuginfod_layout():
    assert parse(f"/buildid/{BUILD_ID.upper()}/debuginfo").path == f"buildid/{BUILD_ID}/debuginfo"


def test_the_legacy_plugin_no_longer_claims_buildid_paths():
    segments = ("buildid", BUILD_ID, "debuginfo")
    assert plugins.rewrite_legacy.symbolsrv_parse_path(segments=segments, cfg=CFG) is None
    assert plugins.rewrite_legacy.symbolsrv_parse_path(
        segments=("buildid", BUILD_ID, "buildid.sym"), cfg=CFG) is None


@pytest.mark.parametrize("names", [
    ("plugins.rewrite_legacy", "plugins.rewrite_debuginfod"),
    ("plugins.rewrite_debuginfod", "plugins.rewrite_legacy"),
])
def test_debuginfod_key_wins_whatever_the_registration_order(names):
    pm = make_plugin_manager(names)
    parse_path = pm.hook.symbolsrv_parse_path
    upper = BUILD_ID.upper()
    assert parse_path(segments=("buildid", upper, "debuginfo"), cfg=CFG) == SymbolKey(
        "buildid", BUILD_ID, "debuginfo")
    # The legacy rules still apply to everything else.
    assert parse_path(segments=("libxul.so", BUILD_ID, "libxul.so.sym"), cfg=CFG) == SymbolKey(
        "libxul.so", upper, "libxul.so.sym")


def test_the_hookimpl_is_tryfirst():
    pm = make_plugin_manager(("plugins.rewrite_debuginfod",))
    impls = [i for i in pm.hook.symbolsrv_parse_path.get_hookimpls()
             if i.plugin_name == "plugins.rewrite_debuginfod"]
    assert len(impls) == 1 and impls[0].tryfirst
