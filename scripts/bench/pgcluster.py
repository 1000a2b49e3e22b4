"""A PostgreSQL cluster of a benchmark's own, and pgbench on it as the reference.

Shared by scripts/bench/bench_renewals.py and scripts/bench/bench_events.py: a cluster with the
server's default settings (fsync on, as in production) in a data directory the benchmark names,
started as the `postgres` user when run as root, on a free port; `stop()` deletes its data.

Standard library only.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError(f"{name} not found under /usr/lib/postgresql")
    return str(found[-1])


class Cluster:
    """A cluster under `data`/pgdata (`data` is the benchmark's directory: its results and logs
    stay there); `log` prints the benchmark's progress lines; `settings` ("name=value") are given
    to the server on top of its defaults (none unless a benchmark asks for a diagnostic)."""

    def __init__(self, data: Path, log: Callable[[str], None] = print, settings: tuple[str, ...] = ()):
        self.data = data
        self.settings = settings
        self.pgdata = data / "pgdata"
        self.port = free_port()
        self.as_postgres = os.getuid() == 0
        self.log = log

    def run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        cmd = ["runuser", "-u", "postgres", "--", *args] if self.as_postgres else args
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self):
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.data.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir()
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
            os.chown(self.pgdata, pw.pw_uid, pw.pw_gid)
        self.run([pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self.run([pg_bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.pgdata / "server.log"), "-w",
                  "-o", f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1" + "".join(f" -c {s}" for s in self.settings), "start"])
        self.log(f"PostgreSQL on port {self.port}, default settings (fsync {self.setting('fsync')}, "
                 f"synchronous_commit {self.setting('synchronous_commit')}, shared_buffers {self.setting('shared_buffers')})")

    def stop(self):
        """Stops the cluster and deletes its data; what the benchmark wrote beside it stays."""
        if (self.pgdata / "postmaster.pid").exists():
            self.run([pg_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.pgdata, ignore_errors=True)

    def postmaster_pid(self) -> int | None:
        """The postmaster's PID while the cluster runs (its backends are its children)."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(database), "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def setting(self, name: str) -> str:
        return self.psql("postgres", f"SHOW {name}")


def pgbench(cluster: Cluster, seconds: int) -> float:
    """pgbench -N (-c 8 -j 2) for `seconds` on a database of its own in `cluster`: TPS."""
    cluster.psql("postgres", "DROP DATABASE IF EXISTS movix_pgbench_reference")
    cluster.psql("postgres", "CREATE DATABASE movix_pgbench_reference")
    common = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
    subprocess.run(["pgbench", *common, "-i", "-q", "movix_pgbench_reference"], check=True, capture_output=True)
    out = subprocess.run(["pgbench", *common, "-N", "-c", "8", "-j", "2", "-T", str(seconds), "movix_pgbench_reference"],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    if not match:
        raise RuntimeError("no tps in pgbench output:\n" + out)
    return float(match.group(1))
