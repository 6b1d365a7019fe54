"""Real debuginfod clients against symbolsrv under waitress: elfutils' debuginfod-find and gdb.

A tiny C program is built here with a GNU build id, its debug info split off with objcopy,
and the `.debug` file and the stripped program put into a store in the debuginfod layout
(`buildid/<id>/debuginfo`, `buildid/<id>/executable`), once per store kind
(tests/integration/stores.py): a file:// directory (symbolsrv answers 200 with the bytes), a
bucket on moto (S3) or on fake-gcs-server (GCS), or an http.server mirror; from the last three
symbolsrv answers 302 and the client's libcurl follows it. The clients know nothing but
DEBUGINFOD_URLS=<symbolsrv>.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.apps import STOP_TIMEOUT, SymbolsrvProcess
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
    server = SymbolsrvProcess(locations, env=env, name="debuginfod")
    try:
        server.start()
        yield server
        assert server.terminate(STOP_TIMEOUT) == 0, server.log_tail()
    finally:
        server.close()


def client_env(server: SymbolsrvProcess, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=str(cache),
               DEBUGINFOD_TIMEOUT="30", HOME=str(cache.parent))
    return env


def test_debuginfod_find_fetches_the_debug_info_byte_for_byte(debuginfod_symbolsrv, program,
                                                             tmp_path):
    find = require("debuginfod-find", "as the debuginfod client")
    stripped, debug, identity = program
    env = client_env(debuginfod_symbolsrv, tmp_path / "cache-find")

    fetched = run(find, "debuginfo", identity, env=env).stdout.strip()
    assert Path(fetched).is_relative_to(tmp_path / "cache-find"), fetched
    assert Path(fetched).read_bytes() == debug.read_bytes()

    # By the upper-case id too (looked up lower-cased), and the executable.
    fetched = run(find, "executable", identity.upper(), env=env).stdout.strip()
    assert Path(fetched).read_bytes() == stripped.read_bytes()

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
