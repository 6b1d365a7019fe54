"""Real symsrv clients (symchk.py, dump_syms --symbol-server) through symbolsrv over stores
written the way SymStore tools write them (README "Options of every location"):

- a two-tier store, `layout=index2`: an `index2.txt` at its root and each file under the first
  two characters of its debug file's name (one when the second is a dot),
  `fi/firefox.pdb/<id>/firefox.pd_`. symbolsrv itself looks single-tier (`GET /index2.txt` is a
  404), so the clients ask the plain `/firefox.pdb/<id>/firefox.pd_`;
- the same store with every name lower-cased on the way in, `casing=lower`, asked for with the
  original case (`/ShowSSEConfig.exe/6A4B9A365000/ShowSSEConfig.ex_`);
- the location described by a `[location:<name>]` INI section instead of a URL query.

The stores hold real files of shared/data/symbols: firefox.pd_ (a CAB, as `symstore /compress`
writes), qipcap64.pdb (unpacked from its .pd_ with cabextract, as plain `symstore` writes) and
ShowSSEConfig.ex_. Each kind of store (tests/integration/stores.py) gets the same files: a
file:// directory (symbolsrv answers 200 with the bytes), a bucket on moto or fake-gcs-server,
an http.server mirror (302, which the clients follow). What a client saves must be the stored
file byte for byte, and the access log must show the requests it made.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.integration.apps import (
    SymbolsrvProcess,
    access_lines,
    fetch_url,
    sqlite_miss_counts,
    stop_all,
)
from tests.integration.stores import STORE_KINDS
from tests.integration.symsrv_clients import (
    get_status,
    pdb_guid_age,
    run_dump_syms,
    run_symchk,
    unpack_cab,
)

pytestmark = pytest.mark.integration

# (debug or code file, id, file stored in the SymStore store)
FIREFOX = ("firefox.pdb", "448794C699914DB8A8F9B9F88B98D7412", "firefox.pd_")
QIPCAP = ("qipcap64.pdb", "293A285ED25871934C4C44205044422E1", "qipcap64.pdb")
SHOWSSE = ("ShowSSEConfig.exe", "6A4B9A365000", "ShowSSEConfig.ex_")


def two_tier(path: str) -> str:
    """SymStore's two-tier path of `debug_file/debug_id/file`: the first two characters of the
    debug file in front, one when the second is a dot (`a/a.pdb/…`)."""
    tier = path[:1] if path[1:2] == "." else path[:2]
    return f"{tier}/{path}"


def with_options(location: str, **options: str) -> str:
    """The location URL with `options` added to its query string."""
    url = urlsplit(location)
    query = parse_qsl(url.query, keep_blank_values=True) + list(options.items())
    return urlunsplit(url._replace(query=urlencode(query)))


def files_of(shared_data: Path, tmp_path: Path) -> dict[str, bytes]:
    """`debug_file/debug_id/file` -> bytes: the three files every store here holds."""
    symbols = shared_data / "symbols"
    name, ident, _ = QIPCAP
    unpacked = unpack_cab(symbols / name / ident / "qipcap64.pd_", tmp_path / "unpacked")
    assert [p.name for p in unpacked] == [name], unpacked
    return {
        "/".join(FIREFOX): (symbols / "/".join(FIREFOX)).read_bytes(),
        "/".join(QIPCAP): unpacked[0].read_bytes(),
        "/".join(SHOWSSE): (symbols / "/".join(SHOWSSE)).read_bytes(),
    }


def two_tier_store(root: Path, files: dict[str, bytes], lower: bool = False) -> Path:
    """A SymStore two-tier store at `root`: index2.txt and each file under its tier, every
    path lower-cased when `lower`."""
    root.mkdir(parents=True)
    (root / "index2.txt").write_bytes(b"")
    for path, data in files.items():
        target = root / two_tier(path.lower() if lower else path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


@pytest.fixture
def files(shared_data, tmp_path) -> dict[str, bytes]:
    return files_of(shared_data, tmp_path)


@pytest.fixture
def work(tmp_path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def start(serve_directory):
    """start(kind, store, options_for=..., extra_ini=...) -> a started SymbolsrvProcess over
    the store put into a fresh store of `kind`; `options_for(location)` turns that location
    URL into symbolsrv's locations. Stopped (SIGTERM, exit status 0) at teardown."""
    servers: list[SymbolsrvProcess] = []

    def start_server(kind, store, options_for, extra_ini_for=None):
        (location,), env = serve_directory(kind, store)
        extra_ini = extra_ini_for(location) if extra_ini_for else ""
        server = SymbolsrvProcess(options_for(location), env=env, name="symstore",
                                  extra_ini=extra_ini)
        servers.append(server)
        return server.start()

    yield start_server
    stop_all(servers)


def assert_serves(server, path: str, stored_path: str, data: bytes) -> None:
    """A raw GET of `path`: 200 with the bytes from a file:// location, else a 302 whose
    Location ends with the stored (two-tier) path and serves the bytes."""
    reply = server.get("/" + path)
    if get_status(server) == 200:
        assert (reply.status, reply.body == data) == (200, True), (reply.status, reply.headers)
        return
    assert reply.status == 302, (reply.status, reply.body[:200])
    location = reply.header("location")
    assert urlsplit(location).path.endswith("/" + stored_path), location
    target = fetch_url(location)
    assert (target.status, target.body == data) == (200, True), (location, target.status)


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_symsrv_clients_fetch_from_a_two_tier_store(kind, start, files, shared_data, tmp_path,
                                                    work):
    store = two_tier_store(tmp_path / "symstore", files)
    server = start(kind, store, lambda location: [with_options(location, layout="index2")])

    # Clients probing for a two-tier store get a 404: symbolsrv answers the single-tier paths.
    assert server.get("/index2.txt").status == 404
    path = "/".join(FIREFOX)
    assert_serves(server, path, two_tier(path), files[path])

    name, ident, stored = FIREFOX
    out = run_symchk(server, work, "-g", ident, "-s", name)
    assert (work / stored).read_bytes() == files["/".join(FIREFOX)], out
    assert pdb_guid_age(work / name) == ident  # symchk unpacked the CAB it saved

    name, ident, stored = QIPCAP
    cache, sym = run_dump_syms(server, name, "--debug-id", ident, work)
    assert (cache / name / ident / name).read_bytes() == files["/".join(QIPCAP)]
    expected = (shared_data / "symbols" / name / ident / "qipcap64.sym").read_text()
    assert sym.read_text().splitlines()[0] == expected.splitlines()[0]  # MODULE … <id> <name>

    hit = get_status(server)
    lines = access_lines(server, 6)
    base = f"/{name}/{ident}/"
    assert lines[:3] == [("GET", "/index2.txt", 404), ("GET", "/" + "/".join(FIREFOX), hit),
                         ("GET", "/" + "/".join(FIREFOX), hit)], lines
    assert sorted(lines[3:5]) == [("HEAD", base + "qipcap64.pd_", 404),
                                  ("HEAD", base + name, 200)], lines
    assert lines[5:] == [("GET", base + name, hit)], lines
    assert sqlite_miss_counts(server) == {}


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_symchk_fetches_original_case_names_from_a_lower_cased_store(kind, start, files,
                                                                     tmp_path, work):
    """The store holds `sh/showsseconfig.exe/6a4b9a365000/showsseconfig.ex_`; the clients ask
    for `/ShowSSEConfig.exe/6A4B9A365000/ShowSSEConfig.ex_`. The same store is also the first
    location without `casing=lower`, where the names are absent: the trace shows which found
    them."""
    store = two_tier_store(tmp_path / "symstore", files, lower=True)
    server = start(kind, store, lambda location: [
        with_options(location, layout="index2"),
        with_options(location, layout="index2", casing="lower"),
    ])

    for name, ident, stored in (SHOWSSE, FIREFOX):
        path = f"{name}/{ident}/{stored}"
        out = run_symchk(server, work, "-g", ident, "-s", name)
        assert (work / stored).read_bytes() == files[path], out

        # symchk's hit is cached (S3): _refresh makes the trace ask both locations again.
        trace = json.loads(server.get(f"/{path}?_trace=1&_refresh=1").body)
        steps = [(step["rank"], step["outcome"]) for step in trace["steps"]]
        assert (trace["status"], steps) == (get_status(server), [(1, "absent"), (2, "hit")]), trace
        assert_serves(server, path, two_tier(path.lower()), files[path])

    hit = get_status(server)
    assert access_lines(server, 4) == [
        ("GET", "/" + "/".join(SHOWSSE), hit), ("GET", "/" + "/".join(SHOWSSE), hit),
        ("GET", "/" + "/".join(FIREFOX), hit), ("GET", "/" + "/".join(FIREFOX), hit),
    ]
    assert sqlite_miss_counts(server) == {}


def location_section(name: str, location: str, **options: str) -> str:
    """A `[location:<name>]` section for a location URL: its query options as lines."""
    url = urlsplit(location)
    lines = [f"[location:{name}]", f"url = {urlunsplit(url._replace(query=''))}"]
    lines += [f"{key} = {value}" for key, value in parse_qsl(url.query, keep_blank_values=True)]
    lines += [f"{key} = {value}" for key, value in options.items()]
    return "\n".join(lines)


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_dump_syms_fetches_from_a_two_tier_store_described_by_an_ini_section(
        kind, start, files, shared_data, tmp_path, work):
    store = two_tier_store(tmp_path / "symstore", files)
    server = start(kind, store, lambda location: ["corp-symstore"],
                   lambda location: location_section("corp-symstore", location,
                                                     layout="index2"))

    name, ident, stored = QIPCAP
    cache, sym = run_dump_syms(server, name, "--debug-id", ident, work)
    assert (cache / name / ident / name).read_bytes() == files["/".join(QIPCAP)]
    expected = (shared_data / "symbols" / name / ident / "qipcap64.sym").read_text()
    assert sym.read_text().splitlines()[0] == expected.splitlines()[0]

    base = f"/{name}/{ident}/"
    lines = access_lines(server, 3)
    assert sorted(lines[:2]) == [("HEAD", base + "qipcap64.pd_", 404),
                                 ("HEAD", base + name, 200)], lines
    assert lines[2:] == [("GET", base + name, 200 if kind == "local" else 302)], lines
    assert sqlite_miss_counts(server) == {}
