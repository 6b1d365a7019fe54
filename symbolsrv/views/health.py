"""Health and monitoring: /__lbheartbeat__, /__heartbeat__, /__version__, /metrics."""

from __future__ import annotations

import os
from importlib import metadata

from pyramid.response import Response
from pyramid.view import view_config

from symbolsrv import db, serving
from symbolsrv.errors import StorageError
from symbolsrv.metrics import CONTENT_TYPE


@view_config(route_name="lbheartbeat", request_method="GET")
def lbheartbeat(request):
    """The process is up; load balancers ask this often, so it touches nothing."""
    return Response(status=200, headerlist=[("Content-Length", "0"), ("Cache-Control", "no-store")])


@view_config(route_name="heartbeat", request_method="GET")
def heartbeat(request):
    """Reach the database and every location; 503 if any fails."""
    app = request.registry["symbolsrv.app"]
    checks = {}
    try:
        db.ping(app.engine)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    for storage in app.chain.all:
        try:
            storage.ping()
            checks[storage.name] = "ok"
        except StorageError as exc:
            checks[storage.name] = f"error: {str(exc.original)[:200]}"
        except Exception as exc:  # a crashing plugin is a failing location too, never a 500
            checks[storage.name] = f"error: {type(exc).__name__}: {str(exc)[:200]}"
    healthy = all(value == "ok" for value in checks.values())
    return serving.json_response(
        200 if healthy else 503,
        {
            "status": "ok" if healthy else "error",
            "checks": checks,
            "requests": app.counters.snapshot(),
            "miss_log": {"pending": app.misslog.pending, "dropped": app.misslog.dropped},
            "circuits": {s.name: app.chain.breaker(s).state for s in app.chain.all},
            "cache": {
                "backend": app.chain.cache.name,
                "hits": getattr(app.chain.cache, "hits", 0),
                "misses": getattr(app.chain.cache, "misses", 0),
            },
        },
    )


@view_config(route_name="version", request_method="GET")
def version(request):
    """Package version, and the deployed commit when the deployment sets SYMBOLSRV_COMMIT."""
    return serving.json_response(
        200,
        {
            "name": "symbolsrv",
            "version": metadata.version("symbolsrv"),
            "commit": os.environ.get("SYMBOLSRV_COMMIT", ""),
        },
    )


@view_config(route_name="metrics", request_method="GET")
def metrics(request):
    """Prometheus text format: outcomes, per-location latency, cache, miss log, circuits."""
    body = request.registry["symbolsrv.app"].metrics.render()
    return Response(
        status=200,
        body=body,
        headerlist=[("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store")],
    )
