"""The access log: one `symbolsrv.access` record per symbol request, written off the request
thread, and nothing queued at all when the logger would drop INFO."""

from __future__ import annotations

import logging

import pytest

from tests.functional.scenarios import ID, K, LocalStore, assert_miss, url
from tests.functional.wsgi_client import WebTestClient

ACCESS = "symbolsrv.access"
DATA = b"MODULE windows x86_64 " + ID.encode() + b" xul.pdb\n"
MISS = f"/yul.pdb/{ID}/yul.sym"
JUNK = "/xul.pdb/NOT-A-HEX-ID/xul.sym"


@pytest.fixture
def logged_app(make_app, tmp_path):
    LocalStore(tmp_path / "symbols").put(K, DATA)
    testapp, server = make_app(tmp_path)
    # The app drains the queue on a background thread every 0.2 s. Two drainers (that thread
    # and the test's write()) could hand records over out of order, so stop the thread:
    # requests still queue, and write() below is then the only one that drains.
    server.accesslog.close()
    return WebTestClient(testapp), server


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS]


def test_one_record_per_request_in_order_with_every_field(logged_app, caplog):
    client, server = logged_app
    caplog.set_level(logging.INFO, logger=ACCESS)
    local = server.chain.regular[0].name

    hit = client.get(url(K), headers={"User-Agent": "ua-hit/1.0"})
    assert hit.status == 200 and hit.body == DATA, hit
    assert_miss(client.get(MISS, headers={"User-Agent": "ua-miss/2.0"}))
    assert client.get(JUNK, headers={"User-Agent": "ua-junk/3.0"}).status == 400
    assert client.get("/__heartbeat__", headers={"User-Agent": "ua-heartbeat"}).status == 200

    assert access_records(caplog) == []  # queued, not yet written: no thread drains it now
    assert len(server.accesslog._pending) == 3  # the heartbeat is not a symbol request
    server.accesslog.write()

    records = access_records(caplog)
    assert len(records) == 3, [r.getMessage() for r in records]
    assert all(r.levelno == logging.INFO for r in records)
    expected = [
        ("GET", "/" + K, 200, local, "ua-hit/1.0"),
        ("GET", MISS, 404, "-", "ua-miss/2.0"),
        ("GET", JUNK, 400, "-", "ua-junk/3.0"),
    ]
    for record, (method, path, status, location, agent) in zip(records, expected):
        message = record.getMessage()
        words = message.split(" ")
        # method, repr(path), status, location, <ms>ms, repr(user agent)
        assert words[0] == method, message
        assert words[1] == repr(path), message
        assert words[2] == str(status), message
        assert " ".join(words[3:-2]) == location, message  # a directory name may hold spaces
        assert words[-2].endswith("ms") and float(words[-2][:-2]) >= 0, message
        assert words[-1] == repr(agent), message
    assert [r.created for r in records] == sorted(r.created for r in records)
    assert not any("__heartbeat__" in r.getMessage() for r in records)

    server.accesslog.write()  # drained: a second write adds nothing
    assert len(access_records(caplog)) == 3


def test_nothing_is_queued_when_the_access_logger_is_above_info(logged_app, caplog):
    client, server = logged_app
    caplog.set_level(logging.WARNING, logger=ACCESS)

    assert client.get(url(K)).status == 200
    assert_miss(client.get(MISS))
    assert client.get(JUNK).status == 400

    assert len(server.accesslog._pending) == 0
    server.accesslog.write()
    assert access_records(caplog) == []

    # Same app, logger back at INFO: the next request is queued, so the check above was the
    # level's doing.
    caplog.set_level(logging.INFO, logger=ACCESS)
    assert_miss(client.get(MISS))
    assert len(server.accesslog._pending) == 1
