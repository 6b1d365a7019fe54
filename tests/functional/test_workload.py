"""Replay the real workload (shared/data/workload.txt) against a file:// store of the real
symbols and check every answer against its label, then the day's miss report."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.data import SYMBOLS, WORKLOAD, WORKLOAD_LABELS, load_workload, require_shared_data
from tests.functional.scenarios import csv_report
from tests.functional.wsgi_client import WebTestClient

# Junk kinds that are never a symbol key: they must never reach storage or the miss log.
# ("over-long" is not among them: its debug ids of 34, 41 or 64 hex digits are inside the
# 9-64 hex rule, and 34 digits is a real PDB form, so those are looked up and logged.)
NEVER_LOOKED_UP = {"file.ptr", "zero-id", "traversal", "segments", "bad-id"}
NOT_FOUND = b"Symbol Not Found"


def _key_of_path(path: str) -> tuple[str, str]:
    """(debug_file, debug_id) of a plain three-segment wire path, id upper-cased."""
    debug_file, debug_id, _ = (unquote(part) for part in path.lstrip("/").split("/"))
    return debug_file, debug_id.upper()


@pytest.fixture(scope="module")
def workload():
    root = require_shared_data(SYMBOLS, WORKLOAD, WORKLOAD_LABELS)
    return root, load_workload(root)


def test_workload_replay_matches_labels_and_report(workload, make_app, tmp_path):
    root, lines = workload
    testapp, server = make_app(tmp_path, locations=[root / SYMBOLS])
    testapp.lint = False  # 20,000 requests and ~3 GB of bodies; lint runs everywhere else
    client = WebTestClient(testapp)

    files: dict[str, bytes] = {}
    expected_rows: set[tuple[str, str, str, str]] = set()
    junk_logged: dict[tuple[str, str], str] = {}  # (debug_file, debug_id) -> junk kind
    head_checked: set[str] = set()
    problems: list[str] = []

    def problem(line, reply, why):
        problems.append(f"line {line.number} {line.label} {line.target[:120]}: {why}; got "
                        f"{reply.status} {reply.body[:60]!r}")

    for line in lines:
        reply = client.get(line.target)
        if reply.status >= 500:
            problem(line, reply, "5xx")
            continue
        if line.label in ("hit", "legacy-hit"):
            if line.detail not in files:
                files[line.detail] = (root / SYMBOLS / line.detail).read_bytes()
            if reply.status != 200 or reply.body != files[line.detail]:
                problem(line, reply, f"expected 200 with the {len(files[line.detail])} bytes "
                                     f"of symbols/{line.detail}")
        elif line.label in ("miss", "legacy-miss", "codeid"):
            if reply.status != 404 or reply.body.strip() != NOT_FOUND:
                problem(line, reply, "expected a logged 404")
                continue
            if line.label == "codeid":
                debug_file, debug_id = _key_of_path(line.path)
            else:
                debug_file, debug_id, _ = line.detail.split("/")
            expected_rows.add(
                (debug_file, debug_id, line.query_value("code_file"), line.query_value("code_id"))
            )
        elif line.label == "junk":
            if reply.status not in (400, 404):
                problem(line, reply, "junk must be 400 or 404")
            elif reply.body.strip() == NOT_FOUND:
                if line.detail in NEVER_LOOKED_UP:
                    problem(line, reply, f"junk kind {line.detail} was looked up and logged")
                else:
                    junk_logged[_key_of_path(line.path)] = line.detail
        else:
            problems.append(f"line {line.number}: unknown label {line.label!r}")
        if line.target not in head_checked:
            head_checked.add(line.target)
            head = client.head(line.target)
            if head.status != reply.status or head.body:
                problem(line, head, f"HEAD disagrees with GET ({reply.status})")

    assert not problems, f"{len(problems)} wrong answers, first ones:\n" + "\n".join(problems[:25])

    report = csv_report(client, "today=1")
    assert len(report) == len(set(report)), "report rows are not distinct"
    rows = set(report)
    missing = expected_rows - rows
    assert not missing, f"{len(missing)} logged misses absent from the report: {sorted(missing)[:10]}"
    extra = rows - expected_rows
    unexplained = sorted(row for row in extra if (row[0], row[1]) not in junk_logged)
    assert not unexplained, f"report rows no request explains: {unexplained[:10]}"
    # Junk that made it into the report is a well-formed key with an allowed extension
    # (odd-ext .pdb/.dll/...), a valid non-ASCII name (bad-chars ☃), a long but valid hex
    # id (over-long) or a real key with a junk query (misc): real lookups that missed.
    assert set(junk_logged.values()) <= {"odd-ext", "bad-chars", "over-long", "misc"}
