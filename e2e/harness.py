"""Shared helpers for the Movix Billing end-to-end tests.

Everything here talks to real processes over HTTP: the `movix-billing dev`
process (API + sandbox acquirer + its own PostgreSQL) started once per pytest
session by the `movix` fixture in conftest.py.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import os
import random
import re
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MOVIX_E2E_DATA_DIR", ROOT / ".data" / "e2e")).resolve()
MAIL_DIR = DATA_DIR / "mail"
SCREENSHOT_DIR = DATA_DIR / "screenshots"
LOG_FILE = DATA_DIR / "dev.log"
BINARY = Path(os.environ.get("MOVIX_BILLING_BIN", ROOT / ".build" / "debug" / "movix-billing"))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, below Linux's ephemeral range (32768-60999).

    The port is bound later by another process (dev, PostgreSQL). A port from the ephemeral range
    could meanwhile become the local port of one of the many client connections the tests open,
    and the server would fail to bind: the Swift tests hung on exactly that (docs/testing.md,
    "The hang"). Client sockets never get ports below the range."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port below the ephemeral range")


def _choose_ports(*names: str) -> list[int]:
    """For each variable: its value when set (a fixed port on purpose), else a free port that is
    not one of the others."""
    chosen: list[int] = []
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            chosen.append(int(value))
            continue
        for _ in range(20):
            port = free_port()
            if port not in chosen:
                chosen.append(port)
                break
        else:
            raise RuntimeError(f"no free TCP port found for {name}")
    return chosen


# Chosen once per pytest session (this module is imported once), so a `dev` on the default ports,
# another e2e run or anything else holding a port cannot make the session fail.
HTTP_PORT, SANDBOX_PORT, POSTGRES_PORT, SMTP_PORT = _choose_ports(
    "MOVIX_E2E_HTTP_PORT", "MOVIX_E2E_SANDBOX_PORT", "MOVIX_E2E_POSTGRES_PORT", "MOVIX_E2E_SMTP_PORT")
READY_TIMEOUT = float(os.environ.get("MOVIX_E2E_READY_TIMEOUT", "120"))
# The database `dev` creates in its cluster (superuser postgres, trust auth on 127.0.0.1).
DATABASE = os.environ.get("MOVIX_E2E_DATABASE", "movix_billing")

# Deliberately not the dev defaults: proves the overrides are honoured and that
# the API, the sandbox and `token` all read the same configuration.
JWT_SECRET = "movix-e2e-jwt-secret-at-least-32-bytes"
INTERNAL_TOKEN = "movix-e2e-internal-token"
PUBLIC_ID = "pk_sandbox_movix_e2e"
API_SECRET = "sandbox-api-secret-e2e"

HTTP_TIMEOUT = 10

CARD_3DS_OK = "4242424242424242"
CARD_DECLINE_5051 = "4000056655665556"

PLAN_PRICES = {"premium_1m": 29900, "premium_3m": 79900, "premium_6m": 149000, "premium_12m": 269000}
PLAN_MONTHS = {"premium_1m": 1, "premium_3m": 3, "premium_6m": 6, "premium_12m": 12}


# --------------------------------------------------------------------------- process


def dev_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    # dev's own mail sink, whose messages the email tests read (MAIL_DIR).
    env.pop("MOVIX_SMTP_URL", None)
    env.update(
        MOVIX_DATA_DIR=str(DATA_DIR),
        MOVIX_HTTP_PORT=str(HTTP_PORT),
        MOVIX_SANDBOX_PORT=str(SANDBOX_PORT),
        MOVIX_DEV_POSTGRES_PORT=str(POSTGRES_PORT),
        MOVIX_DEV_SMTP_PORT=str(SMTP_PORT),
        MOVIX_JWT_SECRET=JWT_SECRET,
        MOVIX_INTERNAL_TOKEN=INTERNAL_TOKEN,
        MOVIX_CLOUDPAYMENTS_PUBLIC_ID=PUBLIC_ID,
        MOVIX_CLOUDPAYMENTS_API_SECRET=API_SECRET,
    )
    return env


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def log_tail(lines: int = 80) -> str:
    try:
        text = LOG_FILE.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log file)"
    return "\n".join(text.splitlines()[-lines:])


def cluster_dirs(data_dir: Path = DATA_DIR) -> list[Path]:
    """Where `dev` may keep its PostgreSQL cluster: $MOVIX_DATA_DIR/postgres, or (as root, when
    the postgres user cannot reach that folder) /var/tmp/movix-billing/<the path with _ for />."""
    requested = (data_dir / "postgres").resolve()
    dirs = [requested]
    if os.getuid() == 0 and any(not (p.stat().st_mode & 0o001) for p in requested.parents if p.exists() and p != Path("/")):
        dirs.append(Path("/var/tmp/movix-billing") / "_".join(requested.parts[1:]))
    return dirs


def cluster_dir_from_log() -> Path | None:
    try:
        m = re.search(r"Starting PostgreSQL in (\S+) on port", LOG_FILE.read_text(errors="replace"))
    except FileNotFoundError:
        return None
    return Path(m.group(1)) if m else None


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid in PGDATA/postmaster.pid if that process is alive and is a postgres."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0].strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None
    return pid if "postgres" in cmdline else None


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.25, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, AssertionError, KeyError) as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def mint_token(user_id: str, email: str | None = None) -> str:
    """A user JWT from `movix-billing token`, signed with the e2e secret."""
    cmd = [str(BINARY), "token", "--user", user_id]
    if email:
        cmd += ["--email", email]
    out = subprocess.run(cmd, env=dev_env(), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"`{' '.join(cmd)}` failed ({out.returncode}): {out.stderr.strip()}"
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    assert lines and lines[-1].count(".") == 2, f"`movix-billing token` did not print a JWT: {out.stdout!r}"
    return lines[-1]


def sql(query: str, *params: str) -> list[list[str]]:
    """Rows of a read-only query on the dev database, via psql (values as text).

    Parameters are passed as psql variables and quoted by psql (:'p1', :'p2', ...)."""
    cmd = ["psql", "-h", "127.0.0.1", "-p", str(POSTGRES_PORT), "-U", "postgres", "-d", DATABASE,
           "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for i, value in enumerate(params, 1):
        cmd += ["-v", f"p{i}={value}"]
    out = subprocess.run(cmd, input=query, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"psql failed: {out.stderr.strip()}"
    return [line.split("\t") for line in out.stdout.splitlines() if line]


# --------------------------------------------------------------------------- time


def parse_time(value: str) -> datetime:
    """ISO 8601 -> aware datetime (accepts Z and any number of fraction digits)."""
    assert isinstance(value, str) and value, f"expected an ISO 8601 timestamp, got {value!r}"
    s = value.strip().replace(" ", "T")
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    s = re.sub(r"\.(\d{1,6})\d*", lambda m: "." + m.group(1).ljust(6, "0"), s)
    dt = datetime.fromisoformat(s)
    assert dt.tzinfo is not None, f"timestamp without a time zone: {value!r}"
    return dt.astimezone(timezone.utc)


def add_months(dt: datetime, months: int) -> datetime:
    month0 = dt.month - 1 + months
    year, month = dt.year + month0 // 12, month0 % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def assert_close(a: datetime, b: datetime, tolerance: float = 1.0, what: str = "times"):
    assert abs((a - b).total_seconds()) <= tolerance, f"{what} differ: {a.isoformat()} vs {b.isoformat()}"


# --------------------------------------------------------------------------- API


@dataclass
class User:
    id: str
    email: str
    token: str
    api: "Api"


@dataclass
class Api:
    base: str
    token: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def _headers(self, extra: dict | None = None) -> dict:
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(self.base + path, headers=self._headers(kw.pop("headers", None)), timeout=HTTP_TIMEOUT, **kw)

    def post(self, path: str, json_body: Any = None, **kw) -> requests.Response:
        return self.session.post(self.base + path, json=json_body, headers=self._headers(kw.pop("headers", None)), timeout=HTTP_TIMEOUT, **kw)

    # typed helpers ------------------------------------------------------
    def plans(self) -> dict[str, dict]:
        r = self.get("/v1/plans")
        assert r.status_code == 200, describe(r)
        return {p["code"]: p for p in r.json()["plans"]}

    def checkout(self, plan: str, email: str | None = None, key: str | None = None, expect: int | tuple = 201) -> dict:
        body: dict[str, Any] = {"plan_id": plan}
        if email:
            body["email"] = email
        r = self.post("/v1/checkout", body, headers={"Idempotency-Key": key} if key else None)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert r.status_code in expected, f"checkout expected {expect}: " + describe(r)
        return r.json()

    def invoice(self, invoice_id: str) -> dict:
        r = self.get(f"/v1/invoices/{invoice_id}")
        assert r.status_code == 200, describe(r)
        return r.json()

    def invoices(self) -> list[dict]:
        r = self.get("/v1/invoices")
        assert r.status_code == 200, describe(r)
        return r.json()["invoices"]

    def subscription(self) -> dict | None:
        r = self.get("/v1/subscription")
        assert r.status_code == 200, describe(r)
        return r.json()["subscription"]

    def wait_invoice_status(self, invoice_id: str, status: str, timeout: float = 15) -> dict:
        seen: list[str] = []

        def check():
            inv = self.invoice(invoice_id)
            if not seen or seen[-1] != inv["status"]:
                seen.append(inv["status"])
            return inv if inv["status"] == status else None

        try:
            return wait_until(check, timeout, what=f"invoice {invoice_id} to become {status!r}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; statuses seen: {seen}") from None


def describe(r: requests.Response) -> str:
    return f"{r.request.method} {r.url} -> {r.status_code} {r.headers.get('Content-Type')}: {r.text[:600]}"


def assert_problem(r: requests.Response, status: int):
    assert r.status_code == status, describe(r)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.startswith("application/problem+json"), f"expected application/problem+json, got {ctype!r}: {r.text[:300]}"
    body = r.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, f"problem document lacks {key!r}: {body}"
    assert body["status"] == status, body


# --------------------------------------------------------------------------- sandbox acquirer


def cryptogram(number: str, exp: str = "12/30", cvv: str = "123", name: str = "TEST") -> str:
    payload = json.dumps({"Number": number, "ExpDate": exp, "Cvv": cvv, "Name": name}, separators=(",", ":"))
    return "sbx1." + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@dataclass
class Sandbox:
    base: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, body: dict) -> dict:
        r = self.session.post(self.base + method, json=body, auth=(PUBLIC_ID, API_SECRET), timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, describe(r)
        env = r.json()
        assert "Success" in env, f"not a CloudPayments envelope: {env}"
        return env

    def charge_from_widget(self, widget: dict, card: str, holder: str = "TEST") -> dict:
        """What the CloudPayments widget does with the options our checkout returned.

        `holder`, the cardholder name, sets how a card outside the sandbox's test-card table
        behaves: "TOKEN DECLINE 5051" is approved here and declined with 5051 on every charge by
        its token (a renewal); listed cards ignore it (docs/sandbox.md)."""
        return self.call(
            "/payments/cards/charge",
            {
                "Amount": widget["amount"],
                "Currency": widget["currency"],
                "InvoiceId": widget["invoiceId"],
                "AccountId": widget["accountId"],
                "Description": widget.get("description") or "Movix subscription",
                "Email": widget.get("email"),
                "IpAddress": "127.0.0.1",
                "Name": holder,
                "CardCryptogramPacket": cryptogram(card, name=holder),
                "SaveCard": bool(widget.get("saveCard")),
            },
        )

    def confirm_3ds(self, challenge: dict, decision: str = "confirm") -> dict:
        acs_url = urljoin(self.base + "/", challenge["AcsUrl"])
        r = self.session.post(
            acs_url,
            data={"decision": decision, "PaReq": challenge.get("PaReq", ""), "MD": str(challenge["TransactionId"])},
            headers={"Accept": "application/json"},
            timeout=HTTP_TIMEOUT,
        )
        assert r.status_code == 200, describe(r)
        pares = r.json().get("PaRes")
        assert pares, f"ACS did not return PaRes: {r.text[:300]}"
        return self.call("/payments/cards/post3ds", {"TransactionId": challenge["TransactionId"], "PaRes": pares})

    def faults(self) -> dict:
        r = self.session.get(self.base + "/sandbox/faults", auth=(PUBLIC_ID, API_SECRET), timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, describe(r)
        return r.json()

    def set_faults(self, faults: dict) -> dict:
        r = self.session.put(self.base + "/sandbox/faults", json=faults, auth=(PUBLIC_ID, API_SECRET), timeout=HTTP_TIMEOUT)
        assert r.status_code in (200, 204), describe(r)
        return self.faults()


NO_FAULTS = {"notificationDelayMs": 0, "duplicateNotifications": 0, "dropNotifications": 0, "apiErrorRate": 0, "apiLatencyMs": 0}


# --------------------------------------------------------------------------- webhooks


def sign(body: bytes, secret: str = API_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def account_id(user_id: str) -> str:
    """The AccountId acquirers see for a viewer (Acquiring/AcquirerAccount.swift): not the user id."""
    return "acc_" + hashlib.sha256(f"movix-account/{user_id.lower()}".encode()).hexdigest()[:32]


def new_user_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


ONE_SECOND = timedelta(seconds=1)
