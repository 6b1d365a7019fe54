"""A real client: rust-minidump's minidump-stackwalk symbolicating real minidumps through
symbolsrv (waitress) over each store kind: shared/data/symbols as a local directory (200s),
the moto buckets (302s to S3), a fresh GCS bucket and an HTTP mirror (302s to them)."""

from __future__ import annotations

import pytest

from tests.clients import minidump_stackwalk
from tests.integration.stores import STORE_KINDS
from tests.stackwalk import crashing_function, loaded_symbols, missing_symbols, run_stackwalk

pytestmark = pytest.mark.integration


@pytest.fixture(params=STORE_KINDS)
def stackwalk(request, start_symbolsrv, serve_directory, shared_data, tmp_path):
    """stackwalk(dump_name) -> (report, server): a fresh symbolsrv and symbol cache per run."""
    binary = minidump_stackwalk()
    if request.param == "s3":
        server = start_symbolsrv(name="stackwalk")
    else:
        locations, env = serve_directory(request.param, shared_data / "symbols")
        server = start_symbolsrv(locations, env=env, name="stackwalk")

    def run(dump_name):
        report = run_stackwalk(binary, shared_data / "minidumps" / dump_name, server.url,
                               tmp_path / dump_name)
        return report, server

    return run


def test_breakpad_minidump_names_the_crashing_function(stackwalk):
    report, server = stackwalk("breakpad-minidump2.dmp")

    assert crashing_function(report) == "`anonymous namespace'::CrashFunction"
    loaded = loaded_symbols(report)
    # Its main module and kernel32.pdb are in symbols/ (shared/data/README.md).
    assert {("test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF1"),
            ("kernel32.pdb", "BCE8785C57B44245A669896B6A19B9542")} <= set(loaded)
    assert all(url.startswith(server.url + "/") for url in loaded.values())
    assert missing_symbols(report) == set()


def test_windows_minidump_leaves_its_misses_in_the_report_with_code_file_and_id(stackwalk):
    report, server = stackwalk("symbolicator-windows.dmp")

    assert crashing_function(report) is not None
    assert ("crash.pdb", "3249D99D0C4049318610F4E4FB0B69361") in loaded_symbols(report)
    assert missing_symbols(report) == {("wntdll.pdb", "971F98E5CE6041FFB2D7235BBEB345781"),
                                       ("wkernel32.pdb", "D347455996F747D6BF43C176B2171E681")}
    # minidump-stackwalk sends ?code_file=<name>&code_id=<lower-case id>; the id is kept
    # as sent (README: code_id is kept when it is 1-64 letters and digits, as sent).
    assert sorted(server.csv_rows("today=1")) == [
        ["wkernel32.pdb", "D347455996F747D6BF43C176B2171E681", "kernel32.dll", "590285e9e0000"],
        ["wntdll.pdb", "971F98E5CE6041FFB2D7235BBEB345781", "ntdll.dll", "59b0d8f3183000"],
    ]
