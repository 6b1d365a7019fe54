"""symbolsrv.codeids and `symbolsrv index`: .sym head parsing (LF, CRLF, gzip, cut heads), the
index's case rules, ranks and cache, the Resolver's code-id step (never to itself), and the
listing methods of the local, S3 (moto) and GCS (stub) storages."""

from __future__ import annotations

import gzip
import io
import os

import boto3
import pytest
import sqlalchemy as sa
from google.api_core import exceptions as gexc

from plugins.storage_gcs import GcsOptions, GcsStorage
from plugins.storage_local import LocalStorage
from plugins.storage_s3 import S3Options, S3Storage
from symbolsrv import db
from symbolsrv.codeids import (
    HEAD_BYTES,
    CodeIdIndex,
    CodeIdIndexUnavailable,
    CodeIdTarget,
    IndexedObject,
    SymHead,
    ascii_query,
    location_id,
    looks_like_code_id,
    parse_sym_head,
    redirect_path,
)
from symbolsrv.errors import StorageError, StorageUnavailable
from symbolsrv.keys import SymbolKey
from symbolsrv.lookup import ERROR, HIT, MISS, OUTCOMES, REDIRECT, Resolver
from symbolsrv.plugin_manager import make_plugin_manager
from symbolsrv.scripts import cli
from symbolsrv.scripts.index import LocationResult, Progress, index_location
from symbolsrv.storage import Hit

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
CODE_ID = "651C9AF99241000"
XUL_SYM = (f"MODULE windows x86_64 {ID} xul.pdb\nINFO CODE_ID {CODE_ID} xul.dll\n"
           "INFO GENERATOR mozilla/dump_syms 2.3.7\nFILE 0 a.cpp\n").encode()
REGULAR, REGULAR2, TRY = "file:///srv/a", "s3://org-symbols/v1", "file:///srv/try"


# ---------------------------------------------------------------- parsing .sym heads


def test_windows_head_gives_debug_and_code_names():
    assert parse_sym_head(XUL_SYM, complete=True) == SymHead(
        "windows", "x86_64", ID, "xul.pdb", CODE_ID, "xul.dll")


@pytest.mark.parametrize("newline", ["\r\n", "\r\r\n"])  # shared data's firefox.sym has \r\r\n
def test_crlf_heads_parse_like_lf(newline):
    raw = XUL_SYM.decode().replace("\n", newline).encode()
    assert parse_sym_head(raw) == parse_sym_head(XUL_SYM)


def test_gzip_encoded_head_is_gunzipped_whole_or_cut():
    packed = gzip.compress(XUL_SYM)
    assert parse_sym_head(packed, complete=True).code_id == CODE_ID
    big = gzip.compress(XUL_SYM + b"PUBLIC 1000 0 f\n" * 20000)
    assert len(big) > 64
    assert parse_sym_head(big[:HEAD_BYTES], complete=False).code_file == "xul.dll"


def test_a_cut_last_line_is_ignored_never_read_as_a_shorter_code_id():
    cut = f"MODULE windows x86_64 {ID} xul.pdb\nINFO CODE_ID 651C9AF99".encode()
    head = parse_sym_head(cut, complete=False)
    assert head.debug_file == "xul.pdb" and head.code_id == ""
    # The same bytes as a whole file (no trailing newline) are complete.
    assert parse_sym_head(cut, complete=True).code_id == "651C9AF99"


def test_linux_build_id_has_no_code_file_and_is_upper_cased():
    raw = (b"MODULE Linux x86_64 C0BCC3F19827FE653058404B2831D9E60 crash\n"
           b"INFO CODE_ID f1c3bcc0279865fe3058404b2831d9e64135386c\n")
    head = parse_sym_head(raw, complete=True)
    assert (head.code_id, head.code_file) == ("F1C3BCC0279865FE3058404B2831D9E64135386C", "")
    row = IndexedObject("file:///s", f"crash/{head.debug_id}/crash.sym", "v", head).row(None)
    assert (row["code_file"], row["code_file_key"]) == ("crash", "crash")


def test_names_with_spaces_and_full_paths():
    raw = (f"MODULE windows x86 {ID} Flash Player.pdb\n"
           f"INFO CODE_ID {CODE_ID} C:\\Program Files\\Flash Player.exe\n").encode()
    head = parse_sym_head(raw, complete=True)
    assert (head.debug_file, head.code_file) == ("Flash Player.pdb", "Flash Player.exe")


@pytest.mark.parametrize("raw", [
    b"", b"\x00\x01garbage", b"MODULE windows x86_64 nothex xul.pdb\n", b"PUBLIC 1 0 f\n",
    b"MODULE windows x86_64\n", b"\x1f\x8bnot really gzip",
    f"MODULE windows x86 {ID} a|b.pdb\n".encode(),
])
def test_anything_but_a_module_line_first_is_none(raw):
    assert parse_sym_head(raw, complete=True) is None


def test_a_bad_code_id_or_name_is_left_out():
    for info in ("INFO CODE_ID 12345 xul.dll", "INFO CODE_ID ZZZZZZZZZZ xul.dll",
                 f"INFO CODE_ID {CODE_ID} x\"ul.dll"):
        raw = f"MODULE windows x86 {ID} xul.pdb\n{info}\n".encode()
        assert parse_sym_head(raw, complete=True).code_id == "", info


def test_code_id_after_the_header_is_not_looked_for():
    raw = f"MODULE windows x86 {ID} xul.pdb\nFILE 0 a\nINFO CODE_ID {CODE_ID} xul.dll\n".encode()
    assert parse_sym_head(raw, complete=True).code_id == ""


# ---------------------------------------------------------------- pure rules


@pytest.mark.parametrize("debug_file,symbol_file,expected", [
    ("xul.dll", "xul.sym", True), ("KERNEL32.DLL", "kernel32.SYM", True),
    ("firefox.exe", "firefox.sym", True), ("a.sys", "a.sym", True), ("a.ocx", "a.sym", True),
    ("a.drv", "a.sym", True), ("xul.pdb", "xul.sym", False), ("firefox.exe", "firefox.ex_", False),
    ("libxul.so", "libxul.so.sym", False), ("XUL", "XUL.sym", False),
])
def test_only_pe_names_asking_for_sym_are_code_id_requests(debug_file, symbol_file, expected):
    assert looks_like_code_id(SymbolKey(debug_file, CODE_ID, symbol_file)) is expected


def test_redirect_path_quotes_names_and_keeps_the_try_form():
    target = CodeIdTarget("Flash Player+.pdb", ID)
    assert redirect_path(target, "Flash Player+.sym", False) == (
        f"/Flash%20Player%2B.pdb/{ID}/Flash%20Player%2B.sym")
    try_path = redirect_path(CodeIdTarget("xul.pdb", ID), "xul.sym", True)
    assert try_path == f"/try/xul.pdb/{ID}/xul.sym"


def test_query_string_stays_as_sent_but_ascii():
    assert ascii_query("code_file=xul.dll&code_id=651C&try") == "code_file=xul.dll&code_id=651C&try"
    assert ascii_query("a=%2B+b&c=d e") == "a=%2B+b&c=d%20e"
    assert ascii_query("n=\xc3\xbc") == "n=%C3%BC"  # raw UTF-8 bytes, as latin-1 WSGI text


@pytest.mark.parametrize("url,expected", [
    ("s3://org-symbols/v1/?private=true&region=x", "s3://org-symbols/v1"),
    ("file:///srv/symbols/", "file:///srv/symbols"),
    ("https://user:secret@mirror.example:8443/symbols?timeout_seconds=2",
     "https://mirror.example:8443/symbols"),
])
def test_location_ids_drop_options_credentials_and_trailing_slash(url, expected):
    assert location_id(url) == expected


# ---------------------------------------------------------------- the index


@pytest.fixture
def engine(make_cfg, tmp_path):
    engine = db.make_engine(make_cfg({"sqlalchemy.url": f"sqlite:///{tmp_path}/index.sqlite"}))
    db.create_tables(engine)
    yield engine
    engine.dispose()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def sym(debug_file, debug_id, code_id, code_file, symbol_file=None):
    symbol_file = symbol_file or debug_file.rsplit(".", 1)[0] + ".sym"
    head = SymHead("windows", "x86_64", debug_id, debug_file, code_id, code_file)
    return f"{debug_file}/{debug_id}/{symbol_file}", head


def put(index, location, debug_file, debug_id, code_id, code_file, version="v1"):
    path, head = sym(debug_file, debug_id, code_id, code_file)
    index.record([IndexedObject(location_id(location), path, version, head)])


def test_schema_has_the_code_ids_table_at_the_latest_revision(engine):
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        columns = {c["name"] for c in sa.inspect(conn).get_columns("code_ids")}
        indexes = {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("code_ids")}
    assert indexes["ix_code_ids_code_id"] == ["code_id"]
    assert {"code_file", "code_id", "debug_file", "debug_id", "symbol_file", "location",
            "indexed_at"} <= columns


def test_lookup_matches_code_file_in_any_case_and_code_id_upper_cased(engine):
    index = CodeIdIndex(engine, [REGULAR])
    put(index, REGULAR, "kernel32.pdb", ID, "AE9FA416BD000", "KERNEL32.DLL")
    expected = CodeIdTarget("kernel32.pdb", ID)
    assert index.lookup("kernel32.dll", "ae9fa416bd000") == expected
    assert index.lookup("Kernel32.Dll", "AE9FA416BD000") == expected
    assert index.lookup("kernel32.dll", "AE9FA416BD001") is None
    assert index.lookup("kernel33.dll", "AE9FA416BD000") is None


def put_head(index, location, path, os, code_id, code_file=""):
    debug_file, debug_id, _ = path.split("/")
    head = SymHead(os, "x86_64", debug_id, debug_file, code_id, code_file)
    index.record([IndexedObject(location_id(location), path, "v1", head)])


def test_a_build_id_is_looked_up_without_a_file_name_among_elf_modules_only(engine):
    index = CodeIdIndex(engine, [REGULAR])
    build_id = "B4C6A0DF2F1D5A8E0D8F2B7C1A9E3F4D5C6B7A81"
    elf_id = "DFA0C6B41D2F8E5A0D8F2B7C1A9E3F4D0"
    put_head(index, REGULAR, f"libxul.so/{elf_id}/libxul.so.sym", "Linux", build_id)
    put_head(index, REGULAR, f"libc.so/{elf_id}/libc.so.sym", "Android", "A" * 40)
    assert index.lookup(None, build_id.lower()) == ("libxul.so", elf_id)
    assert index.lookup(None, "a" * 40) == ("libc.so", elf_id)
    assert index.lookup(None, build_id[:-1] + "0") is None
    # A PE code id or a Mach-O UUID is no build id, whatever a client asks.
    put(index, REGULAR, "xul.pdb", ID, "AE9FA416BD000", "xul.dll")
    put_head(index, REGULAR, f"Demo App/{ID}/Demo App.sym", "mac", "C" * 32)
    assert index.lookup(None, "AE9FA416BD000") is None
    assert index.lookup(None, "c" * 32) is None
    assert index.lookup("xul.dll", "AE9FA416BD000") == ("xul.pdb", ID)
    # A .sym stored under its own build id maps to nothing.
    put_head(index, REGULAR, "libfoo.so/0123456789ABCDEF0123/libfoo.so.sym", "Linux",
             "0123456789ABCDEF0123")
    assert index.lookup(None, "0123456789abcdef0123") is None


def test_upgrading_to_0004_keeps_rows_and_makes_the_next_index_run_read_them_again(tmp_path):
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(f"sqlite:///{tmp_path}/old.sqlite")
    config = Config()
    config.set_main_option("script_location", "symbolsrv:migrations")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(sa.text(
            "INSERT INTO code_ids (source_hash, location, code_file_key, code_id, code_file, "
            "debug_file, debug_id, symbol_file, version, indexed_at) VALUES ('h', 'file:///s', "
            "'xul.dll', 'AE9FA416BD000', 'xul.dll', 'xul.pdb', :id, 'xul.sym', 'etag1', "
            "'2026-01-01 00:00:00')"), {"id": ID})
    db.create_tables(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        rows = conn.execute(sa.text("SELECT code_id, os, version FROM code_ids")).all()
    assert rows == [("AE9FA416BD000", "", "")]
    assert CodeIdIndex(engine, ["file:///s"]).known("file:///s") == {f"xul.pdb/{ID}/xul.sym": ""}
    engine.dispose()


def test_highest_ranked_location_wins_and_try_rows_serve_only_try_requests(engine):
    index = CodeIdIndex(engine, [REGULAR, REGULAR2], [TRY])
    other = "0123456789ABCDEF0123456789ABCDEF1"
    put(index, REGULAR2, "xul.pdb", other, CODE_ID, "xul.dll")
    put(index, REGULAR, "xul.pdb", ID, CODE_ID, "xul.dll")
    put(index, TRY, "try.pdb", ID, "5F00000011000", "try.dll")
    put(index, "file:///srv/retired", "old.pdb", ID, "5F00000022000", "old.dll")
    assert index.lookup("xul.dll", CODE_ID) == ("xul.pdb", ID)
    assert index.lookup("try.dll", "5F00000011000") is None
    assert index.lookup("try.dll", "5F00000011000", include_try=True) == ("try.pdb", ID)
    assert index.lookup("old.dll", "5F00000022000", include_try=True) is None  # not configured


def test_a_sym_stored_under_its_code_id_path_is_no_mapping(engine):
    index = CodeIdIndex(engine, [REGULAR])
    put(index, REGULAR, "xul.dll", CODE_ID, CODE_ID, "XUL.DLL")
    assert index.lookup("xul.dll", CODE_ID) is None


def test_found_and_not_found_are_remembered_for_the_ttl(engine):
    clock = Clock()
    index = CodeIdIndex(engine, [REGULAR], ttl_seconds=60, clock=clock)
    assert index.lookup("xul.dll", CODE_ID) is None
    put(index, REGULAR, "xul.pdb", ID, CODE_ID, "xul.dll")
    assert index.lookup("xul.dll", CODE_ID) is None  # the cached "not indexed"
    assert index.lookup("xul.dll", CODE_ID, refresh=True) == ("xul.pdb", ID)
    with engine.begin() as conn:
        conn.execute(sa.delete(db.code_ids))
    assert index.lookup("XUL.DLL", CODE_ID.lower()) == ("xul.pdb", ID)  # cached, any case
    clock.now += 61
    assert index.lookup("xul.dll", CODE_ID) is None


def test_the_cache_keeps_at_most_max_entries(engine):
    index = CodeIdIndex(engine, [REGULAR], max_entries=3)
    for n in range(10):
        index.lookup(f"m{n}.dll", CODE_ID)
    assert len(index._cache) == 3


def test_database_errors_raise_unavailable_once_fresh_and_are_never_cached(engine):
    clock = Clock()
    index = CodeIdIndex(engine, [REGULAR], retry_seconds=5, clock=clock)
    put(index, REGULAR, "xul.pdb", ID, CODE_ID, "xul.dll")
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE code_ids RENAME TO code_ids_away"))
    with pytest.raises(CodeIdIndexUnavailable) as first:
        index.lookup("xul.dll", CODE_ID)
    assert first.value.fresh
    with pytest.raises(CodeIdIndexUnavailable) as second:  # no database round trip meanwhile
        index.lookup("xul.dll", CODE_ID)
    assert not second.value.fresh
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE code_ids_away RENAME TO code_ids"))
    clock.now += 5
    assert index.lookup("xul.dll", CODE_ID) == ("xul.pdb", ID)


def test_record_upserts_by_location_and_path_and_forget_deletes(engine):
    index = CodeIdIndex(engine, [REGULAR])
    put(index, REGULAR, "xul.pdb", ID, CODE_ID, "xul.dll", version="v1")
    put(index, REGULAR, "xul.pdb", ID, "5F00000011000", "xul.dll", version="v2")
    assert index.known(location_id(REGULAR)) == {f"xul.pdb/{ID}/xul.sym": "v2"}
    assert index.counts() == (1, 1)
    assert index.lookup("xul.dll", CODE_ID) is None
    assert index.lookup("xul.dll", "5F00000011000") == ("xul.pdb", ID)
    index.record([IndexedObject(location_id(REGULAR), f"a.pdb/{ID}/a.sym", "v", None)])
    assert index.counts() == (2, 1)
    assert index.forget(location_id(REGULAR), [f"xul.pdb/{ID}/xul.sym"]) == 1
    assert index.counts() == (1, 0)


# ---------------------------------------------------------------- the resolver's code-id step


class RecordingChain:
    def __init__(self, hits=None):
        self.hits = hits or {}
        self.calls = []

    def locate(self, key, include_try=False, refresh=False, trace=None):
        self.calls.append(key)
        return self.hits.get(key)


class FakeIndex:
    def __init__(self, mappings=None, fail=None):
        self.mappings = mappings or {}
        self.fail = fail
        self.calls = []

    def lookup(self, code_file, code_id, include_try=False, refresh=False):
        self.calls.append((code_file, code_id, include_try))
        if self.fail is not None:
            raise self.fail
        return self.mappings.get((code_file.lower(), code_id.upper()))


@pytest.fixture
def pm():
    return make_plugin_manager(("plugins.rewrite_legacy",))


def test_redirect_is_an_outcome():
    assert REDIRECT in OUTCOMES


def test_a_mapped_code_id_redirects_without_asking_storage(cfg, pm):
    chain = RecordingChain()
    index = FakeIndex({("xul.dll", CODE_ID): CodeIdTarget("xul.pdb", ID)})
    resolver = Resolver(cfg, pm, chain, index)
    answer = resolver.resolve(f"/xul.dll/{CODE_ID.lower()}/xul.sym")
    assert answer.outcome == REDIRECT
    assert answer.target_path == f"/xul.pdb/{ID}/xul.sym"
    assert chain.calls == []
    assert index.calls == [("xul.dll", CODE_ID, False)]
    try_answer = resolver.resolve(f"/try/xul.dll/{CODE_ID}/xul.sym")
    assert (try_answer.target_path, try_answer.is_try) == (f"/try/xul.pdb/{ID}/xul.sym", True)
    flag_answer = resolver.resolve(f"/xul.dll/{CODE_ID}/xul.sym", try_flag=True)
    assert (flag_answer.target_path, flag_answer.is_try) == (f"/xul.pdb/{ID}/xul.sym", True)


def test_never_redirects_to_itself(cfg, pm):
    key = SymbolKey("xul.dll", CODE_ID, "xul.sym")
    chain = RecordingChain({key: Hit("file:/s", path="/s/x")})
    index = FakeIndex({("xul.dll", CODE_ID): CodeIdTarget("XUL.DLL", CODE_ID.lower())})
    steps = []
    answer = Resolver(cfg, pm, chain, index).resolve(f"/xul.dll/{CODE_ID}/xul.sym", trace=steps)
    assert answer.outcome == HIT
    assert chain.calls == [key]
    assert [(s.location, s.outcome) for s in steps] == [("code-id index", "self")]


def test_never_redirects_to_a_key_that_would_redirect_again(cfg, pm):
    other = "5F00000011000"
    index = FakeIndex({("a.dll", CODE_ID): CodeIdTarget("b.dll", other),
                       ("b.dll", other): CodeIdTarget("a.dll", CODE_ID)})
    answer = Resolver(cfg, pm, RecordingChain(), index).resolve(f"/a.dll/{CODE_ID}/a.sym")
    assert answer.outcome == MISS


def test_unmapped_code_ids_and_other_keys_take_the_normal_lookup(cfg, pm):
    stored = SymbolKey("firefox.exe", "59021DD066000", "firefox.ex_")
    chain = RecordingChain({stored: Hit("file:/s", path="/s/f")})
    index = FakeIndex()
    resolver = Resolver(cfg, pm, chain, index)
    assert resolver.resolve("/firefox.exe/59021DD066000/firefox.ex_").outcome == HIT
    assert resolver.resolve(f"/nope.dll/{CODE_ID}/nope.sym").outcome == MISS
    assert resolver.resolve(f"/xul.pdb/{ID}/xul.sym").outcome == MISS
    assert index.calls == [("nope.dll", CODE_ID, False)]  # .ex_ and .pdb never ask the index


@pytest.mark.parametrize("failure", [CodeIdIndexUnavailable("code-id index: db down", fresh=True),
                                     RuntimeError("bug")])
def test_an_index_failure_falls_back_to_storage_and_never_says_not_found(cfg, pm, failure, caplog):
    stored = SymbolKey("xul.dll", CODE_ID, "xul.sym")
    chain = RecordingChain({stored: Hit("file:/s", path="/s/x")})
    resolver = Resolver(cfg, pm, chain, FakeIndex(fail=failure))
    assert resolver.resolve(f"/xul.dll/{CODE_ID}/xul.sym").outcome == HIT
    answer = resolver.resolve(f"/nope.dll/{CODE_ID}/nope.sym")
    assert answer.outcome == ERROR and "code-id index" in answer.reason
    assert any(r.levelname in ("WARNING", "ERROR") for r in caplog.records)


def test_a_storage_failure_stays_a_storage_failure(cfg, pm):
    class FailingChain:
        def locate(self, key, **kw):
            raise StorageUnavailable(["s3:x"])

    answer = Resolver(cfg, pm, FailingChain(), FakeIndex()).resolve(f"/a.dll/{CODE_ID}/a.sym")
    assert answer.outcome == ERROR


# ---------------------------------------------------------------- index_location over storages


def write(root, path, data, mtime=None):
    target = root.joinpath(*path.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if mtime is not None:
        os.utime(target, (mtime, mtime))


def test_local_index_is_incremental_and_follows_changes_and_deletions(engine, tmp_path):
    root = tmp_path / "store"
    write(root, f"xul.pdb/{ID}/xul.sym", XUL_SYM)
    write(root, f"gz.pdb/{ID}/gz.sym",
          gzip.compress(XUL_SYM.replace(b"xul", b"gz").replace(CODE_ID.encode(), b"5F00000011000")))
    write(root, f"linux/{ID}/linux.sym", f"MODULE Linux x86_64 {ID} linux\n".encode())
    write(root, f"junk.pdb/{ID}/junk.sym", b"\x00\x01\x02")
    write(root, "firefox.exe/59021DD066000/firefox.ex_", b"MZ")
    write(root, f"deep/x/{ID}/deep.sym", XUL_SYM)
    url = root.as_uri()
    index = CodeIdIndex(engine, [url])
    storage = LocalStorage(str(root))

    first = index_location(index, storage, url, "location 1")
    assert (first.listed, first.read, first.with_code_id, first.no_module) == (4, 4, 2, 1)
    assert first.ok and "4 .sym listed" in first.summary()
    assert index.lookup("GZ.dll", "5f00000011000") == ("gz.pdb", ID)

    again = index_location(index, storage, url, "location 1")
    assert (again.listed, again.read, again.unchanged) == (4, 0, 4)

    write(root, f"xul.pdb/{ID}/xul.sym", XUL_SYM.replace(CODE_ID.encode(), b"5F00000033000"),
          mtime=1_700_000_000)
    (root / "gz.pdb" / ID / "gz.sym").unlink()
    changed = index_location(index, storage, url, "location 1")
    assert (changed.read, changed.unchanged, changed.removed) == (1, 2, 1)
    index.clear_cache()
    assert index.lookup("xul.dll", "5F00000033000") == ("xul.pdb", ID)
    assert index.lookup("xul.dll", CODE_ID) is None
    assert index.lookup("gz.dll", "5F00000011000") is None

    full = index_location(index, storage, url, "location 1", full=True)
    assert (full.read, full.unchanged) == (3, 0)


class NoListing:
    name = "http:mirror"


def test_storages_without_a_listing_are_skipped_saying_so(engine):
    result = index_location(CodeIdIndex(engine), NoListing(), "http://mirror/", "location 2")
    assert result.skipped and result.summary().endswith("skipped (cannot list)")


class BrokenListing:
    name = "s3:broken"

    def __init__(self, known_path):
        self.known_path = known_path

    def list_keys(self, suffix):
        yield self.known_path, "v2"
        raise StorageError(self.name, "AccessDenied")

    def read_head(self, path, size):
        return XUL_SYM


def test_a_listing_failure_keeps_what_was_indexed_and_removes_nothing(engine):
    index = CodeIdIndex(engine, [REGULAR2])
    put(index, REGULAR2, "other.pdb", ID, "5F00000011000", "other.dll")
    result = index_location(index, BrokenListing(f"xul.pdb/{ID}/xul.sym"), REGULAR2, "location 1")
    assert result.failed == "AccessDenied" and result.summary().startswith("FAILED")
    assert index.counts() == (2, 2)


class FailingReads(BrokenListing):
    def list_keys(self, suffix):
        yield self.known_path, "v1"

    def read_head(self, path, size):
        raise StorageError(self.name, "timeout")


def test_read_failures_are_counted_and_retried_next_time(engine):
    index = CodeIdIndex(engine, [REGULAR2])
    result = index_location(index, FailingReads(f"xul.pdb/{ID}/xul.sym"), REGULAR2, "location 1")
    assert (result.errors, result.ok, index.counts()) == (1, False, (0, 0))


class FakeStream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_is_in_place_on_a_terminal_and_plain_lines_otherwise():
    clock = Clock()
    plain = Progress(FakeStream(False), every=2, clock=clock)
    result = LocationResult("location 1 file:/s")
    for result.listed in range(1, 6):
        plain.update(result)
    assert plain.stream.getvalue().count("\n") == 2  # at 2 and 4
    tty = Progress(FakeStream(True), every=2, clock=clock)
    for result.listed in range(1, 6):
        clock.now += 1
        tty.update(result)
    tty.done()
    text = tty.stream.getvalue()
    # Five updates in place, then the line is cleared for the summary.
    assert "\n" not in text and text.count("\r") == 7 and "5 listed" in text


def test_cli_index_command_end_to_end(tmp_path, capsys):
    root = tmp_path / "store"
    write(root, f"xul.pdb/{ID}/xul.sym", XUL_SYM)
    ini = tmp_path / "t.ini"
    ini.write_text(f"[app:main]\nuse = egg:symbolsrv\nsymbolsrv.locations = {root.as_uri()}"
                   f" http://127.0.0.1:9/mirror\nsqlalchemy.url = sqlite:///{tmp_path}/db.sqlite\n")
    assert cli.main(["index", str(ini)]) == 0
    out = capsys.readouterr().out
    assert "1 .sym listed, 1 read" in out and "skipped (cannot list)" in out
    assert "1 code ids from 1 indexed .sym objects" in out
    assert cli.main(["index", str(ini)]) == 0
    assert "0 read, 1 unchanged" in capsys.readouterr().out


# ---------------------------------------------------------------- S3 and GCS listing


def test_s3_lists_sym_objects_under_the_prefix_and_reads_their_heads(aws_env, engine):
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="org-symbols")
        s3.put_object(Bucket="org-symbols", Key=f"v1/xul.pdb/{ID}/xul.sym", Body=XUL_SYM * 500)
        gz_sym = XUL_SYM.replace(b"xul", b"gz").replace(CODE_ID.encode(), b"5F00000011000")
        s3.put_object(Bucket="org-symbols", Key=f"v1/gz.pdb/{ID}/gz.SYM",
                      Body=gzip.compress(gz_sym), ContentEncoding="gzip")
        s3.put_object(Bucket="org-symbols", Key=f"v1/empty.pdb/{ID}/empty.sym", Body=b"")
        s3.put_object(Bucket="org-symbols", Key=f"v1/xul.pdb/{ID}/xul.pd_", Body=b"MSCF")
        s3.put_object(Bucket="org-symbols", Key=f"v2/other.pdb/{ID}/other.sym", Body=XUL_SYM)
        storage = S3Storage(s3, "org-symbols", "v1/", S3Options())
        listed = dict(storage.list_keys(".sym"))
        assert sorted(listed) == [f"empty.pdb/{ID}/empty.sym", f"gz.pdb/{ID}/gz.SYM",
                                  f"xul.pdb/{ID}/xul.sym"]
        assert all(listed.values())  # ETags
        head = storage.read_head(f"xul.pdb/{ID}/xul.sym", HEAD_BYTES)
        assert head == (XUL_SYM * 500)[:HEAD_BYTES]
        assert storage.read_head(f"gz.pdb/{ID}/gz.SYM", HEAD_BYTES)[:2] == b"\x1f\x8b"
        assert storage.read_head(f"empty.pdb/{ID}/empty.sym", HEAD_BYTES) == b""
        assert storage.read_head(f"gone.pdb/{ID}/gone.sym", HEAD_BYTES) is None

        url = "s3://org-symbols/v1"
        index = CodeIdIndex(engine, [url])
        result = index_location(index, storage, url, "location 1")
        assert (result.listed, result.read, result.with_code_id, result.no_module) == (3, 3, 2, 1)
        assert index.lookup("xul.dll", CODE_ID) == ("xul.pdb", ID)
        assert index.lookup("gz.dll", "5F00000011000") == ("gz.pdb", ID)

        denied = S3Storage(s3, "no-such-bucket", "", S3Options())
        with pytest.raises(StorageError):
            list(denied.list_keys(".sym"))


class StubBlob:
    def __init__(self, name, data=None, etag="e1", error=None):
        self.name, self.data, self.etag, self.generation, self.error = name, data, etag, 7, error
        self.calls = []

    def download_as_bytes(self, **kwargs):
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return self.data[kwargs["start"]:kwargs["end"] + 1]


class StubBucket:
    def __init__(self, blobs):
        self.blobs = blobs

    def blob(self, name):
        return self.blobs.get(name) or StubBlob(name, error=gexc.NotFound("gone"))


class StubGcsClient:
    api_endpoint = "https://storage.googleapis.com"

    def __init__(self, blobs, list_error=None):
        self.blobs = {b.name: b for b in blobs}
        self.list_error = list_error
        self.listed = []

    def bucket(self, name):
        return StubBucket(self.blobs)

    def list_blobs(self, bucket, prefix=None, timeout=None):
        self.listed.append((bucket, prefix))
        if self.list_error is not None:
            raise self.list_error
        return [b for b in self.blobs.values() if b.name.startswith(prefix or "")]


def test_gcs_lists_sym_objects_and_reads_raw_ranged_heads():
    blobs = [StubBlob(f"v1/xul.pdb/{ID}/xul.sym", XUL_SYM * 500),
             StubBlob(f"v1/empty.pdb/{ID}/empty.sym",
                      error=gexc.RequestRangeNotSatisfiable("416")),
             StubBlob(f"v1/xul.pdb/{ID}/xul.pd_", b"MSCF"),
             StubBlob("v1/loose.sym", b"x")]
    client = StubGcsClient(blobs)
    storage = GcsStorage(client, "org-symbols", "v1/", GcsOptions(), 5.0)
    assert dict(storage.list_keys(".sym")) == {f"xul.pdb/{ID}/xul.sym": "e1",
                                               f"empty.pdb/{ID}/empty.sym": "e1"}
    assert client.listed == [("org-symbols", "v1/")]
    assert storage.read_head(f"xul.pdb/{ID}/xul.sym", 100) == (XUL_SYM * 500)[:100]
    assert blobs[0].calls[0]["raw_download"] is True
    assert storage.read_head(f"empty.pdb/{ID}/empty.sym", 100) == b""
    assert storage.read_head(f"gone.pdb/{ID}/gone.sym", 100) is None
    failing = GcsStorage(StubGcsClient([], list_error=gexc.Forbidden("no list")), "b", "",
                         GcsOptions(), 5.0)
    with pytest.raises(StorageError):
        list(failing.list_keys(".sym"))


def test_local_listing_of_a_missing_root_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError):
        list(LocalStorage(str(tmp_path / "unmounted")).list_keys(".sym"))
    assert LocalStorage(str(tmp_path)).read_head(f"a.pdb/{ID}/a.sym", 10) is None


def test_server_wires_the_index_into_the_resolver(tmp_path):
    from symbolsrv import main

    router = main({}, **{"symbolsrv.locations": (tmp_path).as_uri(),
                         "sqlalchemy.url": f"sqlite:///{tmp_path}/db.sqlite"})
    server = router.registry["symbolsrv.app"]
    try:
        assert server.resolver.codeids is server.codeids
        assert server.codeids.ranks == {location_id(tmp_path.as_uri()): (False, 0)}
        assert "redirect" in server.counters.snapshot()
    finally:
        server.misslog.close()
        server.engine.dispose()
