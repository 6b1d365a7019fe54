"""Server processes for the benchmark: start pinned to a core, wait until they answer, measure
their CPU time and memory from /proc, stop them by pid.

Everything listens on 127.0.0.1 on a free port; logs go to files in the run's directory.
"""

from __future__ import annotations

import configparser
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.servers import MotoServer, free_port  # noqa: E402  (the repo's own helper)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv]


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


class Server:
    """One child process serving HTTP on 127.0.0.1:port, pinned to `core`."""

    def __init__(self, name: str, argv: list[str], port: int, core: int, workdir: Path,
                 ready_path: str = "/", env: dict | None = None):
        self.name = name
        self.argv = argv
        self.port = port
        self.core = core
        self.log_path = workdir / f"{name}.log"
        self.ready_path = ready_path
        self.env = env
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Server":
        with open(self.log_path, "ab") as log:
            # taskset execs the program: the child's pid is the server's pid.
            self.proc = subprocess.Popen(pinned(self.core, self.argv), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                         env={**os.environ, **(self.env or {})})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log "
                                   f"{self.log_path}:\n{tail(self.log_path)}")
            if http_status(self.port, self.ready_path) is not None:
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f}s; log "
                           f"{self.log_path}:\n{tail(self.log_path)}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Signal our own child by pid and wait; SIGKILL if it does not go. Return the status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    # --- /proc measurements -------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """utime + stime of the process (all threads), in seconds."""
        return proc_cpu_seconds(self.pid)

    def status_kb(self, field: str) -> int:
        return proc_status_kb(self.pid, field)

    def reset_peak_rss(self) -> bool:
        """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs). False if refused."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def affinity(self) -> set[int]:
        return os.sched_getaffinity(self.pid)


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def core_times(core: int) -> tuple[float, float]:
    """(task time, steal time) of one CPU since boot, from /proc/stat, in seconds.

    Task time is user + nice + system: what processes and kernel threads ran there. irq and
    softirq time are left out (they may or may not be charged to the process that caused
    them); steal is time the hypervisor gave this virtual CPU's slot to someone else.
    """
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                v = [int(x) for x in line.split()[1:]]
                user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
                return (user + nice + system) / CLK_TCK, steal / CLK_TCK
    raise KeyError(core)


def tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_bytes()[-limit:].decode("utf-8", "replace")
    except OSError as exc:
        return f"(no log: {exc})"


class PinnedMoto(MotoServer):
    """tests.servers.MotoServer, pinned to one core with taskset."""

    core = 1

    def command(self):
        return pinned(self.core, super().command())


def symbolsrv_ini(path: Path, port: int, locations: list[str], sqlite_path: Path,
                  threads: int, cache_url: str = "memory", access_log: bool = True) -> Path:
    """production.ini with the locations, database and listen address of this run.

    Everything else (logging, waitress options) is production's, so the benchmark measures
    what production runs, except the access log, set explicitly: INFO (access_log=True, the
    heavier case) or WARNING (production.ini's default), to show what the line costs.
    """
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str  # keep key case
    ini.read(REPO / "production.ini")
    app = ini["app:main"]
    app["symbolsrv.locations"] = "\n" + "\n".join(locations)
    app.pop("symbolsrv.try_locations", None)  # production's try bucket does not exist here
    app["symbolsrv.cache_url"] = cache_url
    app["sqlalchemy.url"] = f"sqlite:///{sqlite_path}"
    for key in ("sqlalchemy.pool_size", "sqlalchemy.pool_recycle"):
        app.pop(key, None)  # PostgreSQL pool tuning; SQLite keeps SQLAlchemy's defaults
    server = ini["server:main"]
    server["listen"] = f"127.0.0.1:{port}"
    server["threads"] = str(threads)
    for key in ("trusted_proxy", "trusted_proxy_headers"):
        server.pop(key, None)
    ini["logger_access"]["level"] = "INFO" if access_log else "WARNING"
    with open(path, "w") as f:
        f.write("# Generated by bench/run from production.ini; do not edit.\n")
        ini.write(f)
    return path


def symbolsrv_server(workdir: Path, name: str, ini: Path, port: int, core: int,
                     env: dict) -> Server:
    argv = [sys.executable, "-m", "pyramid.scripts.pserve", str(ini)]
    return Server(name, argv, port, core, workdir, ready_path="/__lbheartbeat__", env=env)


def baseline_server(workdir: Path, which: str, port: int, core: int, threads: int,
                    location: str) -> Server:
    script = REPO / "bench" / f"baseline_{which}.py"
    argv = [sys.executable, str(script), "--port", str(port), "--threads", str(threads),
            "--location", location]
    return Server(f"baseline-{which}", argv, port, core, workdir, ready_path="/")


__all__ = ["PinnedMoto", "Server", "baseline_server", "core_times", "free_port",
           "proc_cpu_seconds", "proc_status_kb", "symbolsrv_ini", "symbolsrv_server"]
