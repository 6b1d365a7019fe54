"""Load generators: wrk with bench/replay.lua (throughput runs) and a one-client Python loop
(latency of single requests). Both run on the caller's core (bench/run pins itself to the
client core) and record what the server did meanwhile: its CPU time, the CPU others took
on the server's core, and its peak RSS.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from procs import Server, core_times, pinned

LUA = Path(__file__).resolve().parent / "replay.lua"


@dataclass
class Run:
    """One measured run against one server."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    duration_s: float
    server_cpu_us_per_req: float | None = None
    # Share of the server's core that others had: other processes plus hypervisor steal.
    other_cpu_pct: float | None = None
    steal_pct: float | None = None  # the hypervisor's part of it
    peak_rss_mb: float | None = None
    statuses: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class ServerMeter:
    """Server CPU, other CPU on its core and peak RSS between start() and stop()."""

    def __init__(self, server: Server):
        self.server = server

    def __enter__(self):
        s = self.server
        self.peak_reset = s.reset_peak_rss()
        self.rss_before_kb = s.status_kb("VmRSS")
        self.cpu0 = s.cpu_seconds()
        self.core0 = core_times(s.core)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        s = self.server
        self.elapsed = time.monotonic() - self.t0
        self.cpu = s.cpu_seconds() - self.cpu0
        tasks, steal = core_times(s.core)
        self.core_tasks = tasks - self.core0[0]
        self.core_steal = steal - self.core0[1]
        self.hwm_kb = s.status_kb("VmHWM")
        return False

    def fill(self, run: Run) -> Run:
        if run.requests:
            run.server_cpu_us_per_req = self.cpu / run.requests * 1e6
        if self.elapsed >= 1.0:  # /proc times tick at 10 ms: shorter spans say nothing
            run.steal_pct = self.core_steal / self.elapsed * 100
            run.other_cpu_pct = (max(0.0, self.core_tasks - self.cpu) / self.elapsed * 100
                                 + run.steal_pct)
        run.peak_rss_mb = self.hwm_kb / 1024
        run.extra["peak_rss_is_phase_peak"] = self.peak_reset
        return run


def wrk(name: str, server: Server, paths_file: Path, duration: float, client_core: int,
        threads: int = 2, connections: int = 32, refresh: bool = False,
        switch_at: float = 0.0, tail_file: Path | None = None,
        log_dir: Path | None = None) -> Run:
    """Replay paths_file against server with wrk (GETs; from unix time switch_at on, the
    targets of tail_file); return the parsed BENCHJSON summary."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
            "-s", str(LUA), server.url, "--", str(paths_file), "1" if refresh else "0",
            f"{switch_at:.3f}", str(tail_file or "")]
    with ServerMeter(server) as meter:
        proc = subprocess.run(pinned(client_core, argv), capture_output=True, text=True,
                              timeout=duration + 60)
    if log_dir is not None:
        (log_dir / f"wrk-{name}.txt").write_text(proc.stdout + proc.stderr)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    duration_s = data["duration_us"] / 1e6
    run = Run(name=name, rps=data["requests"] / duration_s, p50_ms=data["p50_us"] / 1000,
              p99_ms=data["p99_us"] / 1000, requests=data["requests"], duration_s=duration_s,
              statuses={int(k): v for k, v in data["statuses"].items()},
              errors={k: v for k, v in data["errors"].items() if v and k != "status"},
              extra={k: data[k] for k in ("sent_main", "sent_tail", "symbol_not_found")})
    return meter.fill(run)


def single_client(name: str, server: Server, targets: list[str], rounds: int,
                  expect_status: int | None = None, warmup: int = 20) -> dict[str, Run]:
    """One client, one keep-alive connection, requests strictly one after another.

    The targets are interleaved (a, b, a, b, ...) so drift on a shared machine hits them
    alike. Returns one Run per target with median and p99 latency.
    """
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    samples = {t: [] for t in targets}
    locations = {t: set() for t in targets}
    statuses = {t: {} for t in targets}
    with ServerMeter(server) as meter:
        for i in range(warmup + rounds):
            for target in targets:
                t0 = time.perf_counter()
                conn.request("GET", target)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - t0
                if i >= warmup:
                    samples[target].append(elapsed)
                    statuses[target][response.status] = statuses[target].get(response.status, 0) + 1
                    locations[target].add(response.getheader("Location", ""))
    conn.close()
    runs = {}
    for target in targets:
        lat = sorted(samples[target])
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        run = Run(name=f"{name} {target}", rps=len(lat) / sum(lat), p50_ms=p50 * 1000,
                  p99_ms=p99 * 1000, requests=len(lat), duration_s=sum(lat),
                  statuses=statuses[target], extra={"locations": sorted(locations[target])})
        meter.fill(run)
        # The meter saw all targets together: server CPU per request is for the mix.
        run.server_cpu_us_per_req = None
        run.extra["mix_cpu_us_per_req"] = meter.cpu / ((warmup + rounds) * len(targets)) * 1e6
        if expect_status is not None and set(run.statuses) != {expect_status}:
            raise RuntimeError(f"{name}: {target} answered {run.statuses}, expected {expect_status}")
        runs[target] = run
    return runs


def fetch_all(port: int, targets: list[str], workers: int = 8) -> dict[int, int]:
    """GET every target once, `workers` keep-alive connections at a time; count statuses."""
    local = threading.local()
    counts: dict[int, int] = {}
    lock = threading.Lock()

    def get(target: str) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                conn.close()
                local.conn = None
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            status = -1
        with lock:
            counts[status] = counts.get(status, 0) + 1

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(get, targets))
    return counts
