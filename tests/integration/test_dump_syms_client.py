"""A real Microsoft-symsrv-style client through symbolsrv: dump_syms --symbol-server.

dump_syms 2.3.5 (tests/clients.py) fetches what it is asked to dump from a symbol server:

    dump_syms firefox.pdb --debug-id <GUIDAGE> --symbol-server "SRV*<cache>*http://host/"
    dump_syms firefox.exe --code-id <code id>  --symbol-server "SRV*<cache>*http://host/"

It sends HEAD for `<name>.pdb/<id>/<name>.pdb` and for the compressed `<name>.pd_`, then GET
for the one that exists (following symbolsrv's 302 to S3), saves the bytes as they came (a
CAB stays a CAB, saved under the uncompressed name `<cache>/<name>.pdb/<id>/<name>.pdb`),
unpacks it and writes the Breakpad .sym. With the `SRV*…*http://host/` form of its --help
(trailing slash) it asks for `//<name>.pdb/…`; waitress folds the leading `//`.

symbolsrv runs under waitress over each kind of store (the `symbolsrv` fixture, conftest.py):
(a) a local directory holding only the `.pd_`/`.ex_` (200 with the bytes), (b) the session's
S3 buckets on moto (302 to a public or presigned URL), (c) those files in a bucket on
fake-gcs-server and (d) behind an http.server mirror (302 to the emulator's or the mirror's
URL, which dump_syms follows). The test checks the file dump_syms saved is byte for byte the
stored one, the .sym it made names the right module, the access log shows both HEADs before
the GET, and no miss row was logged (HEAD misses never are).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.apps import access_lines, copy_symbol_files, sqlite_miss_counts
from tests.integration.symsrv_clients import get_status, run_dump_syms

pytestmark = pytest.mark.integration

# (file to dump, option, id, stored compressed file, the uncompressed name dump_syms saves)
PDBS = [
    ("firefox.pdb", "--debug-id", "448794C699914DB8A8F9B9F88B98D7412", "firefox.pd_"),
    ("qipcap64.pdb", "--debug-id", "293A285ED25871934C4C44205044422E1", "qipcap64.pd_"),
]
PE = ("firefox.exe", "--code-id", "59021DD066000", "firefox.ex_")


@pytest.fixture
def local_store(shared_data, tmp_path) -> Path:
    """A file:// location holding only the compressed files dump_syms may fetch."""
    paths = [f"{name}/{ident}/{stored}" for name, _, ident, stored in (*PDBS, PE)]
    return copy_symbol_files(shared_data, tmp_path / "store", paths)


@pytest.mark.parametrize("name, option, ident, stored", PDBS, ids=[p[0] for p in PDBS])
def test_dump_syms_downloads_a_compressed_pdb_through_symbolsrv(
        symbolsrv, shared_data, tmp_path, name, option, ident, stored):
    work = tmp_path / "work"
    work.mkdir()
    cache, out = run_dump_syms(symbolsrv, name, option, ident, work)

    saved = cache / name / ident / name
    assert saved.read_bytes() == (shared_data / "symbols" / name / ident / stored).read_bytes()
    assert saved.read_bytes()[:4] == b"MSCF"
    stored_sym = (shared_data / "symbols" / name / ident / (name[:-4] + ".sym")).read_text()
    assert out.read_text().splitlines()[0] == stored_sym.splitlines()[0]  # MODULE … <id> <name>

    base = f"/{name}/{ident}/"
    lines = access_lines(symbolsrv, 3)
    assert sorted(lines[:2]) == [("HEAD", base + stored, 200), ("HEAD", base + name, 404)], lines
    assert lines[2:] == [("GET", base + stored, get_status(symbolsrv))], lines
    assert sqlite_miss_counts(symbolsrv) == {}


def test_dump_syms_downloads_a_pe_by_code_id_through_symbolsrv(symbolsrv, shared_data,
                                                              tmp_path):
    server = symbolsrv
    name, option, ident, stored = PE
    work = tmp_path / "work"
    work.mkdir()
    cache, out = run_dump_syms(server, name, option, ident, work)

    saved = cache / name / ident / name
    assert saved.read_bytes() == (shared_data / "symbols" / name / ident / stored).read_bytes()
    assert f"INFO CODE_ID {ident} {name}" in out.read_text().splitlines()[:3]

    base = f"/{name}/{ident}/"
    lines = access_lines(server, 3)
    pe_lines = [line for line in lines if line[1].startswith(base)]
    assert sorted(pe_lines[:2]) == [("HEAD", base + stored, 200), ("HEAD", base + name, 404)]
    assert pe_lines[2:] == [("GET", base + stored, get_status(server))], lines
    # It then looks for the PE's own PDB, which is not stored: HEAD misses, never logged.
    assert all(method == "HEAD" for method, path, _ in lines if not path.startswith(base))
    assert sqlite_miss_counts(server) == {}
