"""GET /api/v1/missing and GET /missing/: misses summed per key, filtered, sorted, paged;
the HTML page's chart, table, links, escaping and Content-Security-Policy.

Rows go in through symbolsrv.db.upsert_misses for fixed days; "today" is pinned, so nothing
depends on the clock. Every test runs on SQLite, and on PostgreSQL as an integration test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from webtest import TestApp

from symbolsrv import db, main
from symbolsrv.db import MissCount, MissKey
from symbolsrv.views import missing as missing_views
from tests.functional.scenarios import ID, url
from tests.functional.wsgi_client import WebTestClient

TODAY = dt.date(2024, 5, 20)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"

XUL = MissKey("xul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "xul.sym", "xul.dll", "5F3B2C1A9E4000")
XUL_OTHER_CODE_ID = MissKey(XUL.debug_file, XUL.debug_id, "xul.sym", "xul.dll", "AAAA")
NTDLL = MissKey("ntdll.pdb", "1EB5A6A1E1C24F6E9A3C4F4B6C1D2E3F1", "ntdll.sym", "ntdll.dll", "")
# Holds LIKE's wildcards: q must match them literally.
WILD = MissKey("libc_50%.so", "0A1B2C3D4E5F60718293A4B5C6D7E8F90", "libc_50%.so.sym", "", "")
WILD_LOOKALIKE = MissKey("libcx50yy.so", "FEDCBA9876543210FEDCBA98765432100", "libcx50yy.so.sym", "", "")
SCRIPT = MissKey("<script>alert(1)</script>.pdb", "99999999999999999999999999999999A",
                 "x.sym", 'a"b.dll', "")


def day(n: int) -> dt.date:
    """TODAY minus n days."""
    return TODAY - dt.timedelta(days=n)


def at(d: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(hour))


# (key, days ago, count, first hour, last hour)
ROWS = [
    (XUL, 0, 5, 1, 9),
    (XUL, 1, 3, 2, 23),
    (XUL, 10, 100, 0, 12),  # outside the default 7 days
    (XUL_OTHER_CODE_ID, 0, 2, 4, 5),
    (NTDLL, 2, 7, 6, 7),
    (WILD, 0, 1, 3, 3),
    (WILD_LOOKALIKE, 0, 4, 8, 8),
    (SCRIPT, 12, 6, 1, 2),  # on the page only
    (NTDLL, 40, 9, 1, 1),  # outside the page's 30 days
]
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


def insert(engine, rows) -> None:
    db.upsert_misses(
        engine,
        [MissCount(day(ago), key, count, at(day(ago), first), at(day(ago), last))
         for key, ago, count, first, last in rows],
    )


@pytest.fixture(scope="module")
def postgres_url():
    """One database on a throw-away PostgreSQL cluster for this module's tests."""
    from tests.servers import PostgresServer, require_module

    require_module("psycopg2", "as SQLAlchemy's PostgreSQL driver")
    with PostgresServer() as server:
        admin = sa.create_engine(server.url.rsplit("/", 1)[0] + "/postgres",
                                 isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text('CREATE DATABASE "missing_api"'))
        finally:
            admin.dispose()
        yield server.url.rsplit("/", 1)[0] + "/missing_api"


def empty_database(request, backend: str, directory) -> str:
    """The URL of an empty miss log: a new SQLite file, or the module's PostgreSQL emptied."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'db.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    try:
        db.create_tables(engine)
        with engine.begin() as conn:
            conn.execute(db.missing_symbols.delete())
    finally:
        engine.dispose()
    return url


@contextlib.contextmanager
def running_app(directory, database_url):
    """symbolsrv over an empty local store and `database_url`, as TestApp; closed on exit."""
    store = directory / "symbols"
    store.mkdir(exist_ok=True)
    router = main({}, **{"symbolsrv.locations": store.as_uri(), "sqlalchemy.url": database_url})
    server = router.registry["symbolsrv.app"]
    try:
        yield TestApp(router), server
    finally:
        server.misslog.close()
        server.chain.close()
        server.engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def pinned_today():
    """The views' "today" is TODAY for every test here (the test that needs the real clock
    names its days)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(missing_views, "utc_today", lambda: TODAY)
        yield


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory):
    """One app holding ROWS, shared by the tests that only read."""
    directory = tmp_path_factory.mktemp("seeded")
    with running_app(directory, empty_database(request, request.param, directory)) as (testapp, server):
        insert(server.engine, ROWS)
        yield testapp


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    """A fresh app with an empty miss log: (TestApp, SymbolServer)."""
    with running_app(tmp_path, empty_database(request, request.param, tmp_path)) as pair:
        yield pair


@pytest.fixture
def api(seeded):
    def get(query: str = "", status: int = 200):
        response = seeded.get("/api/v1/missing" + (f"?{query}" if query else ""), status=status)
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        return response.json

    return get


def keys(items) -> list[tuple[str, str, str, str, str]]:
    return [(i["debug_file"], i["debug_id"], i["symbol_file"], i["code_file"], i["code_id"])
            for i in items]


def as_tuple(key: MissKey):
    return (key.debug_file, key.debug_id, key.symbol_file, key.code_file, key.code_id)


# ------------------------------------------------------------------ the API


def test_default_is_the_last_7_utc_days_summed_per_key_most_missed_first(api):
    body = api()
    assert body["total"] == 5
    assert (body["page"], body["per_page"]) == (1, 50)
    assert (body["from"], body["to"]) == (day(6).isoformat(), TODAY.isoformat())
    assert keys(body["items"]) == [as_tuple(k) for k in (XUL, NTDLL, WILD_LOOKALIKE,
                                                         XUL_OTHER_CODE_ID, WILD)]
    xul = body["items"][0]
    assert xul == {
        "debug_file": "xul.pdb",
        "debug_id": XUL.debug_id,
        "symbol_file": "xul.sym",
        "code_file": "xul.dll",
        "code_id": "5F3B2C1A9E4000",
        "count": 8,  # 5 today + 3 yesterday; the 100 of ten days ago are outside the range
        "first_seen": f"{day(1).isoformat()}T02:00:00Z",
        "last_seen": f"{TODAY.isoformat()}T09:00:00Z",
        "days": 2,
    }


def test_from_and_to_are_inclusive_days(api):
    body = api(f"from={day(10).isoformat()}&to={day(10).isoformat()}")
    assert body["total"] == 1
    assert [(i["count"], i["days"]) for i in body["items"]] == [(100, 1)]
    body = api(f"from={day(10).isoformat()}&to={TODAY.isoformat()}")
    assert body["items"][0]["count"] == 108
    assert body["items"][0]["days"] == 3


def test_a_lone_to_ends_a_7_day_range_and_a_lone_from_runs_to_today(api):
    body = api(f"to={day(10).isoformat()}")
    assert (body["from"], body["to"]) == (day(16).isoformat(), day(10).isoformat())
    assert [(i["debug_file"], i["count"]) for i in body["items"]] == [("xul.pdb", 100),
                                                                      (SCRIPT.debug_file, 6)]
    body = api(f"from={day(2).isoformat()}")
    assert (body["from"], body["to"]) == (day(2).isoformat(), TODAY.isoformat())
    assert body["total"] == 5


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("XUL", [XUL, XUL_OTHER_CODE_ID]),  # debug_file, any case
        ("e9a3c4f4", [NTDLL]),  # debug_id, any case
        ("ntdll.pdb", [NTDLL]),
        ("c_50%", [WILD]),  # % and _ are literal, so libcx50yy.so does not match
        ("_", [WILD]),
        ("%", [WILD]),
        ("nothing-like-it", []),
    ],
)
def test_q_is_a_case_insensitive_substring_of_debug_file_or_debug_id(api, q, expected):
    body = api(f"q={quote(q)}")
    assert sorted(keys(body["items"])) == sorted(as_tuple(k) for k in expected)
    assert body["total"] == len(expected)


def test_code_file_is_an_exact_match(api):
    assert keys(api("code_file=ntdll.dll")["items"]) == [as_tuple(NTDLL)]
    assert api("code_file=ntdll")["items"] == []
    assert api("code_file=NTDLL.DLL")["items"] == []
    assert api("code_file=")["total"] == 5  # empty: any


def test_filters_combine(api):
    assert keys(api("q=xul&code_file=xul.dll&per_page=1")["items"]) == [as_tuple(XUL)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=count&order=asc", [WILD, XUL_OTHER_CODE_ID, WILD_LOOKALIKE, NTDLL, XUL]),
        ("sort=first_seen&order=asc", [NTDLL, XUL, WILD, XUL_OTHER_CODE_ID, WILD_LOOKALIKE]),
        ("sort=first_seen", [WILD_LOOKALIKE, XUL_OTHER_CODE_ID, WILD, XUL, NTDLL]),
        ("sort=last_seen&order=desc", [XUL, WILD_LOOKALIKE, XUL_OTHER_CODE_ID, WILD, NTDLL]),
        ("sort=last_seen&order=asc", [NTDLL, WILD, XUL_OTHER_CODE_ID, WILD_LOOKALIKE, XUL]),
    ],
)
def test_sort_and_order(api, query, expected):
    assert keys(api(query)["items"]) == [as_tuple(k) for k in expected]


def test_ties_are_ordered_by_key_so_pages_are_stable(app):
    testapp, server = app
    tied = [MissKey(f"m{n}.pdb", "ABCDEF0123456789ABCDEF0123456789A", f"m{n}.sym", "", "")
            for n in (3, 1, 2)]
    insert(server.engine, [(k, 0, 1, 1, 1) for k in tied])
    body = testapp.get("/api/v1/missing?order=asc").json
    assert [i["debug_file"] for i in body["items"]] == ["m1.pdb", "m2.pdb", "m3.pdb"]


def test_pages_split_the_sorted_list_and_total_counts_every_key(api):
    everything = keys(api("per_page=500")["items"])
    pages = [api(f"per_page=2&page={n}") for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert [(p["page"], p["per_page"]) for p in pages] == [(1, 2), (2, 2), (3, 2), (4, 2)]
    assert sum((keys(p["items"]) for p in pages), []) == everything


def test_totals_per_day_give_distinct_keys_and_misses_of_each_day_with_misses(api):
    assert api()["totals_per_day"] == [
        {"day": day(2).isoformat(), "distinct": 1, "count": 7},
        {"day": day(1).isoformat(), "distinct": 1, "count": 3},
        {"day": TODAY.isoformat(), "distinct": 4, "count": 12},
    ]
    # The filters apply to the totals too.
    assert api("q=xul")["totals_per_day"] == [
        {"day": day(1).isoformat(), "distinct": 1, "count": 3},
        {"day": TODAY.isoformat(), "distinct": 2, "count": 7},
    ]


def test_repeated_parameters_take_the_last_value_and_unknown_ones_are_ignored(api):
    assert api("per_page=1&per_page=3&color=blue")["per_page"] == 3


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=2024-13-01", "from"),
        ("from=20240501", "from"),
        ("from=yesterday", "from"),
        ("to=2024-05-1", "to"),
        ("to=2024-02-30", "to"),
        ("from=2024-05-10&to=2024-05-09", "from"),
        ("sort=name", "sort"),
        ("sort=COUNT", "sort"),
        ("order=up", "order"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=two", "page"),
        ("page=1000000000", "page"),
        ("per_page=0", "per_page"),
        ("per_page=501", "per_page"),
        ("per_page=1.5", "per_page"),
        ("q=" + "a" * 201, "q"),
        ("code_file=" + "a" * 201, "code_file"),
    ],
)
def test_bad_parameters_are_400_json_naming_the_parameter(api, query, parameter):
    body = api(query, status=400)
    assert list(body) == ["error"]
    assert body["error"].startswith(f"{parameter}: "), body


# Characters no name holds: the C0 and C1 controls and DEL (symbolsrv.keys), the Unicode line
# and paragraph separators, and U+FFFD, what bytes that are not UTF-8 become. On PostgreSQL a
# NUL reached the driver (ValueError, a 500); on SQLite `q=%00` matched every row.
TEXT_NOT_IN_NAMES = ["%00", "a%00b", "%01", "%09", "%0A", "%0D", "%1F", "%7F", "%C2%80",
                     "%C2%85", "%C2%9F", "%E2%80%A8", "%E2%80%A9", "%FF", "a%C3", "%ED%A0%80",
                     "%EF%BF%BD"]


@pytest.mark.parametrize("parameter", ["q", "code_file"])
@pytest.mark.parametrize("value", TEXT_NOT_IN_NAMES)
def test_text_no_name_holds_is_400_naming_the_parameter(api, parameter, value):
    body = api(f"{parameter}={value}", status=400)
    assert list(body) == ["error"]
    assert body["error"].startswith(f"{parameter}: "), body


@pytest.mark.parametrize("value", ["%22", "a%5Cb", "%3C", "a%7Cb", "%2A", "%3F", "%27", "%60",
                                   "a%2Fb", ".", ".."])
def test_code_file_that_no_miss_can_store_is_400(api, value):
    # The miss log stores such a code_file as '' (README: the same rule as path names).
    body = api(f"code_file={value}", status=400)
    assert body["error"].startswith("code_file: "), body


@pytest.mark.parametrize("value", ["%22", "a%5Cb", "%3C", "a%2Fb", "..", "%E6%B1%89", "+"])
def test_q_is_a_substring_so_only_characters_no_name_holds_are_refused(api, value):
    assert api(f"q={value}")["items"] == []


def test_raw_utf8_in_the_query_is_read_as_utf8_like_escapes(app):
    testapp, server = app
    key = MissKey("überlib.pdb", "ABCDEF0123456789ABCDEF0123456789A", "überlib.sym",
                  "überlib.dll", "")
    insert(server.engine, [(key, 0, 1, 1, 1)])
    client = WebTestClient(testapp)
    raw = "überlib".encode("utf-8").decode("latin-1")  # bytes on the wire, as waitress hands them
    for query in (f"q={raw}", f"code_file={raw}.dll", "q=%C3%BCberlib"):
        reply = client.request_environ("GET", "/api/v1/missing", query)
        assert reply.status == 200, reply
        assert [i["debug_file"] for i in json.loads(reply.body)["items"]] == ["überlib.pdb"], query


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("to=0001-01-01", "to"),  # the default from would be 6 days before year 1
        ("to=0001-01-06", "to"),
    ],
)
def test_date_arithmetic_that_overflows_is_400_naming_the_parameter(api, query, parameter):
    body = api(query, status=400)
    assert body["error"].startswith(f"{parameter}: "), body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("to=0001-01-07", ("0001-01-01", "0001-01-07")),
        ("from=0001-01-01&to=0001-01-01", ("0001-01-01", "0001-01-01")),
        ("from=0001-01-01", ("0001-01-01", TODAY.isoformat())),
        ("to=9999-12-31", ("9999-12-25", "9999-12-31")),
        ("from=9999-12-31", ("9999-12-31", "9999-12-31")),
        ("from=0001-01-01&to=9999-12-31", ("0001-01-01", "9999-12-31")),
    ],
)
def test_the_first_and_last_days_python_knows_are_fine(api, query, expected):
    body = api(query)
    assert (body["from"], body["to"]) == expected


def test_undecodable_query_bytes_are_not_a_500(seeded):
    client = WebTestClient(seeded)
    reply = client.request_environ("GET", "/api/v1/missing", "q=%ff%fe&sort=\xff")
    assert reply.status == 400
    assert b'"sort: ' in reply.body


API_PARAMETERS = ("q", "code_file", "from", "to", "sort", "order", "page", "per_page")
_any_value = st.one_of(
    st.text(max_size=30),  # any code point: controls, separators, surrogates, U+FFFD
    st.sampled_from(["", "%00", "%FF", "%", "+", "0", "-1", "500", "501", "asc", "desc", "count",
                     "first_seen", "last_seen", "0001-01-01", "9999-12-31", "a" * 201]),
    st.integers(-(10**40), 10**40).map(str),  # page, per_page: huge numbers
    st.dates().map(dt.date.isoformat),  # from, to: every date Python knows, both ends included
)
_api_query = st.builds(
    lambda pairs: "&".join(f"{quote(n)}={quote(v, safe='%+')}" for n, v in pairs),
    st.lists(st.tuples(st.sampled_from(API_PARAMETERS), _any_value), max_size=5),
)
_raw_query = st.binary(max_size=40).map(lambda raw: raw.decode("latin-1"))  # as waitress hands it


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.one_of(_api_query, _raw_query))
@example(query="q=%00")  # the reviewer's cases, always tried
@example(query="code_file=%00")
@example(query="q=a%00b&code_file=x%E2%80%A8")
@example(query="to=0001-01-01")
@example(query="page=99999999999999999999999999&per_page=99999999999999999999")
@example(query="q=\xc3")  # a raw byte that is not UTF-8
def test_any_query_is_200_or_a_400_json_naming_a_parameter(seeded, query):
    reply = WebTestClient(seeded).request_environ("GET", "/api/v1/missing", query)
    assert reply.status in (200, 400), (query, reply)
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(reply.body)
    if reply.status == 400:
        assert list(body) == ["error"]
        assert body["error"].split(": ", 1)[0] in API_PARAMETERS, (query, body)


def test_a_miss_served_a_moment_ago_is_in_the_api_at_once(make_app, tmp_path):
    testapp, server = make_app(tmp_path)  # the miss log's real clock: counted today
    client = WebTestClient(testapp)
    assert client.get(url(f"zzz.pdb/{ID}/zzz.sym", "code_file=zzz.dll")).status == 404
    today = dt.datetime.now(dt.timezone.utc).date()
    days = f"from={(today - dt.timedelta(days=1)).isoformat()}&to={today.isoformat()}"
    body = testapp.get(f"/api/v1/missing?q=zzz&{days}").json
    assert keys(body["items"]) == [("zzz.pdb", ID, "zzz.sym", "zzz.dll", "")]
    assert body["items"][0]["count"] == 1


def test_api_is_not_mistaken_for_a_symbol_path(seeded):
    testapp = seeded
    assert testapp.get("/api/v1/missing").status_int == 200
    # Other /api paths are symbol-shaped paths like any other, and never a symbol.
    other = testapp.get("/api/v2/missing", expect_errors=True)
    assert other.status_int in (400, 404) and other.content_type == "text/plain"


# ------------------------------------------------------------------ the page


def bars(body: str) -> list[tuple[str, int]]:
    return [(d, int(c)) for d, c in
            re.findall(r'<rect class="bar"[^>]* data-day="([^"]+)" data-count="([^"]+)"', body)]


@pytest.fixture
def page(seeded):
    return seeded.get("/missing/")


def test_page_is_html_with_a_strict_content_security_policy(page):
    assert page.status_int == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Content-Security-Policy"] == CSP
    assert page.headers["Cache-Control"] == "no-store"
    text = page.text
    assert text.startswith("<!DOCTYPE html>")
    # No script and nothing fetched from elsewhere (the SVG namespace is a name, not a fetch).
    text = text.replace('xmlns="http://www.w3.org/2000/svg"', "").lower()
    for outside in ("<script", "src=", "http:", "https:", "@import", "url("):
        assert outside not in text, outside


def test_page_escapes_every_value(page):
    text = page.text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.pdb" in text
    assert "a&quot;b.dll" in text


def test_page_draws_one_bar_per_day_of_the_last_30_with_its_misses(page):
    drawn = bars(page.text)
    assert len(drawn) == 30
    assert [d for d, _ in drawn] == [day(n).isoformat() for n in range(29, -1, -1)]
    expected = {day(0): 12, day(1): 3, day(2): 7, day(10): 100, day(12): 6}
    assert dict(drawn) == {day(n).isoformat(): expected.get(day(n), 0) for n in range(30)}
    assert f"<title>{day(10).isoformat()}: 100 misses, 1 distinct</title>" in page.text


def test_page_lists_the_top_modules_with_their_totals(page):
    rows = re.findall(
        r'<tr><td class="mono">([^<]*)</td><td class="mono">([^<]*)</td><td class="mono">([^<]*)'
        r'</td><td class="num" data-count="(\d+)">[^<]*</td><td><time datetime="([^"]+)"', page.text)
    assert rows == [
        ("xul.pdb", XUL.debug_id, "xul.dll", "110", f"{TODAY.isoformat()}T09:00:00Z"),  # 2 code ids
        ("ntdll.pdb", NTDLL.debug_id, "ntdll.dll", "7", f"{day(2).isoformat()}T07:00:00Z"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;.pdb", SCRIPT.debug_id, "a&quot;b.dll", "6",
         f"{day(12).isoformat()}T02:00:00Z"),
        ("libcx50yy.so", WILD_LOOKALIKE.debug_id, "", "4", f"{TODAY.isoformat()}T08:00:00Z"),
        ("libc_50%.so", WILD.debug_id, "", "1", f"{TODAY.isoformat()}T03:00:00Z"),
    ]


def test_page_links_each_days_csv_report(page):
    links = re.findall(r'<a href="(/missingsymbols\.csv\?date=[^"]+)">', page.text)
    assert links == [f"/missingsymbols.csv?date={day(n).isoformat()}" for n in range(30)]


def test_page_shows_at_most_50_modules(app):
    testapp, server = app
    insert(server.engine, [(MissKey(f"m{n:02}.pdb", "ABCDEF0123456789ABCDEF0123456789A",
                                    "m.sym", "", ""), 0, n + 1, 1, 1) for n in range(60)])
    text = testapp.get("/missing/").text
    assert text.count('<td class="num" data-count=') == 50
    assert "m59.pdb" in text and "m09.pdb" not in text


def test_page_without_misses_says_so(app):
    testapp, _ = app
    text = testapp.get("/missing/").text
    assert "No misses in these days." in text
    assert [c for _, c in bars(text)] == [0] * 30


def test_missing_without_slash_redirects_to_the_page(seeded):
    response = seeded.get("/missing", status=302)
    assert response.headers["Location"].endswith("/missing/")
