"""The processes a chaos run starts and owns: a PostgreSQL cluster of its own (as `postgres`, under
a temporary directory), `movix-billing sandbox`, `movix-billing serve` and any `movix-billing
worker` a scenario starts, all on free loopback ports. Every process is stopped by the PID this
module started (never by name), also on failure; the temporary directory goes with it.

Standard library and `requests` only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import free_port as harness_free_port  # noqa: E402  (e2e/harness.py: one port rule for all)

ROOT = Path(__file__).resolve().parents[2]
BUILT_BINARY = ROOT / ".build" / "debug" / "movix-billing"

JWT_SECRET = "movix-chaos-jwt-secret-at-least-32-bytes"
INTERNAL_TOKEN = "movix-chaos-internal-token"
PUBLIC_ID = "pk_sandbox_movix_chaos"
API_SECRET = "sandbox-api-secret-chaos"
DATABASE = "movix_chaos"


def log(msg: str):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port(taken: set[int]) -> int:
    """A free loopback port below the ephemeral range, not one already chosen (see harness.free_port)."""
    for _ in range(50):
        port = harness_free_port()
        if port not in taken:
            taken.add(port)
            return port
    raise RuntimeError("no free TCP port")


# --------------------------------------------------------------------------- the binary


def private_binary(workdir: Path, wait_seconds: float = 900) -> Path:
    """A private copy of the debug binary (and its resource bundles), so that a `swift build`
    replacing .build/debug while we run changes nothing. MOVIX_BILLING_BIN wins when set.

    Waits (bounded) for the binary to exist and its mtime and size to stay put for 5 s."""
    given = os.environ.get("MOVIX_BILLING_BIN")
    source = Path(given) if given else BUILT_BINARY
    deadline = time.monotonic() + wait_seconds
    last, stable_since, said = None, None, False
    while True:
        try:
            st = source.stat()
            sig = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            sig = None
        now = time.monotonic()
        if sig is not None and sig == last:
            if now - stable_since >= 5:
                break
        else:
            last, stable_since = sig, now
        if now > deadline:
            raise RuntimeError(f"{source} did not appear (or kept changing) within {wait_seconds:.0f} s")
        if not said:
            log(f"waiting for {source} to exist and stay unchanged for 5 s (a build may be running)")
            said = True
        time.sleep(1)
    target_dir = workdir / "bin"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "movix-billing"
    shutil.copy2(source, target)
    # SwiftPM resource bundles (the OpenAPI document, page templates, migrations) live next to
    # the binary; without them Bundle.module falls back to the build folder.
    for bundle in source.resolve().parent.glob("*.resources"):
        shutil.copytree(bundle, target_dir / bundle.name, dirs_exist_ok=True)
    return target


# --------------------------------------------------------------------------- tokens and signatures


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mint_jwt(user_id: str, ttl: int = 3600, secret: str = JWT_SECRET) -> str:
    """What `movix-billing token` mints: HS256, sub, aud movix-billing."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    claims = b64url(json.dumps({"sub": user_id, "iat": now, "exp": now + ttl, "aud": "movix-billing",
                                "email": f"chaos-{user_id[:8]}@example.test"}, separators=(",", ":")).encode())
    signing_input = f"{header}.{claims}".encode()
    sig = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{claims}.{sig}"


def content_hmac(body: bytes) -> str:
    return base64.b64encode(hmac.new(API_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def account_id(user_id: str) -> str:
    """The AccountId acquirers see for a viewer (Acquiring/AcquirerAccount.swift)."""
    return "acc_" + hashlib.sha256(f"movix-account/{user_id.lower()}".encode()).hexdigest()[:32]


def pay_notification(invoice: dict, transaction_id: int) -> bytes:
    """A CloudPayments Pay notification body for an invoice, as the acquirer would send it."""
    amount = f"{invoice['amount'] // 100}.{invoice['amount'] % 100:02d}"
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    fields = {
        "TransactionId": str(transaction_id), "Amount": amount, "Currency": "RUB",
        "PaymentAmount": amount, "PaymentCurrency": "RUB", "DateTime": now,
        "CardFirstSix": "400000", "CardLastFour": "3055", "CardType": "Visa", "CardExpDate": "12/30",
        "TestMode": "1", "Status": "Completed", "OperationType": "Payment",
        "InvoiceId": invoice["invoice_id"], "AccountId": account_id(invoice["user_id"]),
        "SubscriptionId": "", "Name": "CHAOS", "Email": f"chaos-{invoice['user_id'][:8]}@example.test",
        "IpAddress": "127.0.0.1", "Issuer": "Sandbox", "Description": "Movix Premium", "Data": "",
        "Token": f"sbx_tok_{uuid.uuid4().hex}", "AuthCode": "A1B2C3", "Rrn": str(transaction_id),
        "GatewayName": "Sandbox", "TotalFee": "0", "PaymentMethod": "",
    }
    return urlencode(fields).encode()


def cryptogram(number: str, exp: str = "12/30", cvv: str = "123", name: str = "CHAOS") -> str:
    payload = json.dumps({"Number": number, "ExpDate": exp, "Cvv": cvv, "Name": name}, separators=(",", ":"))
    return "sbx1." + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


_tls = threading.local()


def session() -> requests.Session:
    """One session (keep-alive pool) per thread."""
    s = getattr(_tls, "session", None)
    if s is None:
        s = _tls.session = requests.Session()
        s.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0))
    return s


# --------------------------------------------------------------------------- the stack


class Stack:
    """PostgreSQL + sandbox + serve on free ports, under one temporary directory."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.workdir = Path(tempfile.mkdtemp(prefix="movix-chaos-"))
        os.chmod(self.workdir, 0o755)  # the postgres user must reach its cluster below
        self.binary: Path | None = None
        taken: set[int] = set()
        self.pg_port = int(os.environ.get("CHAOS_POSTGRES_PORT") or free_port(taken))
        self.api_port = int(os.environ.get("CHAOS_HTTP_PORT") or free_port(taken))
        self.sandbox_port = int(os.environ.get("CHAOS_SANDBOX_PORT") or free_port(taken))
        self.pgdata = self.workdir / "pg"
        self.pg_log = self.workdir / "postgres.log"
        self.pg_bin = self._pg_bin()
        self.api: subprocess.Popen | None = None
        self.sandbox: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []  # `movix-billing worker`s a scenario started
        self.api_starts = 0
        self.api_base = f"http://127.0.0.1:{self.api_port}"
        self.sandbox_base = f"http://127.0.0.1:{self.sandbox_port}"
        self.database_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/{DATABASE}?sslmode=disable"
        self._postmasters: set[int] = set()

    # -- PostgreSQL -------------------------------------------------------

    @staticmethod
    def _pg_bin() -> Path:
        root = Path("/usr/lib/postgresql")
        versions = sorted((int(p.name) for p in root.iterdir() if p.name.isdigit()), reverse=True) if root.exists() else []
        for v in versions:
            if (root / str(v) / "bin" / "initdb").exists():
                return root / str(v) / "bin"
        found = shutil.which("initdb")
        if found:
            return Path(found).resolve().parent
        raise RuntimeError("PostgreSQL server programs not found (apt-get install postgresql)")

    def _as_postgres(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if os.getuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, cwd="/", stdin=subprocess.DEVNULL, text=True, **kw)

    def init_postgres(self):
        self.pgdata.mkdir()
        self.pg_log.touch()
        if os.getuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (self.pgdata, self.pg_log):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        out = self._as_postgres([self.pg_bin / "initdb", "-D", self.pgdata, "-U", "postgres", "--auth=trust",
                                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                                capture_output=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed: {out.stdout}{out.stderr}")
        self.start_postgres()
        self.psql("postgres", f"CREATE DATABASE {DATABASE}")

    def start_postgres(self) -> float:
        """Starts the cluster and waits until it accepts connections; returns the seconds it took."""
        t0 = time.monotonic()
        opts = (f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                "-c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        # The server inherits pg_ctl's output: a file, never a pipe we would wait on.
        out = self._as_postgres([self.pg_bin / "pg_ctl", "-D", self.pgdata, "-l", self.pg_log, "-o", opts, "-w", "-t", "60", "start"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90)
        if out.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start; see {self.pg_log}:\n{self._tail(self.pg_log)}")
        pid = self.postmaster_pid()
        if pid:
            self._postmasters.add(pid)
        return time.monotonic() - t0

    def stop_postgres(self, mode: str = "fast") -> float:
        t0 = time.monotonic()
        self._as_postgres([self.pg_bin / "pg_ctl", "-D", self.pgdata, "-m", mode, "-w", "-t", "60", "stop"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90)
        return time.monotonic() - t0

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0].strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid if "postgres" in cmdline else None

    def psql(self, database: str, query: str, *params: str) -> list[list[str]]:
        cmd = [str(self.pg_bin / "psql"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "-d", database,
               "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        for i, value in enumerate(params, 1):
            cmd += ["-v", f"p{i}={value}"]
        out = subprocess.run(cmd, input=query, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def sql(self, query: str, *params: str) -> list[list[str]]:
        return self.psql(DATABASE, query, *params)

    # -- movix-billing ----------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIX_")}
        env.update(
            DATABASE_URL=self.database_url,
            MOVIX_HTTP_HOST="127.0.0.1",
            MOVIX_HTTP_PORT=str(self.api_port),
            MOVIX_JWT_SECRET=JWT_SECRET,
            MOVIX_INTERNAL_TOKEN=INTERNAL_TOKEN,
            MOVIX_CLOUDPAYMENTS_API_URL=self.sandbox_base,
            MOVIX_CLOUDPAYMENTS_WIDGET_URL=f"{self.sandbox_base}/widget.js",
            MOVIX_CLOUDPAYMENTS_PUBLIC_ID=PUBLIC_ID,
            MOVIX_CLOUDPAYMENTS_API_SECRET=API_SECRET,
            MOVIX_SANDBOX_HOST="127.0.0.1",
            MOVIX_SANDBOX_PORT=str(self.sandbox_port),
            MOVIX_SANDBOX_NOTIFY_URL=f"{self.api_base}/webhooks/cloudpayments",
            MOVIX_LOG_LEVEL=os.environ.get("CHAOS_LOG_LEVEL", "notice"),
        )
        return env

    def run_cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.binary), *args], env=self.env(), cwd=self.workdir, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def migrate(self):
        out = self.run_cli("migrate")
        if out.returncode != 0:
            raise RuntimeError(f"migrate failed ({out.returncode}): {out.stdout}{out.stderr}")

    def _spawn(self, name: str, *args: str, settings: dict[str, str] | None = None) -> subprocess.Popen:
        logf = open(self.workdir / f"{name}.log", "ab")
        try:
            return subprocess.Popen([str(self.binary), *args], env={**self.env(), **(settings or {})}, cwd=self.workdir,
                                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            logf.close()

    def start_sandbox(self):
        self.sandbox = self._spawn("sandbox", "sandbox")
        self._wait_http(f"{self.sandbox_base}/sandbox/health", self.sandbox, 60, "sandbox")

    def start_api(self, timeout: float = 60) -> float:
        """Starts `serve`, waits for /health/ready 200; returns the seconds it took. When the port
        is still held (a crashed server's backtracer keeps its sockets for seconds), tries again,
        at most 20 times a second apart."""
        assert self.api is None or self.api.poll() is not None, "serve is already running"
        t0 = time.monotonic()
        for attempt in range(20):
            self.api = self._spawn("serve", "serve")
            self.api_starts += 1
            try:
                self._wait_http(f"{self.api_base}/health/ready", self.api, timeout, "serve")
                return time.monotonic() - t0
            except RuntimeError:
                if self.api.poll() is None or "Address already in use" not in self._tail(self.workdir / "serve.log", 5):
                    raise
                time.sleep(1)
        raise RuntimeError("serve could not bind its port 20 times in a row")

    def start_worker(self, name: str, **settings: str) -> subprocess.Popen:
        """`movix-billing worker` with the stack's settings plus `settings` (MOVIX_WORKER_BATCH_SIZE
        ...), logging to <name>.log; stopped by its PID at teardown if still running."""
        proc = self._spawn(name, "worker", settings=settings)
        self.workers.append(proc)
        return proc

    def kill_api(self) -> int:
        """SIGKILL to the serve process we started; returns its pid."""
        proc = self.api
        assert proc is not None and proc.poll() is None, "serve is not running"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return proc.pid

    def _wait_http(self, url: str, proc: subprocess.Popen, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited with {proc.returncode}:\n{self._tail(self.workdir / (what + '.log'))}")
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{self._tail(self.workdir / (what + '.log'))}")
            time.sleep(0.05)

    def set_faults(self, faults: dict) -> dict:
        r = requests.put(f"{self.sandbox_base}/sandbox/faults", json=faults, auth=(PUBLIC_ID, API_SECRET), timeout=10)
        r.raise_for_status()
        return requests.get(f"{self.sandbox_base}/sandbox/faults", auth=(PUBLIC_ID, API_SECRET), timeout=10).json()

    @staticmethod
    def _tail(path: Path, n: int = 40) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return f"(no {path})"

    # -- teardown ---------------------------------------------------------

    @staticmethod
    def _stop_proc(proc: subprocess.Popen | None):
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def save_logs(self, target: Path):
        """The servers' logs (a crash's message and backtrace included) outlive the directory."""
        target.mkdir(parents=True, exist_ok=True)
        names = ["serve.log", "sandbox.log", "postgres.log"] + sorted(p.name for p in self.workdir.glob("worker*.log"))
        for name in names:
            if (self.workdir / name).exists():
                shutil.copyfile(self.workdir / name, target / name)

    def stop_processes(self):
        for proc in self.workers:
            self._stop_proc(proc)
        self._stop_proc(self.api)
        self._stop_proc(self.sandbox)

    def close(self):
        """Everything we started, by PID; then the directory. Safe to call twice."""
        self.stop_processes()
        if self.pgdata.exists() and self.postmaster_pid():
            try:
                self.stop_postgres("fast")
            except Exception:
                pass
        for pid in list(self._postmasters):  # only the postmasters this run started
            if self.postmaster_pid() == pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.keep:
            log(f"kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
