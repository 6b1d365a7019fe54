"""Running the real Microsoft-symsrv-style clients against symbolsrv under waitress.

    symchk.py   the example script PyPI `pdbparse` 1.5 installs next to the interpreter
                (test_symchk_client.py describes what it sends and saves)
    dump_syms   `--symbol-server "SRV*<cache>*<symbolsrv>/"` (tests/clients.py obtains the
                binary; test_dump_syms_client.py describes what it sends and saves)

A missing client skips the test with the reason, or fails it under CI=true.
"""

from __future__ import annotations

import importlib.metadata
import os
import struct
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

from tests.clients import dump_syms
from tests.servers import require, require_module, unavailable


def get_status(server) -> int:
    """A hit's GET status: the bytes from a file:// first location, else a redirect."""
    return 200 if server.locations[0].startswith("file:") else 302


# ------------------------------------------------------------------ dump_syms


def run_dump_syms(server, name: str, option: str, ident: str, work: Path) -> tuple[Path, Path]:
    """Run dump_syms against symbolsrv in `work`; return (the symsrv cache dir, the .sym it
    wrote). `option` is --debug-id (a PDB) or --code-id (a PE)."""
    cache, out = work / "symcache", work / "out.sym"
    proc = subprocess.run(
        [str(dump_syms()), name, option, ident,
         "--symbol-server", f"SRV*{cache}*{server.url}/", "-o", str(out), "--verbose", "info"],
        cwd=work, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:],
                                  server.log_tail())
    return cache, out


# ------------------------------------------------------------------ symchk.py


def import_pdbparse():
    """pdbparse with what symchk.py and pdb_guid_age use (pefile; construct, which pdbparse
    imports lazily), without the DeprecationWarning of construct 2.9's `import imp`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pdbparse
        import pdbparse.info  # noqa: F401
        import pdbparse.peinfo  # noqa: F401
    return pdbparse


def symchk_script() -> Path:
    """The symchk.py that pdbparse installed (skip, or fail under CI=true, if it is missing)."""
    require_module("pdbparse", "for the symchk.py client test (PyPI pdbparse)")
    try:
        import_pdbparse()
    except ImportError as exc:  # construct 2.9 imports `imp`, gone in Python 3.12
        unavailable(f"pdbparse is installed but does not import here: {exc!r}")
    candidates = []
    try:
        for entry in importlib.metadata.distribution("pdbparse").files or ():
            if entry.name == "symchk.py":
                candidates.append(Path(entry.locate()).resolve())
    except importlib.metadata.PackageNotFoundError:
        pass
    candidates.append(Path(sysconfig.get_path("scripts")) / "symchk.py")
    candidates.append(Path(sys.executable).parent / "symchk.py")
    for path in candidates:
        if path.is_file():
            return path
    unavailable("symchk.py (installed by PyPI pdbparse) not found next to this interpreter")
    raise AssertionError("unreachable")


def run_symchk(server, work: Path, *args: str) -> str:
    """Run symchk.py against symbolsrv in `work`; return its stdout (it always exits 0)."""
    proc = subprocess.run(
        [sys.executable, str(symchk_script()), *args, "-u", server.url],
        cwd=work, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:],
                                  server.log_tail())
    return proc.stdout


def pdb_guid_age(path: Path) -> str:
    """The debug id of a PDB 7.0 file: GUID (no dashes, upper case) + age in hex, as symsrv
    builds it.

    The GUID is the PDB info stream's (read by pdbparse); the age is the DBI stream's (stream 3,
    header: signature, version, age), which can be lower than the info stream's (firefox.pdb:
    3 there, 2 in the id). pdbparse 1.5 cannot parse the DBI stream under construct 2.9, so
    the header is read directly.
    """
    with open(path, "rb") as f:  # pdbparse.parse() would leave its file open
        pdb = import_pdbparse().PDB7(f, fast_load=True)
        info = pdb.STREAM_PDB
        info.load()
        guid = info.GUID
        _, _, age = struct.unpack_from("<iII", pdb.streams[3].data)
    return "%08X%04X%04X%s%X" % (guid.Data1, guid.Data2, guid.Data3,
                                 bytes(guid.Data4).hex().upper(), age)


# ------------------------------------------------------------------ CAB files


def unpack_cab(cab: Path, into: Path) -> list[Path]:
    """The files of a CAB archive (`.pd_`, `.ex_`, `.dl_`), unpacked into `into` by cabextract."""
    cabextract = require("cabextract", "to unpack a stored CAB (Debian cabextract)")
    into.mkdir(parents=True, exist_ok=True)
    before = set(into.iterdir())
    subprocess.run([cabextract, "-q", "-d", str(into), str(cab)], check=True,
                   capture_output=True, timeout=60)
    return sorted(set(into.iterdir()) - before)
