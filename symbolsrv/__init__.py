"""symbolsrv: one URL in front of ordered symbol storage locations.

main() is the Paste app factory (`pserve development.ini`); plugins import `hookimpl` here.
"""

from __future__ import annotations

import atexit
import signal
import threading
from dataclasses import dataclass

from pyramid.config import Configurator

from symbolsrv import db, wiring
from symbolsrv.chain import StorageChain
from symbolsrv.codeids import CodeIdIndex
from symbolsrv.hookspecs import hookimpl
from symbolsrv.lookup import Resolver
from symbolsrv.metrics import Metrics
from symbolsrv.accesslog import AccessLog
from symbolsrv.misslog import MissLog
from symbolsrv.settings import Settings
from symbolsrv.stats import RequestCounters

__all__ = ["hookimpl", "main"]


@dataclass
class SymbolServer:
    """Everything a request needs, built once at start-up."""

    cfg: Settings
    pm: object
    chain: StorageChain
    resolver: Resolver
    engine: object
    misslog: MissLog
    accesslog: AccessLog
    counters: RequestCounters
    metrics: Metrics
    codeids: CodeIdIndex | None = None


def main(global_config, **settings):
    """Build the WSGI app. Reads top to bottom as a table of contents."""
    # Settings, plugins, chain, engine: as the CLI builds them.
    global_config = global_config or {}
    parts = wiring.build(settings, global_config.get("__file__"), global_config)
    cfg, pm, metrics, chain, engine = parts.cfg, parts.pm, parts.metrics, parts.chain, parts.engine

    db.create_tables(engine)
    misslog = MissLog(
        engine, cfg.miss_flush_interval_seconds, cfg.miss_buffer_max_rows,
        on_flush=metrics.observe_flush,
    )
    misslog.start()
    atexit.register(misslog.close)
    accesslog = AccessLog()
    accesslog.start()
    atexit.register(accesslog.close)
    _stop_cleanly_on_sigterm()

    # Code-id requests (/xul.dll/<code_id>/xul.sym) answered from the index `symbolsrv index`
    # builds in the same database.
    codeids = CodeIdIndex(engine, cfg.locations, cfg.try_locations)
    server = SymbolServer(
        cfg=cfg,
        pm=pm,
        chain=chain,
        resolver=Resolver(cfg, pm, chain, codeids),
        engine=engine,
        misslog=misslog,
        accesslog=accesslog,
        counters=RequestCounters(),
        metrics=metrics,
        codeids=codeids,
    )
    metrics.watch(server)

    config = Configurator(settings=settings)
    # Pyramid tries routes in the order added and a cached hit is most of the traffic: the
    # symbol route goes first, and cedes the other routes' paths to them with a lookahead
    # (the same `[^/]+` segments and `$` as Pyramid's own patterns), so a symbol request
    # costs one route match instead of eleven. Every other path is a symbol request in one
    # of its forms (plain, legacy, try). [\s\S], not ".": a newline in a path must reach
    # the view and get its 400.
    config.add_route("symbol", "/{path:" + _NOT_OTHER_ROUTES + r"[\s\S]*}")
    for name, pattern in OTHER_ROUTES:
        config.add_route(name, pattern)
    config.scan("symbolsrv.views")
    config.registry["symbolsrv.app"] = server
    config.registry["symbolsrv.settings"] = cfg
    config.registry["symbolsrv.chain"] = chain
    config.registry["symbolsrv.plugin_manager"] = pm
    return config.make_wsgi_app()


# Every route but the symbol route, and (same order) the regex of the path after the first
# "/" that each one matches: the symbol route must match none of these paths.
OTHER_ROUTES = (
    ("home", "/"),
    ("lbheartbeat", "/__lbheartbeat__"),
    ("heartbeat", "/__heartbeat__"),
    ("version", "/__version__"),
    ("missing_symbols_csv", "/missingsymbols.csv"),
    ("metrics", "/metrics"),
    ("cache_purge", "/__cache__/{debug_file}/{debug_id}/{symbol_file}"),
    ("missing_api", "/api/v1/missing"),
    ("missing_page", "/missing/"),
    ("missing_page_noslash", "/missing"),
)
_NOT_OTHER_ROUTES = (
    r"(?!(?:|__lbheartbeat__|__heartbeat__|__version__|missingsymbols\.csv|metrics"
    r"|__cache__/[^/]+/[^/]+/[^/]+|api/v1/missing|missing/|missing)$)"
)


def _stop_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so atexit flushes the miss log (the default kills at once)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
