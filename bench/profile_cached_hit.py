"""Quick A/B of cached GET hits: symbolsrv (production.ini settings) vs the minimal Pyramid
ceiling, both under waitress pinned to core 0, wrk -t2 -c32 on core 1, interleaved repeats.

    python bench/profile_cached_hit.py [--duration 8] [--repeats 3] [--pyspy SECONDS]
        [--quiet]   (access log off)

Prints req/s and server CPU µs/request per run, medians, and the ratio to Pyramid.
With --pyspy N, records N seconds of symbolsrv under load with py-spy (raw, --idle off)
into the work directory and prints the top frames.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench import (BUCKETS, PREFIX, PROBE_1, THREADS, data_dir, load_workload,  # noqa: E402
                   upload, write_lines)
from load import fetch_all, wrk  # noqa: E402
from procs import (PinnedMoto, baseline_server, free_port, symbolsrv_ini,  # noqa: E402
                   symbolsrv_server)
from tests.servers import aws_env  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pyspy", type=float, default=0.0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--before", default="", help="a directory holding another symbolsrv/ "
                   "package (e.g. `git archive HEAD symbolsrv | tar -x -C DIR`): run it too")
    args = p.parse_args()
    os.sched_setaffinity(0, {1})
    data = data_dir()
    work = Path(tempfile.mkdtemp(prefix="symbolsrv-prof-"))
    workload = load_workload(data)
    hot = [t for t, _ in Counter(t for t, c in workload if c == "hit").most_common(16)]
    hits_file = write_lines(work / "hits.txt", hot)
    fixed_file = write_lines(work / "fixed.txt", ["/" + PROBE_1])
    moto = PinnedMoto()
    moto.core = 1
    moto.start()
    servers = []
    try:
        env = aws_env(moto.endpoint)
        upload(moto.endpoint, env, data / "symbols")
        locations = [f"s3://{b}/{PREFIX.rstrip('/')}" for b in BUCKETS]
        fixed_location = f"{moto.endpoint}/{BUCKETS[0]}/{PREFIX}{PROBE_1}"
        pyr = baseline_server(work, "pyramid", free_port(), 0, THREADS, fixed_location)
        port = free_port()
        ini = symbolsrv_ini(work / "s.ini", port, locations, work / "m.sqlite", THREADS,
                            access_log=not args.quiet)
        srv = symbolsrv_server(work, "symbolsrv", ini, port, 0, env)
        plan = [("pyramid", pyr, fixed_file), ("symbolsrv", srv, hits_file)]
        if args.before:
            port = free_port()
            ini_b = symbolsrv_ini(work / "b.ini", port, locations, work / "mb.sqlite", THREADS,
                                  access_log=not args.quiet)
            old = symbolsrv_server(work, "before", ini_b, port, 0, env)
            old.argv = [sys.executable, "-c",
                        f"import sys; sys.path[0:0] = [{args.before!r}]; "
                        "from pyramid.scripts.pserve import main; "
                        f"sys.exit(main(['pserve', {str(ini_b)!r}]))"]
            plan.append(("before", old, hits_file))
        for _, s, _ in plan:
            servers.append(s.start())
        for _, s, _ in plan[1:]:
            print("warm", s.name, fetch_all(s.port, hot), file=sys.stderr)
        for _, s, f in plan:
            wrk("warm", s, f, 2, 1)
        reps = {k: [] for k, _, _ in plan}
        for i in range(args.repeats):
            # Alternate the order each round, so a drifting machine favours no server.
            for k, s, f in (plan if i % 2 == 0 else plan[::-1]):
                r = wrk(k, s, f, args.duration, 1)
                assert set(r.statuses) == {302}, r.statuses
                reps[k].append(r)
                print(f"{k} #{i + 1}: {r.rps:,.0f} req/s  {r.server_cpu_us_per_req:.1f} µs/req "
                      f"others {r.other_cpu_pct:.0f}%", flush=True)
        med = {k: (statistics.median(r.rps for r in v),
                   statistics.median(r.server_cpu_us_per_req for r in v)) for k, v in reps.items()}
        for k, (rps, cpu) in med.items():
            print(f"median {k}: {rps:,.0f} req/s {cpu:.1f} µs/req")
        for k in med:
            print(f"{k}/pyramid: req/s {med[k][0] / med['pyramid'][0]:.3f}x, "
                  f"CPU/req {med[k][1] / med['pyramid'][1]:.3f}x")
        if args.pyspy:
            for k, s, f in plan:
                out = work / f"pyspy-{k}.txt"
                t = threading.Thread(target=wrk, args=("spy", s, f, args.pyspy + 2, 1))
                t.start()
                subprocess.run(["py-spy", "record", "-r", "200", "-o", str(out), "--format", "raw",
                                "-p", str(s.pid), "-d", str(int(args.pyspy))], capture_output=True)
                t.join()
                print(f"py-spy {k}: {out}")
        log = (work / "symbolsrv.log")
        print(f"work dir {work}; symbolsrv log {log.stat().st_size} bytes")
    finally:
        for s in servers:
            s.stop()
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
