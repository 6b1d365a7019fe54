"""The debuginfod protocol end to end in process: a file:// store in the debuginfod layout."""

from __future__ import annotations

from tests.functional.conftest import read_miss_rows

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
