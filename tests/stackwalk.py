"""Run the real ``minidump-stackwalk`` against a symbol server and read its JSON report.

Observed behaviour of minidump-stackwalk 0.25.0 (see tests/clients.py for the binary):

* For each module whose code appears on a stack it sends one request per ``--symbols-url``
  (tried in order until one answers with symbols), always ``GET``, never ``HEAD``:
  ``GET <base>/<debug_file>/<debug_id>/<debug_file minus .pdb>.sym?code_file=<code_file>&code_id=<code_id>``
  with headers ``accept: */*``, ``accept-encoding: gzip, br, deflate`` and ``host`` only: no
  User-Agent.  ``debug_id`` is upper case; ``code_id`` is lower case.  Modules that are on no stack
  are never requested, so a dump gives only a few requests.  Requests run concurrently, in no fixed order.
* It follows 301/302/303/307/308, relative ``Location`` values and chains of redirects, and adds a
  ``referer`` header on the redirected request.  It decodes ``Content-Encoding: gzip``.
* A 404, a 5xx, a refused connection, or a 200 whose body is not a .sym file all count as
  "missing symbols": the process still exits 0.  So assert on the report, not on the exit code.
* Symbols it downloads are cached under ``--symbols-cache`` and not requested again; misses are
  not cached.  Use a fresh ``cache_dir`` (e.g. ``tmp_path``) to see every request.
* A base URL with or without a trailing slash works (``http://h/v1`` -> ``/v1/<debug_file>/...``).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
from pathlib import Path
from typing import Iterable, Optional, Union

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def run_stackwalk(
    binary: Union[str, os.PathLike],
    minidump_path: Union[str, os.PathLike],
    symbols_url: Union[str, Iterable[str]],
    cache_dir: Union[str, os.PathLike],
    *,
    timeout: float = 120,
    download_timeout: int = 30,
    verbose: str = "debug",
) -> dict:
    """Run minidump-stackwalk on ``minidump_path`` with ``--symbols-url`` and return the parsed JSON.

    ``symbols_url`` may be a list (one ``--symbols-url`` each, tried in order).  ``cache_dir`` gets
    ``symbols-cache/`` and ``symbols-tmp/`` (they must share a filesystem) and ``stackwalk.log``,
    which holds the tool's log; at ``verbose="debug"`` that includes one ``Trying <url>`` line per
    request.  Raises RuntimeError if the process fails or prints no JSON.
    """
    urls = [symbols_url] if isinstance(symbols_url, str) else list(symbols_url)
    cache_dir = Path(cache_dir)
    symbols_cache = cache_dir / "symbols-cache"
    symbols_tmp = cache_dir / "symbols-tmp"
    symbols_cache.mkdir(parents=True, exist_ok=True)
    symbols_tmp.mkdir(parents=True, exist_ok=True)
    log_file = cache_dir / "stackwalk.log"

    cmd = [
        str(binary),
        "--json",
        "--no-color",
        "--no-interactive",
        f"--verbose={verbose}",
        f"--log-file={log_file}",
        f"--symbols-cache={symbols_cache}",
        f"--symbols-tmp={symbols_tmp}",
        f"--symbols-download-timeout-secs={download_timeout}",
    ]
    for url in urls:
        cmd.append(f"--symbols-url={url}")
    cmd.append(str(minidump_path))

    env = dict(os.environ)
    env["TMPDIR"] = str(symbols_tmp)
    if all(urllib.parse.urlsplit(u).hostname in _LOOPBACK for u in urls):
        # reqwest honours *_proxy variables; a local test server must be reached directly.
        for var in _PROXY_VARS:
            env.pop(var, None)

    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(
            f"minidump-stackwalk exited {proc.returncode}\n"
            f"command: {' '.join(cmd)}\n"
            f"stderr: {proc.stderr[-2000:]}\n"
            f"log tail: {_tail(log_file)}"
        )
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise RuntimeError(f"minidump-stackwalk printed invalid JSON: {exc}") from exc


def crashing_thread(report: dict) -> Optional[dict]:
    """The crashing thread of a report (``crashing_thread``, else ``threads[crash_info.crashing_thread]``)."""
    thread = report.get("crashing_thread")
    if thread:
        return thread
    index = (report.get("crash_info") or {}).get("crashing_thread")
    threads = report.get("threads") or []
    if index is not None and 0 <= index < len(threads):
        return threads[index]
    return None


def crashing_function(report: dict) -> Optional[str]:
    """Function name of the crashing thread's frame 0, or of its first frame that has one.

    Returns None when no frame has a function name (no symbols were found for the modules on the
    crashing stack, e.g. the symbol server answered 404).
    """
    thread = crashing_thread(report)
    for frame in (thread or {}).get("frames") or []:
        if frame.get("function"):
            return frame["function"]
    return None


def loaded_symbols(report: dict) -> dict:
    """``{(debug_file, debug_id): symbol_url}`` for every module whose symbols were loaded."""
    return {
        (m.get("debug_file"), m.get("debug_id")): m.get("symbol_url")
        for m in report.get("modules") or []
        if m.get("loaded_symbols")
    }


def missing_symbols(report: dict) -> set:
    """``{(debug_file, debug_id)}`` of modules it looked up but found no symbols for."""
    return {
        (m.get("debug_file"), m.get("debug_id"))
        for m in report.get("modules") or []
        if m.get("missing_symbols")
    }


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    kept = [line for line in text if "STACK WIN" not in line][-lines:]
    return "\n".join(kept) or "(empty)"
