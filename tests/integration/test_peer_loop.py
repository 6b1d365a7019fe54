"""Loop protection: two symbolsrv processes that list each other as HTTP upstreams.

Each forwards a client's lookup to its peer with `Symbolsrv-Hops: 1`, and answers such a
forwarded request from its own stores only, so a miss is a quick 404 after one hop instead of
requests bouncing between the two until every timeout fires (a 503)."""

from __future__ import annotations

import pytest

from tests.integration.apps import access_lines, sqlite_count_sum
from tests.servers import free_port

pytestmark = pytest.mark.integration

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
IN_B = f"peer.pdb/{ID}/peer.sym"
ABSENT = f"absent.pdb/{ID}/absent.sym"


@pytest.fixture
def peers(start_symbolsrv, tmp_path):
    """Servers A and B: A has an empty store and B as upstream; B holds IN_B and has A."""
    store_a, store_b = tmp_path / "a", tmp_path / "b"
    store_a.mkdir()
    (store_b / IN_B).parent.mkdir(parents=True)
    (store_b / IN_B).write_bytes(b"MODULE windows x86_64 " + ID.encode() + b" peer.pdb\n")
    port_a, port_b = free_port(), free_port()
    settings = {"symbolsrv.storage_timeout_seconds": "5", "symbolsrv.cache_url": "none"}
    a = start_symbolsrv([store_a.as_uri(), f"http://127.0.0.1:{port_b}/"], settings=settings,
                        name="peer-a", port=port_a, wait=False)
    b = start_symbolsrv([store_b.as_uri(), f"http://127.0.0.1:{port_a}/"], settings=settings,
                        name="peer-b", port=port_b, wait=False)
    return a.wait_ready(), b.wait_ready()


def test_a_miss_is_one_hop_and_a_404_on_both_sides(peers):
    a, b = peers
    reply = a.get(f"/{ABSENT}")
    assert reply.status == 404, reply  # a loop would end in a timeout: a 503
    # A asked B once; B answered from its own store and asked nobody.
    assert access_lines(b, 1) == [("HEAD", f"/{ABSENT}", 404)]
    assert access_lines(a, 1) == [("GET", f"/{ABSENT}", 404)]
    # The client's miss is logged where the client asked; B's HEAD is no miss.
    assert sqlite_count_sum(a) == 1
    assert sqlite_count_sum(b) == 0


def test_a_file_the_peer_holds_is_a_302_to_the_peer(peers):
    a, b = peers
    reply = a.get(f"/{IN_B}")
    assert reply.status == 302, reply
    assert reply.header("Location") == f"{b.url}/{IN_B}"
    assert b.get(f"/{IN_B}").status == 200
