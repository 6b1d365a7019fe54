"""The shared real test data (shared/data next to the repository): symbols and a workload.

Used by the functional and integration suites. When the data is absent the test is skipped
with the reason, or fails under CI=true (tests/servers.py: in CI missing input is a broken
machine, not a reason to skip). SYMBOLSRV_SHARED_DATA points at another copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.servers import in_ci

REPO_ROOT = Path(__file__).resolve().parents[1]

# What the tests read; see shared/data/README.md.
SYMBOLS = "symbols"
WORKLOAD = "workload.txt"
WORKLOAD_LABELS = "workload_labels.tsv"


def shared_data_dir() -> Path:
    """Where the data should be: $SYMBOLSRV_SHARED_DATA, else <repo>/../shared/data."""
    override = os.environ.get("SYMBOLSRV_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def require_shared_data(*names: str) -> Path:
    """Return the data directory if it holds every one of `names`; else skip (fail under CI)."""
    root = shared_data_dir()
    missing = [name for name in names or (SYMBOLS,) if not (root / name).exists()]
    if missing:
        reason = (
            f"shared test data not found: {', '.join(str(root / m) for m in missing)} "
            "(expected the repository's sibling shared/data, or set SYMBOLSRV_SHARED_DATA)"
        )
        if in_ci():
            pytest.fail(f"{reason}; CI=true: missing test data fails instead of skipping",
                        pytrace=False)
        pytest.skip(reason)
    return root


@dataclass(frozen=True)
class WorkloadLine:
    """One request of workload.txt with its label (workload_labels.tsv)."""

    number: int  # 1-based line number in workload.txt
    target: str  # path plus optional query, percent-encoded as sent on the wire
    label: str  # hit, miss, legacy-hit, legacy-miss, codeid, junk
    detail: str  # the canonical key (hit/miss/legacy-*), the mapping (codeid) or the junk kind

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def query_value(self, name: str) -> str:
        """The last value of `name` in the query (as WebOb gives it), '' when absent."""
        value = ""
        for key, text in parse_qsl(self.query, keep_blank_values=True):
            if key == name:
                value = text
        return value


def load_workload(root: Path) -> list[WorkloadLine]:
    """Read workload.txt and workload_labels.tsv (header line skipped), checked to pair up."""
    targets = (root / WORKLOAD).read_text("ascii").splitlines()
    labels = (root / WORKLOAD_LABELS).read_text("utf-8").splitlines()[1:]
    if len(targets) != len(labels):
        raise AssertionError(
            f"{WORKLOAD} has {len(targets)} lines but {WORKLOAD_LABELS} has {len(labels)} labels"
        )
    lines = []
    for number, (target, label_line) in enumerate(zip(targets, labels), start=1):
        label, _, detail = label_line.partition("\t")
        lines.append(WorkloadLine(number, target, label, detail))
    return lines
