"""The workload's `codeid` lines against symbolsrv under waitress, after the real
`symbolsrv index` command has read shared/data/symbols (a file:// location).

Each line is answered as its label says: `present` is a 302 whose Location (on symbolsrv
itself) ends with the mapped key and keeps the query, and that Location serves the file's
bytes; `absent` and `unknown-debug-id` are 404 Symbol Not Found. HEAD agrees with GET.
"""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote, urlsplit

import pytest

from tests.data import SYMBOLS
from tests.integration.apps import STOP_TIMEOUT, SymbolsrvProcess, fetch_url, http_request
from tests.integration.expect import SYMBOL_NOT_FOUND

pytestmark = pytest.mark.integration


def index_command(ini_path: str, cwd: str) -> str:
    """Run `symbolsrv index <ini>` as operators do; return its stdout (exit status 0)."""
    done = subprocess.run([sys.executable, "-m", "symbolsrv.scripts.cli", "index", ini_path],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"symbolsrv index failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def parse_label(detail: str) -> tuple[str, str]:
    """`xul.dll/…/xul.sym => xul.pdb/…/xul.sym present` -> (mapped key or '-', state)."""
    _, _, mapping = detail.partition(" => ")
    mapped, _, state = mapping.rpartition(" ")
    return mapped, state


@pytest.fixture(scope="module")
def indexed_server(shared_data):
    server = SymbolsrvProcess([(shared_data / SYMBOLS).resolve().as_uri()], name="codeid")
    try:
        first = index_command(server.ini_path, server.dir)
        second = index_command(server.ini_path, server.dir)
        server.start()
        yield server, first, second
        if server.running:
            assert server.terminate(STOP_TIMEOUT) == 0, server.log_tail()
    finally:
        server.close()


def test_index_command_reads_every_sym_once_then_nothing(indexed_server, shared_data):
    _, first, second = indexed_server
    syms = sum(1 for p in (shared_data / SYMBOLS).glob("*/*/*") if p.name.lower().endswith(".sym"))
    assert f"{syms} .sym listed, {syms} read, 0 unchanged" in first, first
    assert f"{syms} .sym listed, 0 read, {syms} unchanged" in second, second


def test_codeid_lines_answer_as_labelled(indexed_server, workload, shared_data):
    server, _, _ = indexed_server
    lines = [w for w in workload if w.label == "codeid"]
    assert lines, "the workload has no codeid lines"
    states = {parse_label(w.detail)[1] for w in lines}
    assert states <= {"present", "absent", "unknown-debug-id"}, states
    assert "present" in states
    wrong, followed = [], {}
    for w in lines:
        mapped, state = parse_label(w.detail)
        reply = http_request("127.0.0.1", server.port, "GET", w.target)
        head = http_request("127.0.0.1", server.port, "HEAD", w.target)
        where = f"line {w.number} {w.target} ({w.detail})"
        if state == "present":
            location = reply.header("location") or ""
            parts = urlsplit(location)
            # Relative: a Location built from the client's Host header would be an open redirect.
            if (reply.status != 302 or parts.path != "/" + quote(mapped, safe="/")
                    or parts.query != w.query or parts.scheme or parts.netloc):
                wrong.append(f"{where}: expected 302 to /{mapped}; got {reply.status} {location!r}")
                continue
            if head.status != 302 or head.header("location") != location:
                wrong.append(f"{where}: HEAD got {head.status} {head.header('location')!r}")
            if mapped not in followed:
                target = fetch_url(server.url + location)
                followed[mapped] = target.status
                stored = (shared_data / SYMBOLS / mapped).read_bytes()
                if target.status != 200 or target.body != stored:
                    wrong.append(f"{where}: following {location} got {target.status}")
        else:
            if reply.status != 404 or reply.body != SYMBOL_NOT_FOUND or head.status != 404:
                wrong.append(f"{where}: expected 404; got {reply.status} {reply.body[:60]!r},"
                             f" HEAD {head.status}")
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong[:20])
    assert followed and all(status == 200 for status in followed.values())


def test_index_on_postgresql_upserts_looks_up_and_forgets(pg_url, shared_data):
    """The same index over PostgreSQL: migration 0002, ON CONFLICT upsert, case rules."""
    import sqlalchemy as sa

    from plugins.storage_local import LocalStorage
    from symbolsrv import db
    from symbolsrv.codeids import CodeIdIndex, location_id
    from symbolsrv.scripts.index import index_location

    engine = sa.create_engine(pg_url)
    try:
        db.create_tables(engine)
        url = (shared_data / SYMBOLS).resolve().as_uri()
        index = CodeIdIndex(engine, [url])
        storage = LocalStorage(str(shared_data / SYMBOLS))
        first = index_location(index, storage, url, "location 1")
        assert first.ok and first.read == first.listed > 0, first.summary()
        again = index_location(index, storage, url, "location 1", full=True)
        assert again.read == first.read and index.counts() == (first.read, first.with_code_id)
        assert index.lookup("XUL.DLL", "5ed439916eb4000") == (
            "xul.pdb", "88FD491257B2E0F54C4C44205044422E1")
        location = location_id(url)
        assert index.forget(location, list(index.known(location))) == first.read
        assert index.counts() == (0, 0)
    finally:
        engine.dispose()


def test_index_over_the_gcs_emulator(tmp_path, monkeypatch):
    """list_keys/read_head of plugins.storage_gcs against fake-gcs-server: ranged raw reads,
    a gzip-encoded object read compressed (never transcoded), an empty object."""
    import gzip
    import uuid

    import sqlalchemy as sa

    from plugins.storage_gcs import symbolsrv_storage_for
    from symbolsrv import db
    from symbolsrv.codeids import HEAD_BYTES, CodeIdIndex
    from symbolsrv.scripts.index import index_location
    from symbolsrv.settings import load_settings
    from tests.servers import FakeGcsServer, gcs_env, require_module

    require_module("google.cloud.storage", "to talk to the GCS emulator")
    debug_id = "44E4EC8C2F41492B9369D6B9A059577C2"
    xul = (f"MODULE windows x86_64 {debug_id} xul.pdb\nINFO CODE_ID 651C9AF99241000 xul.dll\n"
           + "PUBLIC 1000 0 f\n" * 2000).encode()
    gz = xul.replace(b"xul", b"gz").replace(b"651C9AF99241000", b"5F00000011000")
    with FakeGcsServer() as server:
        for name, value in gcs_env(server.endpoint).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
        from google.cloud import storage as gcs

        bucket = gcs.Client(project="test-project").create_bucket(f"sym-{uuid.uuid4().hex[:12]}")
        bucket.blob(f"v1/xul.pdb/{debug_id}/xul.sym").upload_from_string(xul)
        blob = bucket.blob(f"v1/gz.pdb/{debug_id}/gz.sym")
        blob.content_encoding = "gzip"
        blob.upload_from_string(gzip.compress(gz), content_type="text/plain")
        bucket.blob(f"v1/empty.pdb/{debug_id}/empty.sym").upload_from_string(b"")
        bucket.blob(f"v1/xul.pdb/{debug_id}/xul.pd_").upload_from_string(b"MSCF")

        cfg = load_settings({"symbolsrv.locations": "file:///srv", "sqlalchemy.url": "sqlite://"})
        url = f"gs://{bucket.name}/v1"
        storage = symbolsrv_storage_for(location=url + "?timeout_seconds=5", cfg=cfg)
        listed = dict(storage.list_keys(".sym"))
        assert sorted(listed) == [f"empty.pdb/{debug_id}/empty.sym", f"gz.pdb/{debug_id}/gz.sym",
                                  f"xul.pdb/{debug_id}/xul.sym"]
        assert storage.read_head(f"xul.pdb/{debug_id}/xul.sym", HEAD_BYTES) == xul[:HEAD_BYTES]
        assert storage.read_head(f"gz.pdb/{debug_id}/gz.sym", HEAD_BYTES)[:2] == b"\x1f\x8b"
        assert storage.read_head(f"empty.pdb/{debug_id}/empty.sym", HEAD_BYTES) == b""
        assert storage.read_head(f"gone.pdb/{debug_id}/gone.sym", HEAD_BYTES) is None

        engine = sa.create_engine(f"sqlite:///{tmp_path}/index.sqlite")
        try:
            db.create_tables(engine)
            index = CodeIdIndex(engine, [url])
            result = index_location(index, storage, url, "location 1")
            assert (result.listed, result.with_code_id) == (3, 2), result.summary()
            assert index.lookup("xul.dll", "651C9AF99241000") == ("xul.pdb", debug_id)
            assert index.lookup("GZ.DLL", "5f00000011000") == ("gz.pdb", debug_id)
        finally:
            engine.dispose()
