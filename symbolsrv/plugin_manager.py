"""Build the pluggy PluginManager from the configured dotted module names."""

from __future__ import annotations

import importlib

import pluggy

from symbolsrv import hookspecs
from symbolsrv.errors import ConfigurationError
from symbolsrv.hookspecs import hookimpl
from symbolsrv.keys import SymbolKey


class CorePaths:
    """Core's own parser for the plain /<debug_file>/<debug_id>/<symbol_file> form.

    It takes the id as sent; upper-casing is the legacy rewrite plugin's rule.
    """

    @hookimpl(trylast=True)
    def symbolsrv_parse_path(self, segments: tuple[str, ...]) -> SymbolKey | None:
        if len(segments) == 3:
            return SymbolKey(*segments)
        return None


def make_plugin_manager(plugin_names: tuple[str, ...]) -> pluggy.PluginManager:
    """Register core's parser and every listed module; raise ConfigurationError on a bad name."""
    pm = pluggy.PluginManager("symbolsrv")
    pm.add_hookspecs(hookspecs)
    pm.register(CorePaths(), name="symbolsrv.core_paths")
    for name in plugin_names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigurationError(f"symbolsrv.plugins: cannot import {name!r}: {exc}") from None
        try:
            pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            raise ConfigurationError(f"symbolsrv.plugins: {name!r} is not a valid plugin: {exc}") from None
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigurationError(f"symbolsrv.plugins: {exc}") from None
    return pm
