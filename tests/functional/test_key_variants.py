"""Field case C-02 through the whole app: a mixed-case PE code id stored byte for byte.

A local (case-sensitive) store holds only `renderdoc.dll/61015E74442b000/renderdoc.dl_`;
symbolsrv asks for the upper-cased id first, then for the id as sent.
"""

from __future__ import annotations

import json

from tests.functional.scenarios import url

SENT_ID = "61015E74442b000"  # `%08X%x`
AS_SENT = f"renderdoc.dll/{SENT_ID}/renderdoc.dl_"
CANONICAL = f"renderdoc.dll/{SENT_ID.upper()}/renderdoc.dl_"
DATA = b"MSCF\0\0\0\0renderdoc"


def asked(storage) -> list[str]:
    return [key.path for key in storage.calls]


def test_mixed_case_id_is_served_from_the_path_as_sent(deployment, miss_rows):
    deployment.regular2.put(AS_SENT, DATA)
    client = deployment.client
    regular, regular2 = deployment.server.chain.regular

    reply = client.get(url(AS_SENT))
    deployment.regular2.assert_serves(reply, AS_SENT, DATA)
    # Canonical first, then as sent; at most two probes per location.
    assert asked(regular) == [CANONICAL, AS_SENT]
    assert asked(regular2) == [CANONICAL, AS_SENT]
    deployment.regular2.assert_serves(client.head(url(AS_SENT)), AS_SENT, DATA, method="HEAD")
    assert miss_rows() == []


def test_upper_case_request_costs_one_probe_and_misses_the_mixed_case_file(deployment):
    deployment.regular.put(AS_SENT, DATA)
    regular, regular2 = deployment.server.chain.regular
    assert deployment.client.get(url(CANONICAL)).status == 404
    assert asked(regular) == [CANONICAL]
    assert asked(regular2) == [CANONICAL]
    # …and that miss does not hide the file from a request spelled as stored.
    deployment.regular.assert_serves(deployment.client.get(url(AS_SENT)), AS_SENT, DATA)


def test_both_spellings_absent_is_one_miss_row_of_the_canonical_key(deployment, miss_rows):
    reply = deployment.client.get(url(AS_SENT))
    assert reply.status == 404
    rows = miss_rows()
    assert [(r.debug_file, r.debug_id, r.symbol_file, r.count) for r in rows] == [
        ("renderdoc.dll", SENT_ID.upper(), "renderdoc.dl_", 1)
    ]
    for storage in deployment.server.chain.regular:
        assert asked(storage) == [CANONICAL, AS_SENT]


def test_the_canonical_spelling_wins_when_both_are_stored(deployment):
    deployment.regular.put(AS_SENT, b"as sent")
    deployment.regular.put(CANONICAL, b"canonical")
    reply = deployment.client.get(url(AS_SENT))
    deployment.regular.assert_serves(reply, CANONICAL, b"canonical")
    assert asked(deployment.server.chain.regular[0]) == [CANONICAL]


def test_trace_shows_the_spelling_that_hit(deployment):
    deployment.regular2.put(AS_SENT, DATA)
    reply = deployment.client.get(url(AS_SENT, "_trace=1"))
    data = json.loads(reply.body)
    assert data["key"] == CANONICAL and data["outcome"] == "hit"
    assert [step["outcome"] for step in data["steps"]] == ["absent", "hit (as sent)"]
    header = deployment.client.get(url(AS_SENT), headers={"Debug": "true"}).headers.get(
        "Symbolsrv-Trace")
    assert "hit (as sent)" in header, header
