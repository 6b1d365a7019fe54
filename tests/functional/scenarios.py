"""Symbol-server scenarios written once, bound to a client per suite.

The functional suite binds them to WebTest (tests/functional/conftest.py); the integration
suite can bind the same classes to an HTTP client talking to symbolsrv under waitress by
subclassing them and providing these fixtures:

    client         a ClientBase: request(method, target, headers) -> Reply; `target` is the
                   request-target as sent on the wire (percent-encoded path, raw query)
    regular        a Store for the first regular location (the one every scenario fills)
    regular2       a Store for the second regular location
    try_store      a Store for the (only) try location
    storage_calls  () -> int, how many times any location was asked for a key so far,
                   or None where that cannot be counted (the checks are then skipped)
    miss_rows      () -> list[MissRow]: every row of the miss log, after a flush
    outage         an Outage: start() makes the first regular location fail, end() heals it

A Store holds objects at `debug_file/debug_id/symbol_file` paths and knows how symbolsrv
answers for it: LocalStore (file://, symbolsrv streams the bytes: 200) is here; a
redirecting store (S3) would check for a 302 to its own URL in assert_serves.

Conventions follow shared/cases/README.md: ID, K (stored unless said), YUL (never stored).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Protocol
from urllib.parse import quote
from wsgiref.headers import Headers

import pytest

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
K = f"xul.pdb/{ID}/xul.sym"
YUL = f"yul.pdb/{ID}/yul.sym"
CSV_HEADER = "debug_file,debug_id,code_file,code_id"
CORS_ORIGIN = ("Access-Control-Allow-Origin", "*")
ALLOW = "GET, HEAD, OPTIONS"


# --- client side ----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: Headers  # case-insensitive get(); get_all() for repeated headers
    body: bytes

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.headers.items()!r}, {self.body[:200]!r})"


class ClientBase:
    """What every scenario client offers; subclasses implement request()."""

    def request(self, method: str, target: str, headers: dict[str, str] | None = None) -> Reply:
        raise NotImplementedError

    def get(self, target: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", target, headers)

    def head(self, target: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("HEAD", target, headers)

    def options(self, target: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("OPTIONS", target, headers)


def url(path: str, query: str = "") -> str:
    """The wire form of a key path: every name percent-encoded as UTF-8 ('+' is %2B)."""
    target = "/" + quote(path, safe="/")
    return f"{target}?{query}" if query else target


# --- storage side ---------------------------------------------------------------------------


class Store(Protocol):
    serves_bytes: bool  # True: symbolsrv streams the object (200); False: it redirects (302)

    def put(self, path: str, data: bytes) -> None: ...

    def delete(self, path: str) -> None: ...

    def assert_serves(self, reply: Reply, path: str, data: bytes, method: str = "GET") -> None:
        """Assert `reply` answers a request for the object at `path` holding `data`."""


class LocalStore:
    """A file:// location: symbolsrv answers a hit with the file's bytes."""

    serves_bytes = True

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def file(self, path: str) -> Path:
        return self.root.joinpath(*path.split("/"))

    def put(self, path: str, data: bytes) -> None:
        target = self.file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def delete(self, path: str) -> None:
        self.file(path).unlink()

    def assert_serves(self, reply: Reply, path: str, data: bytes, method: str = "GET") -> None:
        assert reply.status == 200, f"{method} {path}: expected 200, got {reply!r}"
        assert reply.headers.get("Content-Length") == str(len(data)), reply
        assert reply.body == (data if method == "GET" else b""), (
            f"{method} {path}: body differs from the stored bytes ({len(reply.body)} bytes "
            f"received, {len(data)} stored)"
        )
        assert reply.headers.get(CORS_ORIGIN[0]) == CORS_ORIGIN[1], reply
        assert "Location" not in reply.headers, reply


class MissRow(NamedTuple):
    day: dt.date
    debug_file: str
    debug_id: str
    symbol_file: str
    code_file: str
    code_id: str
    count: int


class Outage(Protocol):
    def start(self) -> None: ...

    def end(self) -> None: ...


# --- shared checks --------------------------------------------------------------------------


def csv_report(client: ClientBase, query: str = "today=1") -> list[tuple[str, ...]]:
    """GET /missingsymbols.csv?<query>, check its shape, return the data rows."""
    reply = client.get(f"/missingsymbols.csv?{query}" if query else "/missingsymbols.csv")
    assert reply.status == 200, reply
    assert reply.headers.get("Content-Type", "").startswith("text/csv"), reply
    text = reply.body.decode("utf-8")
    assert text.startswith(CSV_HEADER + "\n"), text[:200]
    rows = [tuple(row) for row in csv.reader(io.StringIO(text))]
    assert all(len(row) == 4 for row in rows), [r for r in rows if len(r) != 4][:5]
    return rows[1:]


@contextlib.contextmanager
def no_storage_call(storage_calls: Callable[[], int | None]):
    """Assert the block asks no location. Use it before any lookup in the test: locations
    may be asked concurrently, and a lower-ranked one can still be answering a request the
    client already has its reply for."""
    before = storage_calls()
    yield
    if before is not None:
        assert storage_calls() == before, "a location was asked for a key that needs no lookup"


@contextlib.contextmanager
def not_logged(miss_rows: Callable[[], list[MissRow]]):
    before = miss_rows()
    yield
    assert miss_rows() == before, "the request changed the miss log"


def assert_plain_error(reply: Reply, status: int | tuple[int, ...]) -> None:
    """A short plain-text error: what a debugger must never save as a symbol file."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert reply.status in statuses, reply
    assert reply.headers.get("Content-Type", "").startswith("text/plain"), reply
    assert len(reply.body) < 300 and reply.body.count(b"\n") <= 1, reply
    assert b"<html" not in reply.body.lower(), reply
    assert "Location" not in reply.headers, reply


def assert_miss(reply: Reply) -> None:
    assert_plain_error(reply, 404)
    assert reply.body.strip() == b"Symbol Not Found", reply
    assert reply.headers.get(CORS_ORIGIN[0]) == CORS_ORIGIN[1], reply


def rows_of(miss_rows: list[MissRow], debug_file: str) -> list[MissRow]:
    return [row for row in miss_rows if row.debug_file == debug_file]


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


# --- scenarios ------------------------------------------------------------------------------


class HitAndMissScenarios:
    """The basic contract: a stored key is served, a missing one is a logged 404."""

    DATA = b"MODULE windows x86_64 " + ID.encode() + b" xul.pdb\r\nFILE 0 a.cpp\n\x00\xff"

    def test_get_hit_serves_the_stored_object(self, client, regular):
        regular.put(K, self.DATA)
        regular.assert_serves(client.get(url(K)), K, self.DATA)

    def test_head_hit_is_200_with_the_get_headers_and_no_body(self, client, regular):
        regular.put(K, self.DATA)
        get, head = client.get(url(K)), client.head(url(K))
        regular.assert_serves(head, K, self.DATA, method="HEAD")
        if regular.serves_bytes:
            for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified",
                         "Cache-Control", "Access-Control-Allow-Origin"):
                assert head.headers.get(name) == get.headers.get(name), name

    def test_get_miss_returns_404_and_records_one_row(self, client, miss_rows):
        reply = client.get(url(YUL, "code_file=yul.dll&code_id=5BEDC1471C98000"))
        assert_miss(reply)
        assert reply.headers.get("Cache-Control") == "no-store"
        assert miss_rows() == [
            MissRow(utc_today(), "yul.pdb", ID, "yul.sym", "yul.dll", "5BEDC1471C98000", 1)
        ]
        assert csv_report(client) == [("yul.pdb", ID, "yul.dll", "5BEDC1471C98000")]

    def test_repeated_miss_is_counted_on_one_row(self, client, miss_rows):
        for _ in range(3):
            assert_miss(client.get(url(YUL)))
        (row,) = miss_rows()
        assert (row.debug_file, row.code_file, row.code_id, row.count) == ("yul.pdb", "", "", 3)

    def test_head_miss_is_404_and_not_logged(self, client, miss_rows):
        with not_logged(miss_rows):
            reply = client.head(url(YUL))
        assert reply.status == 404 and reply.body == b"", reply

    def test_legacy_url_serves_the_same_object(self, client, regular):
        regular.put(K, self.DATA)
        regular.assert_serves(client.get(f"/firefox/xul.pdb/{ID.lower()}/xul.sym"), K, self.DATA)

    def test_debug_header_adds_debug_time(self, client, regular):
        regular.put(K, self.DATA)
        for target in (url(K), url(YUL), "/xul.pdb//xul.sym"):
            timed = client.get(target, headers={"Debug": "true"})
            assert float(timed.headers.get("Debug-Time")) >= 0, timed
            assert "Debug-Time" not in client.get(target).headers

    def test_root_is_a_plain_404(self, client):
        assert_plain_error(client.get("/"), 404)


class ReportScenarios:
    """/missingsymbols.csv: one UTC day of distinct misses."""

    def test_empty_day_is_exactly_the_header_line(self, client):
        reply = client.get("/missingsymbols.csv")
        assert reply.status == 200, reply
        assert reply.headers.get("Content-Type").startswith("text/csv")
        assert reply.body == (CSV_HEADER + "\n").encode()
        yesterday = utc_today() - dt.timedelta(days=1)
        assert f'filename="missing-symbols-{yesterday.isoformat()}.csv"' in reply.headers.get(
            "Content-Disposition"
        )

    def test_misses_of_today_are_in_todays_report_not_yesterdays(self, client):
        assert_miss(client.get(url(YUL, "code_file=yul.dll&code_id=ABC")))
        expected = [("yul.pdb", ID, "yul.dll", "ABC")]
        assert csv_report(client, "today=1") == expected
        assert csv_report(client, f"date={utc_today().isoformat()}") == expected
        assert csv_report(client, "") == []
        assert csv_report(client, "date=2001-01-01") == []

    @pytest.mark.parametrize("query", ["date=garbage", "date=", "date=2024-13-01", "date=%FF"])
    def test_bad_date_is_400(self, client, query):
        assert_plain_error(client.get(f"/missingsymbols.csv?{query}"), 400)

    @pytest.mark.parametrize("query", ["foo=bar", "format=json&x", "microsoft=maybe", "x=%FF"])
    def test_unknown_parameters_are_ignored(self, client, query):
        assert_miss(client.get(url(YUL)))
        reply = client.get(f"/missingsymbols.csv?today=1&{query}")
        assert reply.status == 200, reply
        assert reply.body.decode().splitlines() == [CSV_HEADER, f"yul.pdb,{ID},,"]

    def test_microsoft_only_keeps_pdb_sym_misses(self, client):
        for path in (YUL, f"libyul.so/{ID}/libyul.so.sym", f"yul.pdb/{ID}/yul.pd_",
                     f"YUL.PDB/{ID}/YUL.SYM"):
            assert_miss(client.get(url(path)))
        assert csv_report(client, "today=1&microsoft=only") == [
            ("YUL.PDB", ID, "", ""),
            ("yul.pdb", ID, "", ""),
        ]
        assert len(csv_report(client, "today=1")) == 3  # yul.sym and yul.pd_ share a row

    def test_head_report_is_200_with_no_body(self, client):
        assert_miss(client.get(url(YUL)))
        reply = client.head("/missingsymbols.csv?today=1")
        assert reply.status == 200 and reply.body == b"", reply
        assert reply.headers.get("Content-Type").startswith("text/csv")

    def test_values_that_could_be_formulas_or_split_a_line_are_escaped(self, client):
        assert_miss(client.get(url(f"a,b.pdb/{ID}/a,b.sym", "code_file=%3D1%2B2.dll")))
        reply = client.get("/missingsymbols.csv?today=1")
        assert reply.body.decode().splitlines()[1] == f"\"a,b.pdb\",{ID},'=1+2.dll,"


class NameScenarios:
    """C-01, C-03, C-04, C-05, C-06: casing, encoding and length of names."""

    def test_c01_lower_case_id_is_upper_cased_names_are_not(
        self, client, regular, miss_rows
    ):
        mac_id = "4C4C445955553144A1984A09D6A8D6930"
        regular.put(K, b"xul")
        regular.put(f"XUL/{mac_id}/XUL.sym", b"XUL")
        regular.assert_serves(client.get(f"/xul.pdb/{ID.lower()}/xul.sym"), K, b"xul")
        regular.assert_serves(client.head(f"/xul.pdb/{ID.lower()}/xul.sym"), K, b"xul", "HEAD")
        assert_miss(client.get(f"/xul/{mac_id}/xul.sym"))
        assert_miss(client.get(f"/xul/{mac_id.lower()}/xul.sym"))
        rows = miss_rows()
        assert [(r.debug_file, r.debug_id, r.symbol_file, r.count) for r in rows] == [
            ("xul", mac_id, "xul.sym", 2)
        ]
        assert csv_report(client) == [("xul", mac_id, "", "")]

    def test_c03_plus_is_a_literal_plus_in_paths(self, client, regular, miss_rows):
        path = "libc++abi.dylib/43940F08B65E38888CD3C52398EB1CA10/libc++abi.dylib.sym"
        regular.put(path, b"plus")
        literal = "/" + path
        encoded = "/" + path.replace("+", "%2B")
        assert literal != encoded
        for target in (literal, encoded):
            regular.assert_serves(client.get(target), path, b"plus")
            regular.assert_serves(client.head(target), path, b"plus", "HEAD")
        assert miss_rows() == []

    @pytest.mark.parametrize(
        "name", ["Electron Framework", "汉", "xül", "snow☃man", "{d10d0bf8}@a.xpi", "ÿ"]
    )
    def test_c04_spaces_and_non_ascii_names_are_treated_alike(
        self, client, regular, miss_rows, name
    ):
        path = f"{name}/{ID}/{name}.sym"
        regular.put(path, name.encode())
        target = url(path)
        assert target.isascii()
        regular.assert_serves(client.get(target), path, name.encode())
        regular.assert_serves(client.head(target), path, name.encode(), "HEAD")
        assert miss_rows() == []

    def test_c04_plus_for_space_is_a_miss_logged_with_the_plus(self, client, regular, miss_rows):
        regular.put(f"Electron Framework/{ID}/Electron Framework.sym", b"E")
        assert_miss(client.get(f"/Electron+Framework/{ID}/Electron+Framework.sym"))
        [row] = miss_rows()
        assert (row.debug_file, row.symbol_file) == ("Electron+Framework", "Electron+Framework.sym")
        assert csv_report(client) == [("Electron+Framework", ID, "", "")]

    def test_c05_encoded_slashes_split_like_slashes(self, client, regular):
        regular.put(K, b"xul")
        for target in (f"/xul.pdb%2F{ID}%2Fxul.sym", f"/xul.pdb/{ID}%2Fxul.sym",
                       f"/xul.pdb%2f{ID}/xul.sym"):
            regular.assert_serves(client.get(target), K, b"xul")

    def test_c05_encoded_slash_build_id_path_is_a_cheap_4xx(
        self, client, storage_calls, miss_rows
    ):
        target = "/_.debug%2Felf-buildid-sym-0241a2d12e394532f972c194120b3e32f07f1abf%2F_.debug"
        with no_storage_call(storage_calls), not_logged(miss_rows):
            reply = client.get(target)
        # Field case C-05 says 404 (extension not allowed); symbolsrv checks the debug id
        # first and answers 400. Either is a cheap, uncacheable-as-a-symbol 4xx.
        assert_plain_error(reply, (400, 404))

    @pytest.mark.parametrize(
        "path",
        [
            f"{'a' * 300}.pdb/{ID}/a.sym",
            f"{'b' * 600}.pdb/{ID}/{'b' * 600}.sym",
            f"a.pdb/{ID}/{'a' * 197}.sym",
            f"{'汉' * 201}/{ID}/a.sym",
            f"a.pdb/{'A' * 65}/a.sym",
        ],
        ids=["300", "600x2", "201-symbol-file", "201-cjk", "65-hex-id"],
    )
    def test_c06_over_long_names_are_400_unlogged_and_never_stored(
        self, client, storage_calls, miss_rows, path
    ):
        with no_storage_call(storage_calls), not_logged(miss_rows):
            get, head = client.get(url(path)), client.head(url(path))
        assert_plain_error(get, 400)
        assert head.status == 400, head
        assert get.body.startswith(b"Bad Request: "), get

    def test_c06_names_of_200_characters_are_still_looked_up(self, client, regular, miss_rows):
        stored = f"{'s' * 196}.pdb/{ID}/{'s' * 196}.sym"
        regular.put(stored, b"long")
        regular.assert_serves(client.get(url(stored)), stored, b"long")
        # 200 CJK characters are 600 UTF-8 bytes: too long for a file system name, which
        # must read as "absent", never as a storage failure or a 500.
        wide = f"{'汉' * 200}/{ID}/a.sym"
        assert_miss(client.get(url(wide)))
        assert [r.debug_file for r in miss_rows()] == ["汉" * 200]

    def test_c06_long_code_file_is_stored_as_empty(self, client, miss_rows):
        assert_miss(client.get(url(YUL, "code_file=" + "c" * 5000 + "&code_id=ABC")))
        assert_miss(client.get(url(YUL, "code_id=ABC&code_file=" + "c" * 201)))
        [row] = miss_rows()
        assert (row.code_file, row.code_id, row.count) == ("", "ABC", 2)
        assert csv_report(client) == [("yul.pdb", ID, "", "ABC")]

    def test_code_file_sent_as_raw_utf8_is_stored_decoded(self, client, miss_rows):
        # Some clients put UTF-8 in the query without percent-encoding it; the server hands
        # those bytes over as latin-1 text (PEP 3333), like the path.
        raw = "xül.dll".encode("utf-8").decode("latin-1")
        assert_miss(client.get(url(YUL, "code_file=" + raw)))
        assert_miss(client.get(url(f"zul.pdb/{ID}/zul.sym", "code_file=x%C3%BCl.dll")))
        assert sorted(r.code_file for r in miss_rows()) == ["xül.dll", "xül.dll"]


class LegacyAndTryScenarios:
    """C-07 (product-prefixed URLs) and C-08 (try symbols)."""

    T1 = f"t1.pdb/{ID}/t1.sym"
    T2 = f"t2.pdb/{ID}/t2.sym"
    T3 = f"t3.pdb/{ID}/t3.sym"

    def test_c07_product_prefix_is_dropped(self, client, regular, storage_calls, miss_rows):
        regular.put(K, b"xul")
        # First, while no lookup of a lower-ranked location can still be running.
        with no_storage_call(storage_calls), not_logged(miss_rows):
            assert_plain_error(client.get(f"/gobblygook/{K}"), 404)
            assert_plain_error(client.get(f"/Firefox/{K}"), 404)
        regular.assert_serves(client.get(f"/firefox/{K}"), K, b"xul")
        regular.assert_serves(client.head(f"/thunderbird/{K}"), K, b"xul", "HEAD")
        regular.assert_serves(client.get(f"/firefox/xul.pdb/{ID.lower()}/xul.sym"), K, b"xul")

    def test_c07_binary_named_like_a_product_is_a_plain_key(self, client, regular):
        path = "firefox/946C0C63132015DD88CA2EFCBB9AC4C70/firefox.sym"
        regular.put(path, b"linux firefox")
        regular.assert_serves(client.get("/" + path), path, b"linux firefox")

    @pytest.fixture
    def try_layout(self, regular, regular2, try_store):
        try_store.put(self.T1, b"T1 try")
        regular.put(self.T2, b"T2 regular")
        try_store.put(self.T2, b"T2 try")
        regular2.put(self.T3, b"T3 regular2")
        try_store.put(self.T3, b"T3 try")

    def test_c08_try_symbols_only_through_try(self, client, try_store, miss_rows, try_layout):
        assert_miss(client.get(url(self.T1)))
        assert [r.debug_file for r in miss_rows()] == ["t1.pdb"]
        for target in (f"/try/{self.T1}", url(self.T1, "try=1"), url(self.T1, "try"),
                       f"/try/firefox/t1.pdb/{ID.lower()}/t1.sym"):
            try_store.assert_serves(client.get(target), self.T1, b"T1 try")
        try_store.assert_serves(client.head(f"/try/{self.T1}"), self.T1, b"T1 try", "HEAD")
        assert [r.count for r in miss_rows()] == [1]

    def test_c08_every_regular_location_ranks_above_try(
        self, client, regular, regular2, try_layout
    ):
        regular.assert_serves(client.get(f"/try/{self.T2}"), self.T2, b"T2 regular")
        regular2.assert_serves(client.get(f"/try/{self.T3}"), self.T3, b"T3 regular2")
        regular2.assert_serves(client.get(url(self.T3, "try")), self.T3, b"T3 regular2")

    def test_c08_try_miss_is_logged(self, client, miss_rows):
        assert_miss(client.get(f"/try/{YUL}"))
        assert [r.debug_file for r in miss_rows()] == ["yul.pdb"]

    def test_c08_put_on_try_is_405(self, client, try_layout, storage_calls, miss_rows):
        with no_storage_call(storage_calls), not_logged(miss_rows):
            reply = client.request("PUT", f"/try/{self.T1}")
        assert_plain_error(reply, 405)
        assert reply.headers.get("Allow") == ALLOW


class CheapAnswerScenarios:
    """C-09 .. C-12: noise, query strings, HEAD, CORS and other methods."""

    @pytest.mark.parametrize(
        "target, statuses",
        [
            # A server may fold a leading // into / before the app sees it: 400 or 404.
            ("///.sym", (400, 404)),
            (f"//{ID}/xul.sym", (400, 404)),
            ("/xul.pdb//xul.sym", (400,)),
            (f"/xul.pdb/{ID}/xul.sym/", (400,)),
            (f"/xul.pdb/{ID}", (404,)),
            ("/cxinjime.pdb/342D9B0A3AE64812A2388C055C9F6C321/file.ptr", (404,)),
            ("/cxinjime.pdb/342D9B0A3AE64812A2388C055C9F6C321/FILE.PTR", (404,)),
            ("/cxinjime.pdb/000000000000000000000000000000000/cxinjime.sym", (404,)),
            (f"/xul.pdb/{ID}/xul.xxx", (404,)),
            (f"/xul.pdb/{ID}/xul.sym/extra", (404,)),
            ("/xul.pdb/null/xul.sym", (400,)),
            ("/xul.pdb/%2e%2e/xul.sym", (400,)),
            ("/%2e%2e/%2e%2e/%2e%2e/etc/passwd", (400,)),
            ("/.git/config", (404,)),
            ("/favicon.ico", (404,)),
        ],
    )
    def test_c09_noise_costs_nothing(
        self, client, regular, storage_calls, miss_rows, target, statuses
    ):
        regular.put(K, b"xul")
        with no_storage_call(storage_calls), not_logged(miss_rows):
            get, head = client.get(target), client.head(target)
        assert_plain_error(get, statuses)
        assert head.status == get.status and head.body == b"", head

    @pytest.mark.parametrize(
        "query, code_file, code_id",
        [
            ("code_file=yul.dll&code_id=", "yul.dll", ""),
            ("code_file=a.dll&code_file=b.dll&code_id=5BEDC1471c98000", "b.dll", "5BEDC1471c98000"),
            ("", "", ""),
            ("code_file=yul.dll&code_id=ABC&code_file=yul.dll", "yul.dll", "ABC"),
            ("code_file=&code_id=&code_file=", "", ""),
            ("code_id=AB-CD&code_file=%00", "", ""),
            ("code_file=a%22b.dll&code_id=%27%3B--", "", ""),
            ("code_file=x&code_file", "", ""),
        ],
    )
    def test_c10_query_parameters_give_one_clean_value(
        self, client, miss_rows, query, code_file, code_id
    ):
        reply = client.get(f"/{YUL}?{query}")
        assert_miss(reply)
        [row] = miss_rows()
        assert (row.code_file, row.code_id) == (code_file, code_id)
        [csv_row] = csv_report(client)
        assert csv_row == ("yul.pdb", ID, code_file, code_id)

    def test_c10_all_four_field_requests_make_four_rows(self, client):
        for query in ("code_file=yul.dll&code_id=",
                      "code_file=a.dll&code_file=b.dll&code_id=5BEDC1471c98000",
                      "",
                      "code_file=yul.dll&code_id=ABC&code_file=yul.dll"):
            assert_miss(client.get(f"/{YUL}?{query}"))
        body = client.get("/missingsymbols.csv?today=1").body.decode()
        assert body.splitlines() == [
            CSV_HEADER,
            f"yul.pdb,{ID},,",
            f"yul.pdb,{ID},b.dll,5BEDC1471c98000",
            f"yul.pdb,{ID},yul.dll,",
            f"yul.pdb,{ID},yul.dll,ABC",
        ]
        assert "None" not in body and "[" not in body

    def test_c10_status_never_depends_on_the_query(self, client, regular):
        regular.put(K, b"xul")
        for query in ("", "code_file=&code_id=", "code_file=a.dll&code_file=b.dll",
                      "x=%FF&code_id=%00", "date=garbage&today"):
            regular.assert_serves(client.get(url(K, query)), K, b"xul")
            assert_miss(client.get(url(YUL, query)))

    def test_c11_head_and_get_agree_and_only_get_logs(self, client, regular, miss_rows):
        regular.put(K, b"xul")
        head_hit = client.head(url(K))
        regular.assert_serves(head_hit, K, b"xul", "HEAD")
        assert head_hit.status == 200  # never a redirect: a GET-presigned URL 403s a HEAD
        miss = url(YUL, "code_file=yul.dll&code_id=1")
        head_miss = client.head(miss)
        assert head_miss.status == 404 and head_miss.body == b"", head_miss
        assert miss_rows() == []
        regular.assert_serves(client.get(url(K)), K, b"xul")
        assert_miss(client.get(miss))
        assert [(r.code_file, r.code_id, r.count) for r in miss_rows()] == [("yul.dll", "1", 1)]

    PREFLIGHT_HEADERS = {
        "Origin": "https://profiler.firefox.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "user-agent",
    }

    def test_c12_preflight_is_204_without_lookup(
        self, client, regular, storage_calls, miss_rows
    ):
        regular.put(K, b"xul")
        with no_storage_call(storage_calls), not_logged(miss_rows):
            reply = client.options(url(K), headers=self.PREFLIGHT_HEADERS)
        assert reply.status == 204, reply
        assert reply.body == b""
        assert reply.headers.get("Access-Control-Allow-Origin") == "*"
        methods = {m.strip() for m in reply.headers.get("Access-Control-Allow-Methods").split(",")}
        assert {"GET", "HEAD"} <= methods
        allowed = reply.headers.get("Access-Control-Allow-Headers", "").lower()
        assert allowed == "*" or "user-agent" in {h.strip() for h in allowed.split(",")}
        assert "Location" not in reply.headers

    def test_c12_answers_carry_cors(self, client, regular):
        regular.put(K, b"xul")
        origin = {"Origin": "https://profiler.firefox.com"}
        regular.assert_serves(client.get(url(K), headers=origin), K, b"xul")
        miss = client.get(url(YUL), headers=origin)
        assert_miss(miss)
        bad = client.get("/xul.pdb//xul.sym", headers=origin)
        assert bad.status == 400 and bad.headers.get("Access-Control-Allow-Origin") == "*"

    @pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
    def test_c12_other_methods_are_405(self, client, regular, storage_calls, miss_rows, method):
        regular.put(K, b"xul")
        with no_storage_call(storage_calls), not_logged(miss_rows):
            reply = client.request(method, url(K), headers={"Origin": "https://example.org"})
        assert_plain_error(reply, 405)
        assert reply.headers.get("Allow") == ALLOW
        assert reply.headers.get("Access-Control-Allow-Origin") == "*"


class FreshnessScenarios:
    """C-16: a symbol uploaded after its first miss, then deleted.

    Misses may be cached for the documented negative-cache time (a minute at most), so a
    plain GET right after the upload may still be a 404; `_refresh` must re-check at once.
    """

    NEGATIVE_CACHE_LIMIT_SECONDS = 60

    def test_c16_upload_after_a_miss_shows_at_once_with_refresh(self, client, regular, miss_rows):
        miss = client.get(url(K))
        assert_miss(miss)
        cache_control = miss.headers.get("Cache-Control")
        assert cache_control == "no-store" or (
            cache_control.startswith("max-age=")
            and int(cache_control.partition("=")[2]) <= self.NEGATIVE_CACHE_LIMIT_SECONDS
        ), cache_control
        regular.put(K, b"late")
        maybe_cached = client.get(url(K))
        assert maybe_cached.status in (200, 302, 404), maybe_cached
        regular.assert_serves(client.get(url(K, "_refresh=1")), K, b"late")
        # The re-check replaced the remembered absence for everyone, not just this request.
        regular.assert_serves(client.get(url(K)), K, b"late")
        regular.assert_serves(client.head(url(K)), K, b"late", "HEAD")

    def test_c16_deletion_shows_with_refresh(self, client, regular):
        regular.put(K, b"soon gone")
        regular.assert_serves(client.get(url(K)), K, b"soon gone")
        regular.delete(K)
        assert_miss(client.get(url(K, "_refresh=1")))

    def test_c16_refresh_is_not_logged_differently(self, client, miss_rows):
        assert_miss(client.get(url(YUL, "code_file=yul.dll&_refresh=1")))
        assert_miss(client.get(url(YUL, "code_file=yul.dll")))
        assert [(r.code_file, r.count) for r in miss_rows()] == [("yul.dll", 2)]


class StorageOutageScenarios:
    """C-14: a failing location is a 503 with Retry-After, never a (cacheable) 404."""

    def test_c14_failure_is_503_not_logged_and_forgotten_on_recovery(
        self, client, regular, outage, miss_rows
    ):
        # The field case's requests: GET and HEAD of K while the location fails (here
        # also a GET of YUL), then GET K once it has recovered.
        regular.put(K, b"xul")
        outage.start()
        try:
            with not_logged(miss_rows):
                for method, target in (("GET", url(K)), ("HEAD", url(K)), ("GET", url(YUL))):
                    reply = client.request(method, target)
                    assert reply.status == 503, (method, target, reply)
                    assert int(reply.headers.get("Retry-After")) > 0
                    assert reply.headers.get("Cache-Control") == "no-store"
                    assert reply.headers.get("Access-Control-Allow-Origin") == "*"
        finally:
            outage.end()
        regular.assert_serves(client.get(url(K)), K, b"xul")
        assert_miss(client.get(url(YUL)))
        assert [r.debug_file for r in miss_rows()] == ["yul.pdb"]

    def test_c14_noise_stays_cheap_during_an_outage(self, client, outage):
        outage.start()
        try:
            assert client.get("/xul.pdb//xul.sym").status == 400
            assert client.get(f"/xul.pdb/{ID}/xul.xxx").status == 404
        finally:
            outage.end()


class LocalServingScenarios:
    """C-17 and C-18 for a location whose bytes symbolsrv serves itself."""

    LOCAL = f"local.pdb/{ID}/local.sym"
    DATA = bytes(range(256)) * 39 + b"0123456789abcdef"  # 10,000 bytes

    @pytest.fixture(autouse=True)
    def _serving_store(self, regular):
        if not regular.serves_bytes:
            pytest.skip("the regular location redirects; byte serving is not symbolsrv's")
        assert len(self.DATA) == 10_000
        regular.put(self.LOCAL, self.DATA)

    def test_c17_single_range_is_206(self, client):
        reply = client.get(url(self.LOCAL), headers={"Range": "bytes=0-1023"})
        assert reply.status == 206, reply
        assert reply.headers.get("Content-Range") == "bytes 0-1023/10000"
        assert reply.headers.get("Content-Length") == "1024"
        assert reply.body == self.DATA[:1024]

    def test_c17_suffix_and_open_ranges(self, client):
        tail = client.get(url(self.LOCAL), headers={"Range": "bytes=-100"})
        assert (tail.status, tail.body) == (206, self.DATA[-100:])
        assert tail.headers.get("Content-Range") == "bytes 9900-9999/10000"
        rest = client.get(url(self.LOCAL), headers={"Range": "bytes=9000-"})
        assert (rest.status, rest.body) == (206, self.DATA[9000:])

    def test_c17_unsatisfiable_range_is_416(self, client):
        reply = client.get(url(self.LOCAL), headers={"Range": "bytes=20000-"})
        assert reply.status == 416, reply
        assert reply.headers.get("Content-Range") == "bytes */10000"

    def test_c17_multi_range_is_the_full_200_or_a_real_multipart(self, client):
        reply = client.get(url(self.LOCAL), headers={"Range": "bytes=0-1023,2048-4095"})
        if reply.status == 206:
            assert reply.headers.get("Content-Type").startswith("multipart/byteranges"), reply
        else:
            assert reply.status == 200, reply
            assert reply.body == self.DATA
            assert reply.headers.get("Accept-Ranges") == "bytes"

    def test_c17_range_on_head(self, client):
        reply = client.head(url(self.LOCAL), headers={"Range": "bytes=0-1023"})
        assert reply.status in (200, 206) and reply.body == b"", reply

    def test_conditional_get_with_etag_is_304(self, client):
        first = client.get(url(self.LOCAL))
        etag = first.headers.get("ETag")
        assert etag
        again = client.get(url(self.LOCAL), headers={"If-None-Match": etag})
        assert again.status == 304 and again.body == b"", again
        since = client.get(
            url(self.LOCAL), headers={"If-Modified-Since": first.headers.get("Last-Modified")}
        )
        assert since.status == 304, since

    ORIGINAL = (b"MODULE Linux x86_64 " + ID.encode() + b" xul\nFILE 0 a.c\n") * 300

    def test_c18_gzip_sym_is_sent_as_stored_with_content_encoding(self, client, regular):
        packed = gzip.compress(self.ORIGINAL)
        regular.put(K, packed)
        answers = {
            "GET gzip": client.get(url(K), headers={"Accept-Encoding": "gzip"}),
            "HEAD gzip": client.head(url(K), headers={"Accept-Encoding": "gzip"}),
            # Documented choice (serving.local_file): gzip whatever the client accepts,
            # as S3 does with such objects.
            "GET plain": client.get(url(K)),
        }
        for name, reply in answers.items():
            assert reply.status == 200, (name, reply)
            assert reply.headers.get("Content-Encoding") == "gzip", name
            assert reply.headers.get("Content-Type").startswith("text/plain"), name
            assert reply.headers.get("Content-Length") == str(len(packed)), name
        assert answers["HEAD gzip"].body == b""
        for name in ("GET gzip", "GET plain"):
            assert gzip.decompress(answers[name].body) == self.ORIGINAL, name

    def test_c18_cab_pd_and_gz_files_are_opaque_octets(self, client, regular):
        cab = f"xul.pdb/{ID}/xul.pd_"
        regular.put(cab, b"MSCF\x00\x00\x00\x00" + bytes(500))
        dbg = f"xul/{ID}/xul.dbg.gz"
        regular.put(dbg, gzip.compress(b"\x7fELF debug"))
        for path in (cab, dbg):
            reply = client.get(url(path))
            regular.assert_serves(reply, path, regular.file(path).read_bytes())
            assert reply.headers.get("Content-Type") == "application/octet-stream", path
            assert "Content-Encoding" not in reply.headers, path
        assert client.get(url(cab)).body.startswith(b"MSCF")
