"""The parts of a symbolsrv process, built from settings without serving anything.

main() and the `symbolsrv` command line both use build(): the same settings check, plugins,
storage chain, cache and engine, so `symbolsrv check` and `symbolsrv lookup` see exactly what
the server would. build() starts no thread and touches no table; main() adds the miss log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from symbolsrv import db
from symbolsrv.cache import make_cache
from symbolsrv.chain import StorageChain
from symbolsrv.location_sections import read_location_sections
from symbolsrv.metrics import Metrics
from symbolsrv.plugin_manager import make_plugin_manager
from symbolsrv.settings import Settings, load_settings


@dataclass
class Parts:
    cfg: Settings
    pm: object
    metrics: Metrics
    chain: StorageChain
    engine: object

    def close(self) -> None:
        """Stop the chain's lookup threads and close database connections."""
        self.chain.close()
        self.engine.dispose()


def build(settings: Mapping[str, Any], ini_file: str | None = None,
          variables: Mapping[str, str] | None = None) -> Parts:
    """Check the settings and build plugins, chain and engine.

    `ini_file` is the INI file (or config URI) the settings came from: its
    `[location:<name>]` sections describe locations named in symbolsrv.locations
    (symbolsrv/location_sections.py); `variables` are pserve's, for their interpolation.

    Raises ConfigurationError (a bad setting, an unimportable plugin, a location no plugin
    handles, an unsupported database) before anything connects.
    """
    cfg = load_settings(settings, read_location_sections(ini_file, variables))
    pm = make_plugin_manager(cfg.plugins)
    metrics = Metrics()
    chain = StorageChain.from_locations(cfg, pm, cache=make_cache(cfg))
    chain.observer = metrics.observe_location
    engine = db.make_engine(cfg)
    return Parts(cfg=cfg, pm=pm, metrics=metrics, chain=chain, engine=engine)
