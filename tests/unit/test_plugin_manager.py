"""symbolsrv.plugin_manager: registering plugins and core's plain-path parser."""

import sys
import types

import pytest

from symbolsrv.errors import ConfigurationError
from symbolsrv.keys import SymbolKey
from symbolsrv.plugin_manager import make_plugin_manager

LOWER_ID = "44e4ec8c2f41492b9369d6b9a059577c2"


def parse(pm, cfg, *segments):
    return pm.hook.symbolsrv_parse_path(segments=segments, cfg=cfg)


def test_core_parser_alone_takes_three_segments_as_sent(cfg):
    pm = make_plugin_manager(())
    assert parse(pm, cfg, "xul.pdb", LOWER_ID, "xul.sym") == SymbolKey("xul.pdb", LOWER_ID, "xul.sym")


@pytest.mark.parametrize("count", [1, 2, 4, 5])
def test_core_parser_ignores_other_segment_counts(cfg, count):
    pm = make_plugin_manager(())
    assert parse(pm, cfg, *(["x"] * count)) is None


def test_legacy_plugin_answers_before_core_parser(cfg):
    pm = make_plugin_manager(("plugins.rewrite_legacy",))
    assert parse(pm, cfg, "xul.pdb", LOWER_ID, "xul.sym") == SymbolKey(
        "xul.pdb", LOWER_ID.upper(), "xul.sym"
    )


def test_legacy_plugin_answers_before_core_parser_whatever_the_registration_order(cfg):
    for names in [
        ("plugins.storage_local", "plugins.rewrite_legacy"),
        ("plugins.rewrite_legacy", "plugins.storage_local"),
    ]:
        pm = make_plugin_manager(names)
        assert parse(pm, cfg, "xul.pdb", LOWER_ID, "xul.sym").debug_id == LOWER_ID.upper()


def test_listed_plugins_are_registered_under_their_dotted_names():
    pm = make_plugin_manager(("plugins.storage_local", "plugins.storage_s3"))
    assert pm.has_plugin("plugins.storage_local")
    assert pm.has_plugin("plugins.storage_s3")
    assert pm.has_plugin("symbolsrv.core_paths")


@pytest.mark.parametrize("name", ["plugins.storage_nope", "no_such_package.module"])
def test_unimportable_plugin_is_a_configuration_error_naming_it(name):
    with pytest.raises(ConfigurationError, match=f"cannot import '{name}'"):
        make_plugin_manager((name,))


def test_storage_hook_returns_none_when_no_plugin_owns_the_scheme(cfg):
    pm = make_plugin_manager(("plugins.storage_local",))
    assert pm.hook.symbolsrv_storage_for(location="gs://bucket", cfg=cfg) is None


def test_plugin_with_an_unknown_hook_fails_at_start_up_naming_the_hook(monkeypatch):
    # A typo in a hook name would otherwise silently never be called. It stops start-up like
    # any other configuration error, naming the plugin module and the hook.
    from symbolsrv import hookimpl

    module = types.ModuleType("typo_plugin")

    @hookimpl
    def symbolsrv_parse_paths(segments):
        return None

    module.symbolsrv_parse_paths = symbolsrv_parse_paths
    monkeypatch.setitem(sys.modules, "typo_plugin", module)
    with pytest.raises(ConfigurationError, match="unknown hook 'symbolsrv_parse_paths' in plugin .*typo_plugin"):
        make_plugin_manager(("typo_plugin",))
