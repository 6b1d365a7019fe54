"""Real debuginfod clients against symbolsrv under waitress: elfutils' debuginfod-find and gdb.

A tiny C program is built here with a GNU build id, its debug info split off with objcopy,
and the `.debug` file and the stripped program put into a store in the debuginfod layout
(`buildid/<id>/debuginfo`, `buildid/<id>/executable`), once per store kind
(tests/integration/stores.py): a file:// directory (symbolsrv answers 200 with the bytes), a
bucket on moto (S3) or on fake-gcs-server (GCS), or an http.server mirror; from the last three
symbolsrv answers 302 and the client's libcurl follows it. The clients know nothing but
DEBUGINFOD_URLS=<symbolsrv>.

From a Breakpad-layout store (README "debuginfod", "From Breakpad-layout stores"): a shared
library's `.sym` (made by dump_syms, tests/clients.py), its split debug file and the stripped
library kept under the module's debug id, `libprobe.so/<debug_id>/libprobe.so.sym|.dbg|`,
nothing under its build id. Before `symbolsrv index` the clients get a 404 (a `buildid` miss
row); after it, symbolsrv redirects `/buildid/<id>/debuginfo` to `.../libprobe.so.dbg` and
`/executable` to `.../libprobe.so`, and the clients follow. Local, S3 and GCS stores: an HTTP
mirror cannot be listed, so it cannot be indexed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.clients import dump_syms
from tests.integration.apps import (
    SymbolsrvProcess,
    access_lines,
    running,
    sqlite_miss_counts,
    symbolsrv_command,
)
from tests.integration.stores import STORE_KINDS
from tests.servers import require

pytestmark = pytest.mark.integration

SOURCE = r"""
#include <stdio.h>

int symbolsrv_debuginfod_probe(int n) { return n * 7 + 1; }

int main(int argc, char **argv) {
    (void)argv;
    printf("%d\n", symbolsrv_debuginfod_probe(argc));
    return 0;
}
"""


def run(*cmd, env=None, cwd=None, timeout=60) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd,
                            timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited with {result.returncode}:\n"
        f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}")
    return result


def build_id(readelf: str, binary: Path) -> str:
    notes = run(readelf, "-n", str(binary)).stdout
    match = re.search(r"Build ID:\s*([0-9a-fA-F]+)", notes)
    assert match, f"no GNU build id note in {binary}:\n{notes}"
    return match.group(1).lower()


@pytest.fixture
def program(tmp_path):
    """(stripped binary, its .debug file, build id): built with gcc, split with objcopy."""
    gcc = require("gcc", "to build the test program")
    objcopy = require("objcopy", "to split off the debug info (binutils)")
    readelf = require("readelf", "to read the build id (binutils)")
    build = tmp_path / "build"
    build.mkdir()
    (build / "hello.c").write_text(SOURCE)
    run(gcc, "-g", "-O0", "-Wl,--build-id", "-o", "hello", "hello.c", cwd=build)
    run(objcopy, "--only-keep-debug", "hello", "hello.debug", cwd=build)
    run(objcopy, "--strip-debug", "--add-gnu-debuglink=hello.debug", "hello", "hello.stripped",
        cwd=build)
    # The client's copy of the program sits alone: no .debug next to it for gdb to find
    # through the debuglink, so the debug info can only come from symbolsrv.
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    stripped = client_dir / "hello"
    stripped.write_bytes((build / "hello.stripped").read_bytes())
    stripped.chmod(0o755)
    identity = build_id(readelf, stripped)
    assert len(identity) == 40, identity  # sha1, gcc/ld's default
    assert build_id(readelf, build / "hello.debug") == identity
    return stripped, build / "hello.debug", identity


@pytest.fixture(params=STORE_KINDS)
def debuginfod_symbolsrv(request, tmp_path, program, serve_directory):
    """symbolsrv under waitress over a store of each kind holding the program's debug info
    and the program itself."""
    stripped, debug, identity = program
    store = tmp_path / "store"
    (store / "buildid" / identity).mkdir(parents=True)
    (store / "buildid" / identity / "debuginfo").write_bytes(debug.read_bytes())
    (store / "buildid" / identity / "executable").write_bytes(stripped.read_bytes())
    locations, env = serve_directory(request.param, store)
    with running(SymbolsrvProcess(locations, env=env, name="debuginfod")) as server:
        yield server


def client_env(server: SymbolsrvProcess, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=str(cache),
               DEBUGINFOD_TIMEOUT="30", HOME=str(cache.parent))
    return env


def assert_find_fetches(find, identity, env, cache, debug, stripped) -> None:
    """debuginfod-find saves the debug info (into `cache`) and, asked by the upper-case id,
    the executable, each byte for byte."""
    fetched = run(find, "debuginfo", identity, env=env).stdout.strip()
    assert Path(fetched).is_relative_to(cache), fetched
    assert Path(fetched).read_bytes() == debug.read_bytes()
    fetched = run(find, "executable", identity.upper(), env=env).stdout.strip()
    assert Path(fetched).read_bytes() == stripped.read_bytes()


def test_debuginfod_find_fetches_the_debug_info_byte_for_byte(debuginfod_symbolsrv, program,
                                                             tmp_path):
    find = require("debuginfod-find", "as the debuginfod client")
    stripped, debug, identity = program
    env = client_env(debuginfod_symbolsrv, tmp_path / "cache-find")

    # The debug info, then the executable by the upper-case id (looked up lower-cased).
    assert_find_fetches(find, identity, env, tmp_path / "cache-find", debug, stripped)

    # An unknown build id: debuginfod-find fails with "No such file or directory" (a 404).
    unknown = "0123456789abcdef0123456789abcdef01234567"
    result = subprocess.run([find, "debuginfo", unknown], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode != 0 and result.stdout == ""
    assert ["buildid", unknown, "", ""] in debuginfod_symbolsrv.csv_rows("today=1")


def test_gdb_finds_the_symbols_through_symbolsrv(debuginfod_symbolsrv, program, tmp_path):
    gdb = require("gdb", "as the debuginfod client")
    stripped, debug, identity = program
    env = client_env(debuginfod_symbolsrv, tmp_path / "cache-gdb")

    # Without the server, the stripped program has no debug info: only ELF symbols.
    offline = {**env, "DEBUGINFOD_URLS": ""}
    before = run(gdb, "-nx", "-batch", "-iex", "set debuginfod enabled on",
                 "-ex", "info functions symbolsrv_debuginfod_probe", str(stripped), env=offline)
    assert "int symbolsrv_debuginfod_probe(int);" not in before.stdout, before.stdout

    after = run(gdb, "-nx", "-batch", "-iex", "set debuginfod enabled on",
                "-ex", "info functions main", "-ex", "info functions symbolsrv_debuginfod_probe",
                str(stripped), env=env)
    assert "File hello.c:" in after.stdout, after.stdout + after.stderr
    assert "int main(int, char **);" in after.stdout, after.stdout
    assert "int symbolsrv_debuginfod_probe(int);" in after.stdout, after.stdout
    cached = tmp_path / "cache-gdb" / identity / "debuginfo"
    assert cached.is_file(), sorted(p.name for p in (tmp_path / "cache-gdb").iterdir())
    assert cached.read_bytes() == debug.read_bytes()


# ------------------------------------------------------------------ from a Breakpad-layout store

LIBRARY = "libprobe.so"
INDEXED_KINDS = ("local", "s3", "gcs")  # stores `symbolsrv index` can list


@pytest.fixture
def library(tmp_path):
    """(stripped libprobe.so, its .dbg, its Breakpad .sym text, build id, debug id): a shared
    library built with gcc, split with objcopy, dumped by dump_syms before stripping."""
    gcc = require("gcc", "to build the test library")
    objcopy = require("objcopy", "to split off the debug info (binutils)")
    readelf = require("readelf", "to read the build id (binutils)")
    build = tmp_path / "build-lib"
    build.mkdir()
    (build / "probe.c").write_text(SOURCE)
    run(gcc, "-g", "-O0", "-shared", "-fPIC", "-Wl,--build-id", "-o", LIBRARY, "probe.c",
        cwd=build)
    sym = run(str(dump_syms()), LIBRARY, cwd=build).stdout
    run(objcopy, "--only-keep-debug", LIBRARY, LIBRARY + ".dbg", cwd=build)
    run(objcopy, "--strip-debug", f"--add-gnu-debuglink={LIBRARY}.dbg", LIBRARY, "stripped",
        cwd=build)
    client_dir = tmp_path / "client-lib"  # alone: gdb cannot find the .dbg by its debuglink
    client_dir.mkdir()
    stripped = client_dir / LIBRARY
    stripped.write_bytes((build / "stripped").read_bytes())
    identity = build_id(readelf, stripped)
    module, code_id = sym.splitlines()[:2]
    match = re.fullmatch(rf"MODULE Linux x86_64 ([0-9A-F]{{33}}) {re.escape(LIBRARY)}", module)
    assert match, module
    assert code_id == f"INFO CODE_ID {identity.upper()}", (code_id, identity)
    return stripped, build / (LIBRARY + ".dbg"), sym, identity, match.group(1)


@pytest.fixture(params=INDEXED_KINDS)
def breakpad_symbolsrv(request, tmp_path, library, serve_directory):
    """symbolsrv under waitress over a Breakpad-layout store of each listable kind holding the
    library's .sym, .dbg and the stripped library under its debug id (not yet indexed)."""
    stripped, debug, sym, _, debug_id = library
    module_dir = tmp_path / "breakpad" / LIBRARY / debug_id
    module_dir.mkdir(parents=True)
    (module_dir / (LIBRARY + ".sym")).write_text(sym)
    (module_dir / (LIBRARY + ".dbg")).write_bytes(debug.read_bytes())
    (module_dir / LIBRARY).write_bytes(stripped.read_bytes())
    locations, env = serve_directory(request.param, tmp_path / "breakpad")
    with running(SymbolsrvProcess(locations, env=env, name="debuginfod-breakpad")) as server:
        yield server


def test_debuginfod_clients_fetch_from_a_breakpad_store_once_indexed(breakpad_symbolsrv,
                                                                     library, tmp_path):
    find = require("debuginfod-find", "as the debuginfod client")
    gdb = require("gdb", "as the debuginfod client")
    server = breakpad_symbolsrv
    stripped, debug, _, identity, debug_id = library
    hit_status = 200 if server.locations[0].startswith("file:") else 302

    # Not indexed yet: nothing answers the build id, and the miss is logged under it.
    before = subprocess.run([find, "debuginfo", identity], capture_output=True, text=True,
                            env=client_env(server, tmp_path / "cache-before"), timeout=60)
    assert before.returncode != 0 and before.stdout == "", (before.stdout, before.stderr)
    assert access_lines(server, 1) == [("GET", f"/buildid/{identity}/debuginfo", 404)]
    assert sqlite_miss_counts(server) == {("buildid", identity, "debuginfo"): 1}

    indexed = symbolsrv_command(server, "index")
    assert indexed.returncode == 0, (indexed.stdout, indexed.stderr)
    assert ("1 .sym listed, 1 read, 0 unchanged, 1 with a code id, 0 without MODULE, 0 removed,"
            " 0 errors") in indexed.stdout, indexed.stdout

    # The server remembers "not indexed" for up to 60 s; ?_refresh asks the index again (and
    # keeps the fresh answer), and the redirect keeps the query string.
    base = f"/{LIBRARY}/{debug_id}/{LIBRARY}"
    for artifact, target in (("debuginfo", base + ".dbg"), ("executable", base)):
        reply = server.get(f"/buildid/{identity}/{artifact}?_refresh=1")
        assert (reply.status, reply.header("location"), reply.body) == (
            302, target + "?_refresh=1", b""), (artifact, reply)

    # The clients, with a fresh cache (libdebuginfod caches a 404 for 10 minutes).
    env = client_env(server, tmp_path / "cache-after")
    assert_find_fetches(find, identity, env, tmp_path / "cache-after", debug, stripped)

    gdb_env = client_env(server, tmp_path / "cache-gdb")
    shown = run(gdb, "-nx", "-batch", "-iex", "set debuginfod enabled on",
                "-ex", "info functions symbolsrv_debuginfod_probe", str(stripped), env=gdb_env)
    assert "File probe.c:" in shown.stdout, shown.stdout + shown.stderr
    assert "int symbolsrv_debuginfod_probe(int);" in shown.stdout, shown.stdout
    cached = tmp_path / "cache-gdb" / identity / "debuginfo"
    assert cached.read_bytes() == debug.read_bytes()

    # The access log names paths without their query string: the two ?_refresh GETs, then the
    # clients' requests, each redirect followed by the Breakpad key's hit.
    assert access_lines(server, 9)[1:] == [
        ("GET", f"/buildid/{identity}/debuginfo", 302),
        ("GET", f"/buildid/{identity}/executable", 302),
        ("GET", f"/buildid/{identity}/debuginfo", 302), ("GET", base + ".dbg", hit_status),
        ("GET", f"/buildid/{identity.upper()}/executable", 302), ("GET", base, hit_status),
        ("GET", f"/buildid/{identity}/debuginfo", 302), ("GET", base + ".dbg", hit_status),
    ]
    assert sqlite_miss_counts(server) == {("buildid", identity, "debuginfo"): 1}
