"""/missing/ in a real browser: symbolsrv under waitress (pserve, as operators run it), known
misses in its database, Debian's chromium headless taking a screenshot and dumping the DOM.

The rendered chart's bars and the table's numbers must equal what the database holds, the
screenshot must be a real picture with the chart's bar colour in it, and a module name holding
markup must stay text. Without chromium the test is skipped with the reason (failed under CI).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import struct
import subprocess
import time
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from symbolsrv import db
from symbolsrv.db import MissCount, MissKey
from tests.integration.apps import SymbolsrvProcess
from tests.servers import unavailable

pytestmark = pytest.mark.integration

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"
BAR_RGB = (0x3B, 0x6F, 0xB6)  # svg .bar fill in symbolsrv/views/missing.py
WINDOW = (1200, 900)
ID = "44E4EC8C2F41492B9369D6B9A059577C2"
EVIL = '<img src=x onerror="document.title=1"><script>document.title=2</script>.pdb'


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    unavailable("chromium not found on PATH, needed to render /missing/ in a browser;"
                " install: apt-get install chromium")


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
    ]
    # Chromium's own chatter (dbus, GPU) goes to stderr; only a failure is worth showing.
    proc = subprocess.run(command, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "HOME": str(profile)})
    assert proc.returncode == 0, (proc.returncode, proc.stderr.decode("utf-8", "replace")[-3000:])
    return proc


# ------------------------------------------------------------------ PNG, with the stdlib


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(width, height, RGB pixels) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    previous = bytearray(stride)
    pixels = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return width, height, pixels


# ------------------------------------------------------------------ the rendered DOM


class Dashboard(HTMLParser):
    """Collects the chart's bars and the top-modules table from a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.bars: list[tuple[str, int]] = []
        self.rows: list[list[str]] = []
        self.count_attrs: list[int] = []
        self.scripts = 0
        self._table = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "rect" and "bar" in (attrs.get("class") or "").split():
            self.bars.append((attrs["data-day"], int(attrs["data-count"])))
        if tag == "table":
            self._table = attrs.get("id")
        if self._table == "top-modules":
            if tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self._cell = []
                if "data-count" in attrs:
                    self.count_attrs.append(int(attrs["data-count"]))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None


# ------------------------------------------------------------------ the data


def known_misses(today: dt.date) -> list[MissCount]:
    """55 modules over the last 30 days (so the table cuts at 50), one older day, one
    module name holding markup."""
    counts = []
    for n in range(55):
        key = MissKey(f"mod{n:02}.pdb", f"{n:02}{ID[2:]}", f"mod{n:02}.sym", f"mod{n:02}.dll", "")
        for ago in (n % 30, (n * 7) % 30):
            when = dt.datetime.combine(today - dt.timedelta(days=ago), dt.time(n % 24, n))
            counts.append(MissCount(when.date(), key, 3 * n + ago + 1, when, when))
    old = today - dt.timedelta(days=45)
    counts.append(MissCount(old, MissKey("old.pdb", ID, "old.sym", "", ""), 999,
                            dt.datetime.combine(old, dt.time(1)), dt.datetime.combine(old, dt.time(1))))
    yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(8))
    counts.append(MissCount(yesterday.date(), MissKey(EVIL, ID, "evil.sym", "", ""), 1000,
                            yesterday, yesterday))
    return counts


def database_view(sqlite_path: str, today: dt.date):
    """What the page should show, straight from the database: per-day sums for the last 30
    days, and the top 50 (debug_file, debug_id, code_file) by total, with their last seen."""
    first = today - dt.timedelta(days=29)
    with sqlite3.connect(sqlite_path) as conn:
        per_day = dict(conn.execute(
            "SELECT day, SUM(count) FROM missing_symbols WHERE day BETWEEN ? AND ? GROUP BY day",
            (first.isoformat(), today.isoformat())).fetchall())
        modules = conn.execute(
            "SELECT debug_file, debug_id, code_file, SUM(count), MAX(last_seen)"
            " FROM missing_symbols WHERE day BETWEEN ? AND ?"
            " GROUP BY debug_file, debug_id, code_file", (first.isoformat(), today.isoformat())
        ).fetchall()
    days = [(first + dt.timedelta(days=n)).isoformat() for n in range(30)]
    bars = [(d, per_day.get(d, 0)) for d in days]
    modules.sort(key=lambda m: (-m[3], m[0], m[1], m[2]))
    top = [[f, i, c, f"{n:,}", dt.datetime.fromisoformat(seen).replace(microsecond=0).isoformat(" ")]
           for f, i, c, n, seen in modules[:50]]
    return bars, top


# ------------------------------------------------------------------ the test


def test_dashboard_renders_the_databases_numbers_in_chromium(tmp_path):
    browser = chromium()
    started = time.monotonic()
    store = tmp_path / "symbols"
    store.mkdir()
    server = SymbolsrvProcess([store.as_uri()], name="dashboard")
    try:
        server.start()
        today = dt.datetime.now(dt.timezone.utc).date()
        engine = sa.create_engine(f"sqlite:///{server.sqlite_path}")
        try:
            db.upsert_misses(engine, known_misses(today))
        finally:
            engine.dispose()
        # Two misses served for real: still buffered in the server, flushed by the page.
        for _ in range(2):
            assert server.get(f"/live.pdb/{ID}/live.sym?code_file=live.dll").status == 404

        reply = server.get("/missing/")
        assert reply.status == 200
        assert reply.header("Content-Security-Policy") == CSP

        profile = tmp_path / "chromium-profile"
        profile.mkdir()
        screenshot = tmp_path / "page.png"
        run_chromium(browser, profile, f"--screenshot={screenshot}", f"{server.url}/missing/")
        dom = run_chromium(browser, profile, "--dump-dom", f"{server.url}/missing/").stdout
        dom = dom.decode("utf-8")
        bars, top = database_view(server.sqlite_path, today)
    finally:
        if server.running:
            assert server.terminate() == 0, server.log_tail()
        server.close()

    # The screenshot: a real PNG of the window, with the bars' colour in it.
    data = screenshot.read_bytes()
    assert len(data) > 20_000, len(data)
    width, height, pixels = png_pixels(data)
    assert (width, height) == WINDOW
    colours = Counter(pixels)
    assert len(colours) > 50, "a nearly uniform picture: nothing rendered?"
    bar_pixels = sum(n for rgb, n in colours.items()
                     if all(abs(a - b) <= 6 for a, b in zip(rgb, BAR_RGB)))
    assert bar_pixels > 2_000, bar_pixels

    # The DOM as chromium built it: bars and table equal the database.
    page = Dashboard()
    page.feed(dom)
    assert page.scripts == 0  # the module name with markup stayed text
    assert len(page.bars) == 30
    assert page.bars == bars
    assert dict(bars)[today.isoformat()] > 0 and sum(c for _, c in bars) > 0
    assert len(page.rows) == 1 + 50  # the header row and the top 50
    assert page.rows[1:] == top
    assert page.count_attrs == [int(row[3].replace(",", "")) for row in top]
    assert page.rows[1][0] == EVIL  # 1000 misses yesterday: first, shown as written
    # Today's bar holds the known misses and the two served ones.
    known_today = sum(c.count for c in known_misses(today) if c.day == today)
    assert dict(page.bars)[today.isoformat()] == known_today + 2
    print(f"dashboard browser test: {time.monotonic() - started:.1f}s, screenshot {screenshot}")
