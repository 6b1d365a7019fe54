"""?_trace: a JSON diagnosis of one lookup instead of the answer; never a download."""

from __future__ import annotations

import gc
import json
import warnings

from tests.functional.conftest import read_miss_rows
from tests.functional.scenarios import K, YUL, LocalStore, url
from tests.functional.wsgi_client import WebTestClient


def test_trace_describes_the_answer_and_is_not_logged(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    store.put(K, b"xul")
    testapp, server = make_app(tmp_path, locations=[store.root])
    client = WebTestClient(testapp)
    for path, outcome, status in ((K, "hit", 200), (YUL, "miss", 404)):
        reply = client.get(url(path, "_trace=1"))
        assert reply.status == 200, reply
        assert reply.headers.get("Content-Type").startswith("application/json")
        data = json.loads(reply.body)
        assert (data["key"], data["outcome"], data["status"]) == (path, outcome, status)
    assert read_miss_rows(server) == []


def test_trace_of_a_local_hit_leaves_no_file_open(make_app, tmp_path):
    store = LocalStore(tmp_path / "symbols")
    store.put(K, b"xul")
    testapp, _ = make_app(tmp_path, locations=[store.root])
    client = WebTestClient(testapp)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert client.get(url(K, "_trace=1")).status == 200
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == [], unclosed
