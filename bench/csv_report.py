"""The million-row /missingsymbols.csv: fill a fresh SQLite miss table for yesterday through
symbolsrv.db.upsert_misses, then stream the report and watch the server's memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import threading
import time
from pathlib import Path

from procs import Server  # procs also puts the repo root on sys.path

from symbolsrv import db
from symbolsrv.settings import load_settings


def module_names(modules_csv: Path) -> list[tuple[str, str, str]]:
    """(debug_file, symbol_file, code_file) of real modules, to make realistic rows."""
    names = []
    with open(modules_csv, newline="") as f:
        for row in csv.DictReader(f):
            debug_file = row["debug_file"]
            stem = debug_file[:-4] if debug_file.lower().endswith(".pdb") else debug_file
            names.append((debug_file, stem + ".sym", row["code_file"]))
    return names or [("xul.pdb", "xul.sym", "xul.dll")]


def fill(sqlite_path: Path, rows: int, modules_csv: Path, batch: int = 50_000) -> dict:
    """Insert `rows` distinct misses dated yesterday (UTC) in batches; return timings."""
    cfg = load_settings({"symbolsrv.locations": "file:///nonexistent",
                         "sqlalchemy.url": f"sqlite:///{sqlite_path}"})
    engine = db.make_engine(cfg)
    db.create_tables(engine)
    day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    seen = dt.datetime(day.year, day.month, day.day, 12, 0, 0)
    names = module_names(modules_csv)
    t0 = time.perf_counter()
    for start in range(0, rows, batch):
        counts = []
        for i in range(start, min(rows, start + batch)):
            debug_file, symbol_file, code_file = names[i % len(names)]
            key = db.MissKey(debug_file, f"{i:032X}{i % 10}", symbol_file, code_file,
                             f"{(i * 2654435761) % (1 << 32):08X}{i % 4096:x}")
            counts.append(db.MissCount(day, key, 1, seen, seen))
        db.upsert_misses(engine, counts)
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return {"day": day.isoformat(), "rows": rows, "insert_s": elapsed,
            "db_mb": sqlite_path.stat().st_size / 2**20}


def fetch(server: Server, path: str = "/missingsymbols.csv", sample_s: float = 0.02) -> dict:
    """Stream the report; measure total time, time to first byte, rows and server RSS."""
    # Settle: a few requests so lazily-built parts of the app exist before the baseline.
    for _ in range(3):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/__heartbeat__")
        conn.getresponse().read()
        conn.close()
    time.sleep(0.3)
    peak_reset = server.reset_peak_rss()
    rss_before = server.status_kb("VmRSS")
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append((time.perf_counter(), server.status_kb("VmRSS")))
            except (OSError, KeyError):
                return
            stop.wait(sample_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    newlines = 0
    size = 0
    first_byte = None
    tail = b""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("GET", path)
    response = conn.getresponse()
    headers_at = time.perf_counter() - t0
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        if first_byte is None:
            first_byte = time.perf_counter() - t0
        size += len(chunk)
        newlines += chunk.count(b"\n")
        tail = chunk[-200:]
    total = time.perf_counter() - t0
    conn.close()
    stop.set()
    sampler.join()
    hwm = server.status_kb("VmHWM")
    rss = [kb for _, kb in samples] or [rss_before]
    peak = max(hwm, *rss) if peak_reset else max(rss)
    # Bounded memory: RSS stops growing once streaming is under way. Compare the highest
    # sample of the first and of the second half of the transfer (by time).
    start = t0 + (first_byte if first_byte is not None else 0)
    middle = start + (t0 + total - start) / 2
    first_half = max([kb for t, kb in samples if start <= t < middle] or [rss_before])
    second_half = max([kb for t, kb in samples if t >= middle] or [rss_before])
    return {
        "status": response.status,
        "total_s": total,
        "headers_s": headers_at,
        "first_byte_s": first_byte if first_byte is not None else total,
        "rows": max(0, newlines - 1),  # minus the header line
        "mb": size / 2**20,
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": peak / 1024,
        "rss_growth_mb": (peak - rss_before) / 1024,
        "rss_first_half_mb": first_half / 1024,
        "rss_second_half_mb": second_half / 1024,
        "peak_from": "VmHWM (reset before) and VmRSS samples" if peak_reset else "VmRSS samples",
        "last_line": tail.decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1],
    }
