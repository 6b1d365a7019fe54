"""symbolsrv as operators run it: pserve + waitress in its own process, stopped with SIGTERM."""

import json

import pytest

pytestmark = pytest.mark.integration


def test_pserve_serves_heartbeats_and_exits_promptly_on_sigterm(start_symbolsrv, symbol_buckets):
    server = start_symbolsrv()

    assert server.get("/__lbheartbeat__").status == 200
    reply = server.get("/__heartbeat__")
    health = json.loads(reply.body)
    assert reply.status == 200 and health["status"] == "ok", health
    assert {"database", "s3:symbols-a", "s3:symbols-b", "s3:symbols-c"} <= set(health["checks"])
    assert set(health["checks"].values()) == {"ok"}, health
    version = json.loads(server.get("/__version__").body)
    assert version["name"] == "symbolsrv"

    assert server.terminate() == 0
    assert server.exit_seconds < 5
    assert "Traceback" not in server.log_text()
