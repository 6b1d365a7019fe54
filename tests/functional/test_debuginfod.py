"""The debuginfod protocol end to end in process: a file:// store in the debuginfod layout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from symbolsrv.scripts.index import index_location
from tests.functional.conftest import read_miss_rows
from tests.functional.scenarios import LocalStore

BUILD_ID = "8f3a1c2b4d5e6f708192a3b4c5d6e7f809a1b2c3"
DEBUGINFO = b"\x7fELF" + bytes(range(256)) * 40  # stands in for an objcopy --only-keep-debug file
EXECUTABLE = b"\x7fELF" + b"\x90" * 3000


def store(tmp_path):
    root = tmp_path / "symbols" / "buildid" / BUILD_ID
    root.mkdir(parents=True)
    (root / "debuginfo").write_bytes(DEBUGINFO)
    (root / "executable").write_bytes(EXECUTABLE)


def test_get_debuginfo_and_executable_stream_the_stored_bytes(make_app, tmp_path):
    store(tmp_path)
    app, _ = make_app(tmp_path)
    for name, data in (("debuginfo", DEBUGINFO), ("executable", EXECUTABLE)):
        reply = app.get(f"/buildid/{BUILD_ID}/{name}")
        assert reply.status_int == 200
        assert reply.body == data
        assert reply.headers["Content-Length"] == str(len(data))
        assert reply.headers["Content-Type"].startswith("application/octet-stream")
        assert "Location" not in reply.headers


def test_an_upper_case_build_id_finds_the_lower_case_store_path(make_app, tmp_path):
    store(tmp_path)
    app, _ = make_app(tmp_path)
    assert app.get(f"/buildid/{BUILD_ID.upper()}/debuginfo").body == DEBUGINFO


def test_head_is_200_without_a_body(make_app, tmp_path):
    store(tmp_path)
    app, _ = make_app(tmp_path)
    reply = app.head(f"/buildid/{BUILD_ID}/debuginfo")
    assert reply.status_int == 200
    assert reply.body == b""
    assert reply.headers["Content-Length"] == str(len(DEBUGINFO))


def test_ranges_are_honoured(make_app, tmp_path):
    store(tmp_path)
    app, _ = make_app(tmp_path)
    reply = app.get(f"/buildid/{BUILD_ID}/debuginfo", headers={"Range": "bytes=0-3"})
    assert reply.status_int == 206
    assert reply.body == b"\x7fELF"


def test_unknown_build_id_is_a_404_logged_like_any_miss(make_app, tmp_path):
    store(tmp_path)
    app, server = make_app(tmp_path)
    unknown = "0123456789abcdef0123456789abcdef01234567"
    reply = app.get(f"/buildid/{unknown.upper()}/debuginfo", status=404)
    assert reply.body.strip() == b"Symbol Not Found"
    app.head(f"/buildid/{unknown}/executable", status=404)  # HEAD misses are never logged
    rows = read_miss_rows(server)
    assert [(r.debug_file, r.debug_id, r.symbol_file, r.count) for r in rows] == [
        ("buildid", unknown, "debuginfo", 1)]


def test_other_debuginfod_requests_are_a_404_without_a_lookup(make_app, tmp_path):
    store(tmp_path)
    app, server = make_app(tmp_path)
    for path in (f"/buildid/{BUILD_ID}/source/usr/src/hello.c",
                 f"/buildid/{BUILD_ID}/section/.gdb_index",
                 f"/buildid/{BUILD_ID}/DebugInfo"):
        app.get(path, status=404)
    app.get("/buildid/not-a-build-id/debuginfo", status=400)
    assert read_miss_rows(server) == []


def test_the_debuginfod_plugin_can_be_turned_off(make_app, tmp_path):
    # Without the plugin, /buildid/<id>/debuginfo is the plain three-part form: core's parser
    # takes the id as sent (rewrite_legacy leaves buildid/ alone), so a lower-case id still works.
    store(tmp_path)
    app, _ = make_app(tmp_path, plugins="plugins.storage_local plugins.rewrite_legacy")
    assert app.get(f"/buildid/{BUILD_ID}/debuginfo").body == DEBUGINFO
    app.get(f"/buildid/{BUILD_ID.upper()}/debuginfo", status=404)


# ------------------------------------------------------------------ Breakpad-layout stores

# A Linux module as Breakpad stores it: the .sym names the ELF build id in INFO CODE_ID, and
# the split debug file sits beside it as <debug_file>.dbg (Mozilla's symbolstore convention).
ELF_ID = "B4C6A0DF2F1D5A8E0D8F2B7C1A9E3F4D5C6B7A81"
ELF_DEBUG_ID = "DFA0C6B41D2F8E5A0D8F2B7C1A9E3F4D0"
ELF_SYM = (f"MODULE Linux x86_64 {ELF_DEBUG_ID} libfoo.so\nINFO CODE_ID {ELF_ID}\n"
           "FILE 0 foo.c\n").encode()


@pytest.fixture
def breakpad_indexed(make_app, tmp_path):
    """A Breakpad-layout store with libfoo.so's .sym, .dbg and binary, indexed."""
    breakpad = LocalStore(tmp_path / "breakpad")
    breakpad.put(f"libfoo.so/{ELF_DEBUG_ID}/libfoo.so.sym", ELF_SYM)
    breakpad.put(f"libfoo.so/{ELF_DEBUG_ID}/libfoo.so.dbg", DEBUGINFO)
    breakpad.put(f"libfoo.so/{ELF_DEBUG_ID}/libfoo.so", EXECUTABLE)
    store(tmp_path)  # a debuginfod-layout store too, holding another build id
    app, server = make_app(tmp_path, locations=[tmp_path / "symbols", breakpad.root])
    for location, storage in zip(server.cfg.locations, server.chain.regular):
        assert index_location(server.codeids, storage, location, "location").ok
    return app, server


@pytest.mark.parametrize("artifact, target, data", [
    ("debuginfo", f"/libfoo.so/{ELF_DEBUG_ID}/libfoo.so.dbg", DEBUGINFO),
    ("executable", f"/libfoo.so/{ELF_DEBUG_ID}/libfoo.so", EXECUTABLE),
])
def test_a_build_id_the_index_knows_redirects_to_its_breakpad_key(breakpad_indexed, artifact,
                                                                  target, data):
    app, server = breakpad_indexed
    for method in (app.get, app.head):
        reply = method(f"/buildid/{ELF_ID.lower()}/{artifact}?x=1", status=302)
        assert reply.headers["Location"] == f"{target}?x=1"
    assert app.get(target).body == data
    assert read_miss_rows(server) == []


def test_a_debuginfod_layout_store_still_answers_first(breakpad_indexed):
    app, server = breakpad_indexed
    assert app.get(f"/buildid/{BUILD_ID}/debuginfo", status=200).body == DEBUGINFO


def test_the_trace_names_the_build_id_step(breakpad_indexed):
    app, _ = breakpad_indexed
    data = app.get(f"/buildid/{ELF_ID.lower()}/debuginfo?_trace=1").json
    assert data["outcome"] == "redirect"
    assert ("build-id index", "hit") in [(s["location"], s["outcome"]) for s in data["steps"]]


def test_a_database_fault_in_the_build_id_step_is_a_503_not_a_404(breakpad_indexed):
    app, server = breakpad_indexed
    server.engine.dispose()
    server.codeids.engine = sa.create_engine("sqlite:////nonexistent/dir/db.sqlite")
    server.codeids.clear_cache()
    reply = app.get(f"/buildid/{ELF_ID.lower()}/debuginfo", status=503)
    assert reply.headers["Retry-After"]
    # …while a debuginfod-layout hit is still served.
    assert app.get(f"/buildid/{BUILD_ID}/debuginfo", status=200).body == DEBUGINFO


def test_an_executable_without_an_extension_is_served_under_its_own_name(make_app, tmp_path):
    # libc.so.6 and firefox have no extension symbolsrv.allowed_extensions could list.
    debug_id = "0C8A0B6A2E1F4D3C5B6A79880706050A0"
    build_id = "44339900AABBCCDDEEFF00112233445566778899"
    breakpad = LocalStore(tmp_path / "breakpad")
    breakpad.put(f"libc.so.6/{debug_id}/libc.so.6.sym",
                 f"MODULE Linux x86_64 {debug_id} libc.so.6\nINFO CODE_ID {build_id}\n".encode())
    breakpad.put(f"libc.so.6/{debug_id}/libc.so.6", EXECUTABLE)
    app, server = make_app(tmp_path, locations=[breakpad.root])
    assert index_location(server.codeids, server.chain.regular[0], server.cfg.locations[0],
                          "location").ok
    reply = app.get(f"/buildid/{build_id.lower()}/executable", status=302)
    assert reply.headers["Location"] == f"/libc.so.6/{debug_id}/libc.so.6"
    assert app.get(reply.headers["Location"]).body == EXECUTABLE
    app.get(f"/firefox/{debug_id}/firefox", status=404)  # looked up and logged, not refused
    assert [(r.debug_file, r.symbol_file) for r in read_miss_rows(server)] == [
        ("firefox", "firefox")]


def test_a_failing_debuginfod_store_does_not_hide_what_the_index_knows(make_app, tmp_path):
    from tests.functional import fake_storage

    breakpad = LocalStore(tmp_path / "breakpad")
    breakpad.put(f"libfoo.so/{ELF_DEBUG_ID}/libfoo.so.sym", ELF_SYM)
    breakpad.put(f"libfoo.so/{ELF_DEBUG_ID}/libfoo.so.dbg", DEBUGINFO)
    down = tmp_path / "down"
    down.mkdir()
    app, server = make_app(tmp_path, locations=[
        fake_storage.failing(down) + "?layout=debuginfod", breakpad.root])
    assert index_location(server.codeids, server.chain.regular[1], server.cfg.locations[1],
                          "location").ok
    # The index maps it: a 302, as a lower-ranked hit would win over a failed location.
    reply = app.get(f"/buildid/{ELF_ID.lower()}/debuginfo", status=302)
    assert reply.headers["Location"] == f"/libfoo.so/{ELF_DEBUG_ID}/libfoo.so.dbg"
    # Unmapped: the failed location might have had it, so a 503, not a 404; nothing logged.
    app.get(f"/buildid/{BUILD_ID}/debuginfo", status=503)
    # Other keys never ask the debuginfod location: an honest 404, logged.
    app.get(f"/libfoo.so/{ELF_DEBUG_ID}/libfoo.so.sym", status=200)
    app.get(f"/libbar.so/{ELF_DEBUG_ID}/libbar.so.sym", status=404)
    assert [(r.debug_file, r.symbol_file) for r in read_miss_rows(server)] == [
        ("libbar.so", "libbar.so.sym")]


def test_a_purge_forgets_a_cached_build_id_miss_in_any_case(make_app, tmp_path):
    app, _ = make_app(tmp_path, purge_token="t0ken")
    app.get(f"/buildid/{BUILD_ID}/debuginfo", status=404)  # the miss is cached…
    store(tmp_path)
    app.get(f"/buildid/{BUILD_ID}/debuginfo", status=404)
    reply = app.delete(f"/__cache__/buildid/{BUILD_ID.upper()}/debuginfo",
                       headers={"Authorization": "Bearer t0ken"})
    assert reply.text == f"Purged buildid/{BUILD_ID}/debuginfo\n"
    assert app.get(f"/buildid/{BUILD_ID}/debuginfo").body == DEBUGINFO
