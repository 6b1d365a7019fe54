"""A real Microsoft-symsrv-style client through symbolsrv: pdbparse's symchk.py.

symchk.py is the example script that PyPI `pdbparse` 1.5 installs next to the interpreter
(setup.py extras "testing"). Its -u option takes `*`-separated server URLs, and it sends the
User-Agent `Microsoft-Symbol-Server/6.11.0001.404`. It only sends GET, through urllib's
FancyURLopener (which follows a 302 to S3), and tries the compressed name first:

    symchk.py -g <GUIDAGE> -s firefox.pdb -u http://host  GET /firefox.pdb/<id>/firefox.pd_, then .pdb
    symchk.py -g <code id> -s firefox.exe -u http://host  GET /firefox.exe/<id>/firefox.ex_, then .exe
    symchk.py -p firefox.exe -u http://host   the same, the code id read from the PE header
                                              (TimeDateStamp %X + SizeOfImage %x, *not* upper-cased)
    symchk.py -e firefox.exe -u http://host   the PDB named by the PE's CodeView (RSDS) record

It saves the bytes as they came under the compressed name in its working directory (`./firefox.pd_`),
then runs `cabextract <file>` through os.system, which unpacks the CAB there when cabextract
(Debian package `cabextract`) is on PATH and just prints "not found" otherwise. It exits 0
whether or not anything was found: the tests judge by the files and the access log.

symbolsrv runs under waitress over each kind of store (the `symbolsrv` fixture, conftest.py):
(a) a local directory holding only the stored compressed files (200 with the bytes), (b) the
session's S3 buckets on moto (302 to a public or presigned URL), (c) those files in a bucket
on fake-gcs-server and (d) behind an http.server mirror (302 to the emulator's or the mirror's
URL). The tests check that the file symchk saved is byte for byte the stored one, that the PDB
it unpacked is the one asked for (pdbparse reads its GUID and age), and what the access log
shows.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.apps import access_lines, copy_symbol_files, sqlite_miss_counts
from tests.integration.symsrv_clients import get_status, pdb_guid_age, run_symchk
from tests.servers import require

pytestmark = pytest.mark.integration

# (debug file, debug id, stored compressed file)
PDBS = [
    ("firefox.pdb", "448794C699914DB8A8F9B9F88B98D7412", "firefox.pd_"),
    ("qipcap64.pdb", "293A285ED25871934C4C44205044422E1", "qipcap64.pd_"),
]
# (code file, code id, stored compressed file); firefox.ex_ is LZX, the other two MSZIP.
PES = [
    ("firefox.exe", "59021DD066000", "firefox.ex_"),
    ("ShowSSEConfig.exe", "6A4B9A365000", "ShowSSEConfig.ex_"),
    ("libEGL.dll", "6A4B8EEE10000", "libEGL.dl_"),
]
# firefox.exe's own CodeView record (its PDB is not among the stored files).
FIREFOX_EXE_PDB = ("firefox.pdb", "F590B0AB0D8948E298B7157AC66BF92D2")


@pytest.fixture
def local_store(shared_data, tmp_path) -> Path:
    """A file:// location holding only the compressed files symchk may fetch."""
    paths = [f"{name}/{ident}/{stored}" for name, ident, stored in (*PDBS, *PES)]
    return copy_symbol_files(shared_data, tmp_path / "store", paths)


@pytest.fixture
def work(tmp_path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.mark.parametrize("name, ident, stored", PDBS, ids=[p[0] for p in PDBS])
def test_symchk_downloads_a_compressed_pdb_by_guid_age(symbolsrv, shared_data, work,
                                                       name, ident, stored):
    out = run_symchk(symbolsrv, work, "-g", ident, "-s", name)

    saved = work / stored
    assert saved.read_bytes() == (shared_data / "symbols" / name / ident / stored).read_bytes(), out
    assert f"Saved symbols to {stored}" in out
    assert access_lines(symbolsrv, 1) == [("GET", f"/{name}/{ident}/{stored}",
                                           get_status(symbolsrv))]
    assert sqlite_miss_counts(symbolsrv) == {}
    if shutil.which("cabextract"):  # symchk unpacks it itself when it can
        assert pdb_guid_age(work / name) == ident


@pytest.mark.parametrize("name, ident, stored", PES, ids=[p[0] for p in PES])
def test_symchk_downloads_a_compressed_pe_by_code_id(symbolsrv, shared_data, work,
                                                     name, ident, stored):
    out = run_symchk(symbolsrv, work, "-g", ident, "-s", name)

    saved = work / stored
    assert saved.read_bytes() == (shared_data / "symbols" / name / ident / stored).read_bytes(), out
    assert access_lines(symbolsrv, 1) == [("GET", f"/{name}/{ident}/{stored}",
                                           get_status(symbolsrv))]
    assert sqlite_miss_counts(symbolsrv) == {}


def unpack_pe(shared_data: Path, name: str, ident: str, stored: str, into: Path) -> Path:
    """The real PE out of its stored CAB, unpacked with cabextract."""
    cabextract = require("cabextract", "to unpack the stored PE for symchk.py -p/-e")
    subprocess.run([cabextract, "-q", "-d", str(into),
                    str(shared_data / "symbols" / name / ident / stored)],
                   check=True, capture_output=True, timeout=60)
    return into / name


@pytest.mark.parametrize("name, ident, stored", PES, ids=[p[0] for p in PES])
def test_symchk_downloads_a_pe_named_by_its_own_header(symbolsrv, shared_data, tmp_path, work,
                                                       name, ident, stored):
    """-p reads TimeDateStamp and SizeOfImage from the PE and asks for that code id, in lower
    case (pdbparse's get_pe_guid does not upper-case it): symbolsrv must still find the file."""
    pe = unpack_pe(shared_data, name, ident, stored, tmp_path / "pe")
    out = run_symchk(symbolsrv, work, "-p", str(pe))

    assert access_lines(symbolsrv, 1) == [("GET", f"/{name}/{ident.lower()}/{stored}",
                                           get_status(symbolsrv))], out
    saved = work / stored
    assert saved.read_bytes() == (shared_data / "symbols" / name / ident / stored).read_bytes(), out
    assert sqlite_miss_counts(symbolsrv) == {}


def test_symchk_asks_for_the_pdb_named_by_the_pe_and_gets_404s(symbolsrv, shared_data,
                                                              tmp_path, work):
    """-e reads the CodeView record of firefox.exe: its PDB is not stored, so both names 404
    (symchk prints the errors and saves nothing), and those GET misses are logged."""
    server = symbolsrv
    pe = unpack_pe(shared_data, *PES[0], tmp_path / "pe")
    out = run_symchk(server, work, "-e", str(pe))

    name, ident = FIREFOX_EXE_PDB
    base = f"/{name}/{ident}/"
    assert access_lines(server, 2) == [("GET", base + "firefox.pd_", 404),
                                       ("GET", base + "firefox.pdb", 404)], out
    assert out.count("HTTP error 404") == 2, out
    assert list(work.iterdir()) == []
    assert sqlite_miss_counts(server) == {(name, ident, "firefox.pd_"): 1,
                                          (name, ident, "firefox.pdb"): 1}
