#!/usr/bin/env python3
"""Webhook throughput benchmark for Movix Billing (driven by scripts/bench-webhooks).

1. starts `movix-billing dev` (release binary) on its own data dir and ports;
2. creates N invoices through POST /v1/checkout, one new user each (HS256 JWTs minted here);
3. replays signed CloudPayments `Pay` notifications for all of them, plus 10% exact
   duplicates, with wrk (-t2 -c32, scripts/bench/replay.lua), each request exactly once;
4. reads the dev process's peak RSS (VmHWM), checks through the API that every invoice is
   paid exactly once (one invoice, one active subscription of exactly one month);
5. runs pgbench -N on the same PostgreSQL cluster (its own database) as the reference,
   prints the figures and PASS/FAIL against the targets.

Exit status: 0 all targets met, 3 a target missed, 1 the run or the verification failed.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import concurrent.futures as cf
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import requests


def account_id(user_id: str) -> str:
    """The AccountId acquirers see for a viewer (Acquiring/AcquirerAccount.swift), not the user id."""
    return "acc_" + hashlib.sha256(f"movix-account/{user_id.lower()}".encode()).hexdigest()[:32]


ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

TARGET_RATIO = 0.5       # notifications/s >= 0.5 x pgbench -N TPS
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 100.0

JWT_SECRET = "movix-bench-jwt-secret-at-least-32-bytes"
INTERNAL_TOKEN = "movix-bench-internal-token"
PUBLIC_ID = "pk_sandbox_movix_bench"
API_SECRET = "sandbox-api-secret-bench"


def log(msg: str):
    print(f"[bench] {msg}", flush=True)


class Interrupted(Exception):
    pass


def _raise_interrupted(signum, frame):
    raise Interrupted(f"signal {signum}")


# --------------------------------------------------------------------------- helpers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mint_jwt(user_id: str, secret: str, ttl: int = 3600) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    claims = b64url(json.dumps({"sub": user_id, "iat": now, "exp": now + ttl, "aud": "movix-billing"}, separators=(",", ":")).encode())
    signing_input = f"{header}.{claims}".encode()
    return f"{header}.{claims}.{b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())}"


def content_hmac(body: bytes) -> str:
    return base64.b64encode(hmac.new(API_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            out[k] = v.strip()
    except FileNotFoundError:
        pass
    return out


def kib(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the given processes (their own threads included)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
            pass
    return total / CLK_TCK


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def busy_cpu_seconds() -> float:
    """Non-idle CPU time of the whole machine (all processes), from /proc/stat."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK  # minus idle and iowait


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if "postgres" in cmdline(pid) else None


def stop_postmaster(pgdata: Path):
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    log(f"stopping PostgreSQL pid {pid} left on {pgdata}")
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while postmaster_pid(pgdata) == pid and time.monotonic() < deadline:
        time.sleep(0.2)
    if postmaster_pid(pgdata) == pid:
        os.kill(pid, signal.SIGKILL)


def cluster_dirs(data_dir: Path) -> list[Path]:
    """Where `dev` may keep its PostgreSQL cluster: <data dir>/postgres, or (as root, when the
    postgres user cannot reach that folder) /var/tmp/movix-billing/<the path with _ for />."""
    requested = (data_dir / "postgres").resolve()
    dirs = [requested]
    if os.getuid() == 0 and any(not (p.stat().st_mode & 0o001) for p in requested.parents if p.exists() and p != Path("/")):
        dirs.append(Path("/var/tmp/movix-billing") / "_".join(requested.parts[1:]))
    return dirs


def parse_time(value: str) -> datetime:
    s = value.strip().replace(" ", "T")
    if s[-1:] in "Zz":
        s = s[:-1] + "+00:00"
    s = re.sub(r"\.(\d{1,6})\d*", lambda m: "." + m.group(1).ljust(6, "0"), s)
    return datetime.fromisoformat(s).astimezone(timezone.utc)


def add_months(dt: datetime, months: int) -> datetime:
    m0 = dt.month - 1 + months
    y, m = dt.year + m0 // 12, m0 % 12 + 1
    return dt.replace(year=y, month=m, day=min(dt.day, calendar.monthrange(y, m)[1]))


_tls = threading.local()


def session() -> requests.Session:
    s = getattr(_tls, "session", None)
    if s is None:
        s = _tls.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4)
        s.mount("http://", adapter)
    return s


# --------------------------------------------------------------------------- the run


class Bench:
    def __init__(self, args):
        self.args = args
        self.data_dir = (ROOT / args.data_dir).resolve()
        self.pgdata = self.data_dir / "postgres"
        self.api = f"http://127.0.0.1:{args.http_port}"
        self.sandbox = f"http://127.0.0.1:{args.sandbox_port}"
        self.dev: subprocess.Popen | None = None
        self.wrk: subprocess.Popen | None = None
        self.log_path = self.data_dir / "dev.log"
        self.results: dict = {"invoices": args.invoices}

    # -- dev process ---------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.update(
            MOVIX_DATA_DIR=str(self.data_dir),
            MOVIX_HTTP_PORT=str(self.args.http_port),
            MOVIX_SANDBOX_PORT=str(self.args.sandbox_port),
            MOVIX_DEV_POSTGRES_PORT=str(self.args.postgres_port),
            MOVIX_JWT_SECRET=JWT_SECRET,
            MOVIX_INTERNAL_TOKEN=INTERNAL_TOKEN,
            MOVIX_CLOUDPAYMENTS_PUBLIC_ID=PUBLIC_ID,
            MOVIX_CLOUDPAYMENTS_API_SECRET=API_SECRET,
        )
        return env

    def start_dev(self):
        binary = Path(self.args.binary)
        if not binary.exists():
            raise SystemExit(f"{binary} not found (swift build -c release)")
        busy = [p for p in (self.args.http_port, self.args.sandbox_port, self.args.postgres_port) if port_in_use(p)]
        if busy:
            raise SystemExit(f"ports {busy} already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for pgdata in cluster_dirs(self.data_dir):
            stop_postmaster(pgdata)
            if not self.args.keep_data and pgdata.exists():
                shutil.rmtree(pgdata)
        log(f"starting {binary} dev (data {self.data_dir}, API :{self.args.http_port}, log {self.log_path})")
        self.dev_log = open(self.log_path, "wb")
        self.dev = subprocess.Popen([str(binary), "dev"], cwd=ROOT, env=self.env(), stdin=subprocess.DEVNULL,
                                    stdout=self.dev_log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        pending = {f"{self.api}/health/ready", f"{self.sandbox}/sandbox/health"}
        while pending:
            if self.dev.poll() is not None:
                raise RuntimeError(f"dev exited with {self.dev.returncode}:\n{self.log_tail()}")
            for url in list(pending):
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        pending.discard(url)
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after 180 s: {pending}\n{self.log_tail()}")
            time.sleep(0.3)
        m = re.search(r"Starting PostgreSQL in (\S+) on port", self.log_path.read_text(errors="replace"))
        if m:
            self.pgdata = Path(m.group(1))
        log(f"dev is ready (PostgreSQL data: {self.pgdata})")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return ""

    def server_pids(self) -> list[int]:
        """The dev process, plus any movix-billing child (should `dev` run `serve` as a child)."""
        assert self.dev is not None
        return [self.dev.pid] + [p for p in descendants(self.dev.pid) if "movix-billing" in cmdline(p)]

    def memory(self) -> dict:
        out = {}
        for pid in self.server_pids():
            st = proc_status(pid)
            out[pid] = {"cmd": cmdline(pid), "rss_kib": kib(st.get("VmRSS")), "hwm_kib": kib(st.get("VmHWM"))}
        return out

    # -- phases --------------------------------------------------------------
    def create_invoices(self) -> list[dict]:
        n = self.args.invoices
        log(f"creating {n} invoices through POST /v1/checkout (one new user each)")

        def one(_):
            uid = str(uuid.uuid4())
            token = mint_jwt(uid, JWT_SECRET)
            r = session().post(f"{self.api}/v1/checkout", json={"plan_id": "premium_1m"},
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
            if r.status_code != 201:
                raise RuntimeError(f"checkout -> {r.status_code}: {r.text[:300]}")
            body = r.json()
            return {"user": uid, "token": token, "invoice": body["invoice_id"], "amount": body["amount"]["amount"]}

        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(max_workers=16) as pool:
            invoices = list(pool.map(one, range(n)))
        dt = time.monotonic() - t0
        log(f"  {n} checkouts in {dt:.1f} s ({n / dt:.0f}/s)")
        self.results["checkout_per_s"] = round(n / dt, 1)
        return invoices

    def write_requests(self, invoices: list[dict], wrk_dir: Path) -> tuple[int, int]:
        if wrk_dir.exists():
            shutil.rmtree(wrk_dir)
        wrk_dir.mkdir(parents=True)
        rng = random.Random(self.args.seed)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        base_tx = int(time.time()) * 1000
        lines = []
        for i, inv in enumerate(invoices):
            amount = f"{inv['amount'] // 100}.{inv['amount'] % 100:02d}"
            fields = {
                "TransactionId": str(base_tx + i), "Amount": amount, "Currency": "RUB",
                "PaymentAmount": amount, "PaymentCurrency": "RUB", "DateTime": now,
                "CardFirstSix": "424242", "CardLastFour": "4242", "CardType": "Visa", "CardExpDate": "12/30",
                "TestMode": "1", "Status": "Completed", "OperationType": "Payment",
                "InvoiceId": inv["invoice"], "AccountId": account_id(inv["user"]),
                "Email": f"bench-{inv['user'][:8]}@example.test",
                "Token": f"sbx_tok_{uuid.uuid4().hex}", "GatewayName": "Sandbox",
            }
            body = urlencode(fields)
            lines.append(f"/webhooks/cloudpayments/pay\t{content_hmac(body.encode())}\t{body}\n")
        dups = round(len(lines) * self.args.dup_rate)
        all_lines = lines + [lines[i] for i in rng.sample(range(len(lines)), k=dups)]
        rng.shuffle(all_lines)
        threads = self.args.threads
        for t in range(threads):
            with open(wrk_dir / f"reqs-{t}.tsv", "w") as f:
                f.writelines(all_lines[t::threads])
        return len(lines), dups

    def replay(self, wrk_dir: Path) -> dict:
        cmd = ["wrk", f"-t{self.args.threads}", f"-c{self.args.concurrency}", "-d3600s", "--timeout", "30s",
               "--latency", "-s", str(HERE / "replay.lua"), self.api, "--", str(wrk_dir)]
        log("replaying: " + " ".join(cmd))
        peak_rss = {"kib": 0}
        stop_sampling = threading.Event()

        def sample():
            while not stop_sampling.wait(0.1):
                for info in self.memory().values():
                    peak_rss["kib"] = max(peak_rss["kib"], info["rss_kib"])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        pg_pids = lambda: ([pm] + descendants(pm)) if (pm := postmaster_pid(self.pgdata)) else []
        api_cpu0, pg_cpu0, busy0 = cpu_seconds(self.server_pids()), cpu_seconds(pg_pids()), busy_cpu_seconds()
        self.wrk = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + self.args.replay_timeout
        done_files = [wrk_dir / f"done-{t}" for t in range(self.args.threads)]
        while not all(f.exists() for f in done_files):
            if self.wrk.poll() is not None:
                break
            if time.monotonic() > deadline:
                log(f"replay did not finish within {self.args.replay_timeout} s; stopping wrk")
                break
            time.sleep(0.05)
        api_cpu, pg_cpu = cpu_seconds(self.server_pids()) - api_cpu0, cpu_seconds(pg_pids()) - pg_cpu0
        wrk_cpu, busy = cpu_seconds([self.wrk.pid]), busy_cpu_seconds() - busy0
        if self.wrk.poll() is None:
            self.wrk.send_signal(signal.SIGINT)
        out, _ = self.wrk.communicate(timeout=60)
        self.wrk = None
        stop_sampling.set()
        sampler.join()
        print(out.rstrip())
        m = re.search(r"^BENCH_RESULT (\{.*\})$", out, re.M)
        if not m:
            raise RuntimeError("wrk printed no BENCH_RESULT line")
        res = json.loads(m.group(1))
        res["sampled_peak_rss_kib"] = peak_rss["kib"]
        res.update(api_cpu_s=round(api_cpu, 2), postgres_cpu_s=round(pg_cpu, 2), wrk_cpu_s=round(wrk_cpu, 2),
                   other_cpu_s=round(max(0.0, busy - api_cpu - pg_cpu - wrk_cpu), 2))
        return res

    def verify(self, invoices: list[dict]) -> list[str]:
        log(f"verifying {len(invoices)} invoices through the API")

        def check(inv) -> str | None:
            s = session()
            h = {"Authorization": f"Bearer {inv['token']}"}
            r = s.get(f"{self.api}/v1/invoices", headers=h, timeout=30)
            if r.status_code != 200:
                return f"{inv['invoice']}: GET /v1/invoices -> {r.status_code}"
            lst = r.json()["invoices"]
            if [(i["id"], i["status"]) for i in lst] != [(inv["invoice"], "paid")]:
                return f"{inv['invoice']}: invoices {[(i['id'], i['status']) for i in lst]}"
            r = s.get(f"{self.api}/v1/subscription", headers=h, timeout=30)
            sub = r.json().get("subscription") if r.status_code == 200 else None
            if not sub or sub["status"] != "active":
                return f"{inv['invoice']}: subscription {sub}"
            start, end = parse_time(sub["current_period"]["start"]), parse_time(sub["current_period"]["end"])
            if abs((end - add_months(start, 1)).total_seconds()) > 1:
                return f"{inv['invoice']}: period {start} .. {end} is not one month (applied twice?)"
            return None

        with cf.ThreadPoolExecutor(max_workers=16) as pool:
            problems = [p for p in pool.map(check, invoices) if p]
        return problems

    def pg_dsn(self) -> tuple[str, str]:
        """(user, database) that psql can use on the dev cluster."""
        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        candidates = []
        m = re.search(r"postgres(?:ql)?://([^:@/\s]+)(?::[^@\s]*)?@[^/\s]+/(\w+)", self.log_path.read_text(errors="replace"))
        if m:
            candidates.append((m.group(1), m.group(2)))
        candidates += [(u, "postgres") for u in ("postgres", "movix", os.environ.get("USER", "root"), "root")]
        for user, db in candidates:
            r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.args.postgres_port), "-U", user, "-d", db,
                                "-Atqc", "select 1"], env=env, capture_output=True, text=True)
            if r.returncode == 0:
                return user, db
        raise RuntimeError("cannot connect to the dev PostgreSQL with psql (tried " +
                           ", ".join(f"{u}/{d}" for u, d in candidates) + ")")

    def pgbench(self) -> float:
        user, db = self.pg_dsn()
        common = ["-h", "127.0.0.1", "-p", str(self.args.postgres_port), "-U", user]
        ref = "movix_pgbench_reference"
        os.environ["PGOPTIONS"] = "-c client_min_messages=warning"
        subprocess.run(["psql", *common, "-d", db, "-qc", f"DROP DATABASE IF EXISTS {ref}"], check=True)
        subprocess.run(["psql", *common, "-d", db, "-qc", f"CREATE DATABASE {ref}"], check=True)
        log(f"pgbench -i on database {ref} (user {user})")
        subprocess.run(["pgbench", *common, "-i", "-q", ref], check=True, capture_output=True)
        cmd = ["pgbench", *common, "-N", "-c", str(self.args.concurrency), "-j", str(self.args.threads),
               "-T", str(self.args.pgbench_seconds), ref]
        log(" ".join(cmd))
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        print("\n".join(l for l in out.splitlines() if l.startswith(("latency", "tps", "number of"))))
        m = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)", out)
        if not m:
            raise RuntimeError("no tps in pgbench output:\n" + out)
        subprocess.run(["psql", *common, "-d", db, "-qc", f"DROP DATABASE IF EXISTS {ref}"], check=False)
        return float(m.group(1))

    def stop(self):
        if self.wrk is not None and self.wrk.poll() is None:
            self.wrk.kill()
            self.wrk.wait()
        if self.dev is not None and self.dev.poll() is None:
            log("stopping dev (SIGINT)")
            self.dev.send_signal(signal.SIGINT)
            try:
                self.dev.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log("dev still running 30 s after SIGINT: SIGKILL")
                self.dev.kill()
                self.dev.wait()
        deadline = time.monotonic() + 10
        while postmaster_pid(self.pgdata) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop_postmaster(self.pgdata)

    # -- main ----------------------------------------------------------------
    def run(self) -> int:
        self.load_at_start = loadavg()
        self.start_dev()
        mem0 = self.memory()
        invoices = self.create_invoices()
        unique, dups = self.write_requests(invoices, self.data_dir / "wrk")
        mem1 = self.memory()
        log(f"{unique} unique Pay notifications + {dups} duplicates, concurrency {self.args.concurrency}")
        res = self.replay(self.data_dir / "wrk")
        mem2 = self.memory()
        problems = self.verify(invoices)
        tps = self.pgbench()

        total = unique + dups
        seconds = res["replay_us"] / 1e6 if res["replay_us"] > 0 else float("nan")
        rate = res["answered"] / seconds
        p50, p99 = res["latency_us"]["p50"] / 1000, res["latency_us"]["p99"] / 1000
        pid = self.dev.pid
        hwm_mb = max(v["hwm_kib"] for v in mem2.values()) / 1024
        ratio = rate / tps if tps else float("nan")
        complete = res["answered"] == total and res["code0"] == total and not problems

        r = self.results
        r.update(unique=unique, duplicates=dups, sent=total, answered=res["answered"], code0=res["code0"],
                 code_not0=res["code_not0"], http_not200=res["http_not200"], wrk_errors=res["errors"],
                 replay_seconds=round(seconds, 3), notifications_per_s=round(rate, 1), p50_ms=p50, p99_ms=p99,
                 p999_ms=res["latency_us"]["p999"] / 1000, max_ms=res["latency_us"]["max"] / 1000,
                 memory_start=mem0, memory_before_replay=mem1, memory_end=mem2, peak_rss_mb=round(hwm_mb, 1),
                 api_cpu_s=res["api_cpu_s"], postgres_cpu_s=res["postgres_cpu_s"], wrk_cpu_s=res["wrk_cpu_s"],
                 other_cpu_s=res["other_cpu_s"], load_before=self.load_at_start,
                 pgbench_tps=tps, ratio=round(ratio, 3), verification_problems=len(problems),
                 cpu_count=os.cpu_count(), time=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        (self.data_dir / "results.json").write_text(json.dumps(r, indent=2, default=str))

        checks = [
            ("throughput >= 0.5 x pgbench -N TPS", ratio >= TARGET_RATIO, f"{rate:.0f}/s vs {tps:.0f} TPS = {ratio:.2f}x"),
            (f"p99 < {TARGET_P99_MS:.0f} ms", p99 < TARGET_P99_MS, f"p99 {p99:.1f} ms"),
            (f"peak RSS < {TARGET_RSS_MB:.0f} MB", hwm_mb < TARGET_RSS_MB, f"VmHWM {hwm_mb:.1f} MB"),
            ("every notification answered {code:0}, every invoice paid once", complete,
             f"{res['code0']}/{total} answered code 0, {len(problems)} invoice problems"),
        ]
        print()
        print("=" * 72)
        print(f"Movix Billing webhook benchmark ({os.cpu_count()} CPUs; wrk, API and PostgreSQL share them)")
        print(f"  notifications    {unique} unique + {dups} duplicates = {total} Pay, concurrency {self.args.concurrency}, "
              f"{self.args.threads} wrk threads")
        print(f"  answered         {res['answered']} ({res['code0']} code 0, {res['code_not0']} other code, "
              f"{res['http_not200']} non-200), wrk errors {res['errors']}")
        print(f"  throughput       {rate:.0f} notifications/s ({seconds:.2f} s first send -> last answer)")
        print(f"  latency          p50 {p50:.2f} ms, p90 {res['latency_us']['p90'] / 1000:.2f} ms, p99 {p99:.2f} ms, "
              f"max {res['latency_us']['max'] / 1000:.1f} ms")
        busy_other = res["other_cpu_s"] > 0.1 * seconds * (os.cpu_count() or 1)
        print(f"  CPU in replay    API process {res['api_cpu_s']:.1f} s, PostgreSQL {res['postgres_cpu_s']:.1f} s, "
              f"wrk {res['wrk_cpu_s']:.1f} s, other processes {res['other_cpu_s']:.1f} s "
              f"(of {seconds * (os.cpu_count() or 1):.1f} CPU-s); load average at start {self.load_at_start:.2f}"
              + ("\n  WARNING          other processes used the CPUs during the replay: the figures are low" if busy_other else ""))
        print(f"  server memory    pid {pid} (`movix-billing dev`: API + sandbox in-process; PostgreSQL not included): "
              f"VmHWM {hwm_mb:.1f} MB over the whole run; VmRSS {mem0[pid]['rss_kib'] / 1024:.1f} MB after start-up, "
              f"{mem1[pid]['rss_kib'] / 1024:.1f} MB after checkouts, {mem2[pid]['rss_kib'] / 1024:.1f} MB after replay")
        print(f"  pgbench -N       {tps:.0f} TPS (-c {self.args.concurrency} -j {self.args.threads} -T {self.args.pgbench_seconds}, same cluster)")
        print(f"  ratio            {ratio:.2f} x pgbench TPS")
        if problems:
            print(f"  verification     {len(problems)} problems, e.g.:")
            for p in problems[:10]:
                print(f"    - {p}")
        else:
            print(f"  verification     all {unique} invoices paid exactly once (API: one paid invoice, one 1-month period)")
        print("-" * 72)
        for name, ok, detail in checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
        print("=" * 72)
        print(f"results: {self.data_dir / 'results.json'}")
        if not complete:
            return 1
        return 0 if all(ok for _, ok, _ in checks) else 3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invoices", type=int, default=int(os.environ.get("BENCH_INVOICES", "5000")))
    ap.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "32")))
    ap.add_argument("--threads", type=int, default=2, help="wrk threads and pgbench -j")
    ap.add_argument("--dup-rate", type=float, default=0.1, help="duplicates as a fraction of unique notifications")
    ap.add_argument("--pgbench-seconds", type=int, default=15)
    ap.add_argument("--replay-timeout", type=int, default=900)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--binary", default=str(ROOT / ".build" / "release" / "movix-billing"))
    ap.add_argument("--data-dir", default=".data/bench")
    ap.add_argument("--http-port", type=int, default=28080)
    ap.add_argument("--sandbox-port", type=int, default=28090)
    ap.add_argument("--postgres-port", type=int, default=25440)
    ap.add_argument("--keep-data", action="store_true", help="reuse .data/bench/postgres instead of a fresh cluster")
    args = ap.parse_args()
    if args.invoices < args.threads:
        ap.error("--invoices must be at least --threads")

    signal.signal(signal.SIGTERM, _raise_interrupted)
    bench = Bench(args)
    try:
        return bench.run()
    except (Interrupted, KeyboardInterrupt) as exc:
        log(f"interrupted ({exc or 'SIGINT'})")
        return 130
    except Exception as exc:  # noqa: BLE001 - report, then clean up
        log(f"ERROR: {exc}")
        tail = bench.log_tail(30)
        if tail:
            print(f"--- tail of {bench.log_path} ---\n{tail}")
        return 1
    finally:
        bench.stop()


if __name__ == "__main__":
    sys.exit(main())
