"""Session fixtures: one `movix-billing dev` process (API + sandbox acquirer +
PostgreSQL) on e2e-only ports and data dir, started once and stopped with SIGINT."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

import harness as h


@dataclass
class Movix:
    api_base: str
    sandbox_base: str
    proc: subprocess.Popen
    demo_user: str | None
    demo_token: str | None


def _stop_stale_postmaster(pgdata):
    """A PostgreSQL left running on the e2e data dir by a killed earlier e2e session."""
    pid = h.postmaster_pid(pgdata)
    if pid is None:
        return
    print(f"[e2e] stopping stale PostgreSQL (pid {pid}) left on {pgdata}")
    os.kill(pid, signal.SIGINT)  # fast shutdown
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and h.postmaster_pid(pgdata) == pid:
        time.sleep(0.2)
    if h.postmaster_pid(pgdata) == pid:
        os.kill(pid, signal.SIGKILL)


def _wait_ready(proc: subprocess.Popen, api_base: str, sandbox_base: str):
    deadline = time.monotonic() + h.READY_TIMEOUT
    pending = {f"{api_base}/health/ready", f"{sandbox_base}/sandbox/health"}
    while pending:
        if proc.poll() is not None:
            raise RuntimeError(f"`movix-billing dev` exited with code {proc.returncode} before becoming ready")
        for url in sorted(pending):
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    pending.discard(url)
            except requests.RequestException:
                pass
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(f"not ready after {h.READY_TIMEOUT:.0f}s: {sorted(pending)}")
        time.sleep(0.3)


@pytest.fixture(scope="session")
def movix():
    if not h.BINARY.exists():
        pytest.fail(f"{h.BINARY} not found: run `swift build` first (or set MOVIX_BILLING_BIN)", pytrace=False)
    # Free ports are chosen in harness.py; only ports fixed with MOVIX_E2E_*_PORT can be busy here.
    busy = [p for p in (h.HTTP_PORT, h.SANDBOX_PORT, h.POSTGRES_PORT) if h.port_in_use(p)]
    if busy:
        pytest.fail(f"ports {busy} are already in use (set by MOVIX_E2E_*_PORT? unset them to get free ports)", pytrace=False)

    h.DATA_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(h.SCREENSHOT_DIR, ignore_errors=True)
    for pgdata in h.cluster_dirs():
        _stop_stale_postmaster(pgdata)
        if os.environ.get("MOVIX_E2E_KEEP_DATA") != "1" and pgdata.exists():
            # A fresh cluster each session: deterministic (the demo user is fixed), initdb takes seconds.
            shutil.rmtree(pgdata)

    api_base = f"http://127.0.0.1:{h.HTTP_PORT}"
    sandbox_base = f"http://127.0.0.1:{h.SANDBOX_PORT}"
    log = open(h.LOG_FILE, "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(h.BINARY), "dev"],
        cwd=h.ROOT,
        env=h.dev_env(),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # we alone decide when it gets SIGINT
    )
    try:
        _wait_ready(proc, api_base, sandbox_base)
    except BaseException as exc:
        _stop(proc)
        log.close()
        _remove_clusters()
        pytest.fail(f"{exc}\n--- tail of {h.LOG_FILE} ---\n{h.log_tail()}", pytrace=False)
    print(f"\n[e2e] movix-billing dev ready in {time.monotonic() - started:.1f}s (log: {h.LOG_FILE})")

    # The demo credentials are printed after start-up; give them a moment to be flushed.
    demo_user = demo_token = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = h.LOG_FILE.read_text(errors="replace")
        mu = re.search(r"Demo user:\s*([0-9a-fA-F-]{36})", text)
        mt = re.search(r"Demo token:\s*(\S+)", text)
        if mu and mt:
            demo_user, demo_token = mu.group(1), mt.group(1)
            break
        time.sleep(0.2)

    yield Movix(api_base, sandbox_base, proc, demo_user, demo_token)

    problems = _stop(proc)
    log.close()
    _remove_clusters()
    if problems:
        pytest.fail("`movix-billing dev` did not shut down cleanly on SIGINT: " + "; ".join(problems)
                    + f"\n--- tail of {h.LOG_FILE} ---\n{h.log_tail(30)}", pytrace=False)


def _remove_clusters():
    """The session's PostgreSQL data goes with it (MOVIX_E2E_KEEP_DATA=1 keeps it); the log and
    the screenshots in the data dir stay for whoever reads the failure."""
    if os.environ.get("MOVIX_E2E_KEEP_DATA") == "1":
        return
    for pgdata in {*h.cluster_dirs(), *filter(None, [h.cluster_dir_from_log()])}:
        if h.postmaster_pid(pgdata) is None:  # never pull the data from under a running server
            shutil.rmtree(pgdata, ignore_errors=True)
            if h.DATA_DIR not in pgdata.parents:  # the server log under /var/tmp goes too
                Path(str(pgdata) + ".log").unlink(missing_ok=True)


def _stop(proc: subprocess.Popen) -> list[str]:
    """SIGINT, then SIGKILL after a timeout; returns what went wrong (for the report)."""
    problems = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            problems.append("still running 30 s after SIGINT (killed)")
            proc.kill()
            proc.wait(timeout=10)
    pgdata = h.cluster_dir_from_log() or h.DATA_DIR / "postgres"
    deadline = time.monotonic() + 10
    while h.postmaster_pid(pgdata) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = h.postmaster_pid(pgdata)
    if pid is not None:
        problems.append(f"PostgreSQL (pid {pid}) was left running")
        _stop_stale_postmaster(pgdata)
    return problems


@pytest.fixture(scope="session")
def anon(movix) -> h.Api:
    return h.Api(movix.api_base)


@pytest.fixture(scope="session")
def plans(movix) -> dict:
    # The public API (plans included) takes a user's bearer token.
    return h.Api(movix.api_base, h.mint_token(h.new_user_id())).plans()


@pytest.fixture
def new_user(movix):
    """Factory: a fresh Movix user (uuid4) with a JWT minted by `movix-billing token`."""

    def make(email: str | None = None) -> h.User:
        uid = h.new_user_id()
        email = email or f"e2e-{uid[:8]}@example.test"
        token = h.mint_token(uid, email)
        return h.User(uid, email, token, h.Api(movix.api_base, token))

    return make


@pytest.fixture(scope="session")
def internal(movix) -> h.Api:
    return h.Api(movix.api_base, h.INTERNAL_TOKEN)


@pytest.fixture(scope="session")
def sandbox(movix) -> h.Sandbox:
    return h.Sandbox(movix.sandbox_base)


@pytest.fixture
def duplicate_notifications(sandbox):
    """The sandbox sends every notification twice; restores the previous faults afterwards."""
    before = sandbox.faults()
    faults = dict(h.NO_FAULTS, duplicateNotifications=1)
    now = sandbox.set_faults(faults)
    assert now.get("duplicateNotifications") == 1, f"fault switch not applied: {now}"
    try:
        yield now
    finally:
        restore = {k: before.get(k, v) for k, v in h.NO_FAULTS.items()}
        sandbox.set_faults(restore)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# --------------------------------------------------------------------------- the service clock
# `dev` runs with MOVIX_CLOCK=offset: `POST /internal/v1/clock/advance` moves the clock of the one
# session-wide process forward, for the rest of the session. A test that does so is marked
# `advances_clock` and runs after every other test (the sort is stable, so the others keep their
# order), whatever the files' order or the command line: no test sees a clock it did not expect.


def pytest_configure(config):
    config.addinivalue_line("markers", "advances_clock: moves the shared `dev` process's clock forward; runs after every other test")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("advances_clock") is not None)
