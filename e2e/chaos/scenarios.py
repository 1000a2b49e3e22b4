"""The chaos scenarios: load, a fault, recovery, then the books.

Each scenario returns a dict of figures (printed and written to docs/reliability.md by run.py)
with a list `violations`: an empty list means the scenario passed. Every loop is bounded in count
and time.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import random
import signal
import statistics
import subprocess
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urljoin

import requests

from stack import (API_SECRET, INTERNAL_TOKEN, PUBLIC_ID, Stack, content_hmac, cryptogram, log, mint_jwt,
                   pay_notification, session)

HTTP_TIMEOUT = float(os.environ.get("CHAOS_HTTP_TIMEOUT", "15"))
_tx_lock = threading.Lock()
_tx_next = [9_000_000_000_000 + random.randrange(10**9) * 1000]


def next_transaction_id() -> int:
    """Synthetic acquirer transaction ids, far from the sandbox's (start-up time in ms)."""
    with _tx_lock:
        _tx_next[0] += 1
        return _tx_next[0]


# --------------------------------------------------------------------------- helpers


def classify(exc: Exception) -> str:
    text = repr(exc)
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return "timeout"
    if "refused" in text:
        return "conn_refused"
    if "RemoteDisconnected" in text or "reset" in text or "aborted" in text or "BrokenPipe" in text:
        return "conn_dropped"
    return "conn_error"


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000, 1)


def latency_figures(values: list[float]) -> dict:
    return {"p50_ms": pct(values, 50), "p95_ms": pct(values, 95), "max_ms": pct(values, 100), "n": len(values)}


class Log:
    """Every request a scenario made: (time, what, outcome, seconds, extra)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[float, str, str, float, dict]] = []

    def add(self, what: str, outcome: str, seconds: float, **extra):
        with self.lock:
            self.rows.append((time.monotonic(), what, outcome, seconds, extra))

    def select(self, what: str, t0: float = float("-inf"), t1: float = float("inf")):
        with self.lock:
            return [r for r in self.rows if r[1] == what and t0 <= r[0] - r[3] < t1]  # by send time


def post_pay(base: str, body: bytes, rlog: Log | None = None, what: str = "pay") -> bool:
    """One delivery of a signed Pay notification; True when answered 200 {"code":0}."""
    t = time.monotonic()
    try:
        r = session().post(f"{base}/webhooks/cloudpayments/pay", data=body, timeout=HTTP_TIMEOUT,
                           headers={"Content-HMAC": content_hmac(body), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        dt = time.monotonic() - t
        ok = r.status_code == 200 and r.headers.get("Content-Type", "").startswith("application/json") and r.json().get("code") == 0
        outcome = str(r.status_code) if ok or r.status_code != 200 else "200-not-code-0"
        if rlog:
            rlog.add(what, outcome, dt, retry_after=r.headers.get("Retry-After"))
        return ok
    except requests.RequestException as exc:
        if rlog:
            rlog.add(what, classify(exc), time.monotonic() - t)
        return False


def create_invoices(st: Stack, n: int, workers: int = 8) -> list[dict]:
    """n viewers, one `premium_1m` checkout each (retried a few times on a failure)."""

    def one(_):
        uid = str(uuid.uuid4())
        token = mint_jwt(uid)
        for attempt in range(5):
            try:
                r = session().post(f"{st.api_base}/v1/checkout", json={"plan_id": "premium_1m"}, timeout=HTTP_TIMEOUT,
                                   headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"chaos-{uid}"})
                if r.status_code in (200, 201):
                    co = r.json()
                    return {"invoice_id": co["invoice_id"], "user_id": uid, "token": token,
                            "amount": co["amount"]["amount"], "widget": co["widget"]}
            except requests.RequestException:
                pass
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"checkout failed 5 times for {uid}")

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        invoices = list(pool.map(one, range(n)))
    log(f"{n} checkouts in {time.monotonic() - t0:.1f} s")
    return invoices


def redeliver(base: str, pending: list[bytes], rlog: Log, rounds: int = 10, workers: int = 8) -> dict:
    """What CloudPayments does: send again every notification that did not get 200 {"code":0}."""
    sent, used = 0, 0
    for rnd in range(rounds):
        if not pending:
            break
        used = rnd + 1
        with cf.ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda b: post_pay(base, b, rlog, "redelivery"), pending))
        sent += len(pending)
        pending = [b for b, ok in zip(pending, results) if not ok]
        if pending:
            time.sleep(1)
    return {"redelivered": sent, "rounds": used, "still_undelivered": len(pending)}


def outcome_counts(rows) -> dict:
    return dict(sorted(Counter(r[2] for r in rows).items()))


# --------------------------------------------------------------------------- invariants


def books(st: Stack, invoices: list[dict], *, double_charges_allowed: bool = False) -> dict:
    """Per invoice: paid, one `paid` transition, one invoice.paid and one subscription.activated
    event, one activation; a second successful attempt only with a full refund; then `audit`."""
    ids = "{" + ",".join(i["invoice_id"] for i in invoices) + "}"
    rows = st.sql("""
        SELECT i.id, i.status,
          (SELECT count(*) FROM state_transitions t WHERE t.entity = 'invoice' AND t.entity_id = i.id AND t.to_state = 'paid'),
          (SELECT count(*) FROM outbox_events o WHERE o.type = 'invoice.paid' AND o.payload->'invoice'->>'id' = i.id::text),
          (SELECT count(*) FROM outbox_events o WHERE o.type = 'subscription.activated' AND o.aggregate_id = i.subscription_id),
          (SELECT count(*) FROM state_transitions t WHERE t.entity = 'subscription' AND t.entity_id = i.subscription_id AND t.to_state = 'active'),
          (SELECT count(*) FROM payment_attempts a WHERE a.invoice_id = i.id AND a.status = 'succeeded'),
          (SELECT count(*) FROM refunds r WHERE r.invoice_id = i.id),
          (SELECT count(*) FROM refunds r WHERE r.invoice_id = i.id AND r.status = 'refunded'),
          (SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.invoice_id = i.id AND r.status = 'refunded'),
          i.amount
        FROM invoices i WHERE i.id = ANY(:'p1'::uuid[])""", ids)
    violations: list[str] = []
    statuses: Counter = Counter()
    double = 0
    for (iid, status, paid_tr, paid_ev, act_ev, act_tr, ok_attempts, refunds, refunded, refunded_amount, amount) in rows:
        statuses[status] += 1
        paid_tr, paid_ev, act_ev, act_tr, ok_attempts, refunds, refunded = map(int, (paid_tr, paid_ev, act_ev, act_tr, ok_attempts, refunds, refunded))
        problems = []
        if status != "paid":
            problems.append(f"status {status}")
        if paid_tr != 1:
            problems.append(f"{paid_tr} 'paid' transitions")
        if paid_ev != 1:
            problems.append(f"{paid_ev} invoice.paid events")
        if act_ev != 1 or act_tr != 1:
            problems.append(f"{act_ev} subscription.activated events, {act_tr} activations")
        if ok_attempts > 1:
            double += 1
            if not double_charges_allowed:
                problems.append(f"{ok_attempts} succeeded attempts")
            if refunded != ok_attempts - 1 or int(refunded_amount) != (ok_attempts - 1) * int(amount):
                problems.append(f"{ok_attempts} succeeded attempts but {refunded} refunded ({refunded_amount} of {int(amount) * (ok_attempts - 1)})")
        elif ok_attempts == 0 and status == "paid":
            problems.append("paid without a succeeded attempt")
        if refunds != refunded:
            problems.append(f"{refunds - refunded} refund(s) not refunded")
        if problems:
            violations.append(f"invoice {iid}: " + ", ".join(problems))
    if len(rows) != len(invoices):
        violations.append(f"{len(invoices) - len(rows)} invoices missing")
    audit = st.run_cli("audit", timeout=120)
    audit_text = (audit.stdout + audit.stderr).strip()
    if audit.returncode != 0:
        violations.append(f"audit exit {audit.returncode}: " + " | ".join(audit_text.splitlines()[-10:]))
    return {
        "invoices": len(invoices), "statuses": dict(statuses), "double_charged_invoices": double,
        "audit": "no breach" if audit.returncode == 0 else f"exit {audit.returncode}",
        "audit_output": audit_text.splitlines()[-1] if audit_text else "",
        "invariant_violations": len(violations), "violations": violations[:20],
    }


def pay_queue(st: Stack, n: int, dup_rate: float) -> tuple[list, list[bytes]]:
    """n new invoices and one signed Pay for each, plus dup_rate exact duplicates, shuffled."""
    invoices = create_invoices(st, n)
    bodies = [pay_notification(inv, next_transaction_id()) for inv in invoices]
    queue = bodies + random.sample(bodies, k=round(n * dup_rate))
    random.shuffle(queue)
    return invoices, queue


# --------------------------------------------------------------------------- 1: kill -9 under load


def scenario_kill9(st: Stack, n: int = 800, dup_rate: float = 0.1, senders: int = 16, kills: int = 3,
                   restart_delay: float = 0.5) -> dict:
    log(f"scenario 1: kill -9 of serve x{kills} under {n} Pay notifications (+{dup_rate:.0%} duplicates), {senders} senders")
    invoices, queue = pay_queue(st, n, dup_rate)
    total = len(queue)
    rlog = Log()
    failed: list[bytes] = []
    lock = threading.Lock()
    cursor = [0]
    answered = [0]

    def sender():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                if cursor[0] >= total:
                    return
                body = queue[cursor[0]]
                cursor[0] += 1
            ok = post_pay(st.api_base, body, rlog)
            with lock:
                answered[0] += 1
                if not ok:
                    failed.append(body)
            if not ok:
                time.sleep(0.25)  # a refused connection comes back at once: do not spin through the queue

    kills_done: list[dict] = []
    t_start = time.monotonic()
    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for k in range(kills):
        threshold = total * (k + 1) / (kills + 1)
        deadline = time.monotonic() + 60
        while answered[0] < threshold and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        if not any(t.is_alive() for t in threads):
            log("the load ended before every kill; fewer kills than asked")
            break
        t_kill = time.monotonic()
        pid = st.kill_api()
        time.sleep(restart_delay)  # a supervisor's restart delay
        st.start_api()
        down = time.monotonic() - t_kill
        kills_done.append({"pid": pid, "at_answered": answered[0], "down_s": round(down, 2)})
        log(f"  kill -9 {pid} after {answered[0]}/{total} answers; back in {down:.2f} s")
    for t in threads:
        t.join(timeout=150)
    load_s = time.monotonic() - t_start
    first = outcome_counts(rlog.select("pay"))
    log(f"  first deliveries: {first}; {len(failed)} to redeliver")
    red = redeliver(st.api_base, failed, rlog)
    result = {
        "notifications": total, "unique": n, "duplicates": total - n, "senders": senders,
        "load_seconds": round(load_s, 1), "kills": kills_done, "restart_delay_s": restart_delay,
        "first_delivery": first, "first_delivery_latency": latency_figures([r[3] for r in rlog.select("pay") if r[2] == "200"]),
        "redelivery": red, "redelivery_outcomes": outcome_counts(rlog.select("redelivery")),
    }
    result.update(books(st, invoices))
    result["violations"] = result["violations"] + ([f"{red['still_undelivered']} notifications never answered 200"] if red["still_undelivered"] else [])
    return result


# --------------------------------------------------------------------------- 2: PostgreSQL outage under load


def scenario_postgres_outage(st: Stack, n: int = 400, dup_rate: float = 0.1, senders: int = 32, rate: float = 40,
                             before: float = 2.5, outage: float = 6.0, stop_mode: str = "fast",
                             strict_fail_fast: bool = False) -> dict:
    log(f"scenario 2: PostgreSQL stopped ({stop_mode}) for {outage:.0f} s under {n} Pay notifications at ~{rate:.0f}/s")
    invoices, queue = pay_queue(st, n, dup_rate)
    total = len(queue)
    rlog = Log()
    failed: list[bytes] = []
    lock = threading.Lock()
    cursor = [0]
    stop_probes = threading.Event()
    t_start = time.monotonic()
    reader = invoices[0]

    def sender(i: int):
        deadline = t_start + 120
        while time.monotonic() < deadline:
            with lock:
                if cursor[0] >= total:
                    return
                idx = cursor[0]
                body = queue[idx]
                cursor[0] += 1
            wait = t_start + idx / rate - time.monotonic()  # paced: the load spans the outage
            if wait > 0:
                time.sleep(wait)
            if not post_pay(st.api_base, body, rlog):
                with lock:
                    failed.append(body)

    probe_pool = cf.ThreadPoolExecutor(max_workers=48)

    def probe_once(what: str, url: str, headers: dict):
        t = time.monotonic()
        try:
            r = session().get(url, headers=headers, timeout=HTTP_TIMEOUT)
            rlog.add(what, str(r.status_code), time.monotonic() - t, retry_after=r.headers.get("Retry-After"))
        except requests.RequestException as exc:
            rlog.add(what, classify(exc), time.monotonic() - t)

    def probe(what: str, url: str, headers: dict, every: float):
        """A probe every `every` seconds, each on its own: one that hangs does not hold back the next."""
        for _ in range(int(180 / every)):
            if stop_probes.wait(every):
                return
            probe_pool.submit(probe_once, what, url, headers)

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(senders)]
    probes = [
        threading.Thread(target=probe, args=("ready", f"{st.api_base}/health/ready", {}, 0.1), daemon=True),
        threading.Thread(target=probe, args=("read", f"{st.api_base}/v1/invoices/{reader['invoice_id']}",
                                             {"Authorization": f"Bearer {reader['token']}"}, 0.2), daemon=True),
    ]
    for t in threads + probes:
        t.start()
    time.sleep(before)
    t_stop = time.monotonic()
    stop_took = st.stop_postgres(stop_mode)
    t_down = time.monotonic()
    log(f"  PostgreSQL stopped in {stop_took:.2f} s; down for {outage:.0f} s")
    time.sleep(outage)
    t_restart = time.monotonic()
    start_took = st.start_postgres()
    t_up = time.monotonic()
    log(f"  PostgreSQL started again in {start_took:.2f} s")
    # Recovery: the first 200 of /health/ready and of a Pay sent after PostgreSQL is back.
    deadline = t_up + 60
    recovered_ready = recovered_pay = None
    while time.monotonic() < deadline and (recovered_ready is None or recovered_pay is None):
        ready_ok = [r for r in rlog.select("ready", t_up) if r[2] == "200"]
        pay_ok = [r for r in rlog.select("pay", t_up) if r[2] == "200"]
        if ready_ok and recovered_ready is None:
            recovered_ready = min(r[0] for r in ready_ok) - t_up
        if pay_ok and recovered_pay is None:
            recovered_pay = min(r[0] for r in pay_ok) - t_up
        if recovered_pay is None and not any(t.is_alive() for t in threads):
            break  # the load is over; the redelivery below proves the rest
        time.sleep(0.1)
    for t in threads:
        t.join(timeout=150)
    time.sleep(0.5)
    stop_probes.set()
    for t in probes:
        t.join(timeout=5)
    probe_pool.shutdown(wait=True)
    load_s = time.monotonic() - t_start

    def phase(what: str, t0: float, t1: float) -> dict:
        rows = rlog.select(what, t0, t1)
        by = outcome_counts(rows)
        ra = sum(1 for r in rows if r[4].get("retry_after"))
        failures = [r for r in rows if r[2] != "200"]
        return {"requests": len(rows), "outcomes": by, "latency": latency_figures([r[3] for r in rows]),
                "failure_latency": latency_figures([r[3] for r in failures]), "with_retry_after": ra}

    # "During the outage": sent while PostgreSQL was stopping or down.
    during = {w: phase(w, t_stop, t_up) for w in ("pay", "ready", "read")}
    # How fast readiness noticed: first non-200 answer of /health/ready sent after the stop.
    ready_down = [r for r in rlog.select("ready", t_stop) if r[2] != "200"]
    first_ready_fail = round(min(r[0] - r[3] for r in ready_down) - t_stop, 2) if ready_down else None
    red = redeliver(st.api_base, failed, rlog)
    result = {
        "notifications": total, "unique": n, "duplicates": total - n, "senders": senders, "rate_per_s": rate,
        "load_seconds": round(load_s, 1), "stop_mode": stop_mode,
        "postgres_stop_s": round(stop_took, 2), "outage_s": round(t_restart - t_down, 1), "postgres_start_s": round(start_took, 2),
        "before": {w: phase(w, t_start, t_stop) for w in ("pay", "ready")},
        "during": during,
        "after": {w: phase(w, t_up, t_up + 3600) for w in ("pay", "ready", "read")},
        "ready_first_non_200_after_stop_s": first_ready_fail,
        "recovery_ready_s": round(recovered_ready, 2) if recovered_ready is not None else None,
        "recovery_pay_s": round(recovered_pay, 2) if recovered_pay is not None else None,
        "serve_restarted": st.api.poll() is not None,
        "redelivery": red, "redelivery_outcomes": outcome_counts(rlog.select("redelivery")),
    }
    result.update(books(st, invoices))
    extra = []
    if red["still_undelivered"]:
        extra.append(f"{red['still_undelivered']} notifications never answered 200")
    if st.api.poll() is not None:
        extra.append(f"serve exited ({st.api.returncode}) during the outage")
    if recovered_ready is None:
        extra.append("/health/ready never answered 200 after PostgreSQL came back")
    # Fail fast (being implemented): 503 + Retry-After within ~1 s while the database is away.
    ff = fail_fast_report(during)
    result["fail_fast"] = ff
    if strict_fail_fast and ff["problems"]:
        extra += ["fail fast: " + p for p in ff["problems"]]
    result["violations"] = result["violations"] + extra
    return result


def fail_fast_report(during: dict) -> dict:
    problems = []
    pay, ready = during["pay"], during["ready"]
    pay_fail = {k: v for k, v in pay["outcomes"].items() if k != "200"}
    if any(k != "503" for k in pay_fail):
        problems.append(f"Pay during the outage answered {pay_fail} (want only 503)")
    if pay_fail and pay["with_retry_after"] < sum(v for k, v in pay_fail.items() if k == "503"):
        problems.append(f"only {pay['with_retry_after']} of the 503s carried Retry-After")
    # A request waits MOVIX_DATABASE_LEASE_TIMEOUT (2 s) for a connection; a second more for a busy machine.
    if (pay["failure_latency"]["max_ms"] or 0) > 3000:
        problems.append(f"a failing Pay took up to {pay['failure_latency']['max_ms']} ms (want <= 2000 + slack)")
    ready_fail = {k: v for k, v in ready["outcomes"].items() if k != "200"}
    if any(k != "503" for k in ready_fail):
        problems.append(f"/health/ready during the outage answered {ready_fail} (want 503)")
    if (ready["failure_latency"]["max_ms"] or 0) > 1500:
        problems.append(f"/health/ready took up to {ready['failure_latency']['max_ms']} ms to say 503 (want <= ~1000)")
    return {"met": not problems, "problems": problems}


# --------------------------------------------------------------------------- 3: sandbox faults during a flood


CARD_OK = "4000000000003055"       # success, no 3-D Secure
CARD_3DS = "4242424242424242"      # success after 3-D Secure
CARD_DECLINE = "4000056655665556"  # declined 5051


class SandboxClient:
    def __init__(self, base: str, rlog: Log):
        self.base, self.rlog = base, rlog

    def call(self, method: str, body: dict, tries: int = 8) -> dict:
        """One API call; an injected HTTP 500 is retried with the same X-Request-ID (nothing was done)."""
        request_id = str(uuid.uuid4())
        for i in range(tries):
            t = time.monotonic()
            try:
                r = session().post(self.base + method, json=body, auth=(PUBLIC_ID, API_SECRET), timeout=HTTP_TIMEOUT,
                                   headers={"X-Request-ID": request_id})
                self.rlog.add("sandbox_api", str(r.status_code), time.monotonic() - t)
                if r.status_code == 200:
                    return r.json()
            except requests.RequestException as exc:
                self.rlog.add("sandbox_api", classify(exc), time.monotonic() - t)
            time.sleep(0.1 * (i + 1))
        raise RuntimeError(f"sandbox {method} failed {tries} times")

    def charge(self, widget: dict, card: str, save_card: bool | None = None) -> dict:
        """What the widget does; `save_card` overrides the widget's choice to keep the card."""
        env = self.call("/payments/cards/charge", {
            "Amount": widget["amount"], "Currency": widget["currency"], "InvoiceId": widget["invoiceId"],
            "AccountId": widget["accountId"], "Description": widget.get("description") or "Movix", "Email": widget.get("email"),
            "IpAddress": "127.0.0.1", "Name": "CHAOS", "CardCryptogramPacket": cryptogram(card),
            "SaveCard": bool(widget.get("saveCard")) if save_card is None else save_card,
        })
        model = env.get("Model") or {}
        if not env.get("Success") and model.get("AcsUrl"):
            r = session().post(urljoin(self.base + "/", model["AcsUrl"]), timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"},
                               data={"decision": "confirm", "PaReq": model.get("PaReq", ""), "MD": str(model["TransactionId"])})
            r.raise_for_status()
            env = self.call("/payments/cards/post3ds", {"TransactionId": model["TransactionId"], "PaRes": r.json()["PaRes"]})
        return env


def scenario_sandbox_faults(st: Stack, n: int = 200, lost: int = 30, workers: int = 8, settle_timeout: float = 45) -> dict:
    faults = {"notificationDelayMs": 300, "duplicateNotifications": 1, "dropNotifications": 1, "apiErrorRate": 0.2, "apiLatencyMs": 50}
    log(f"scenario 3: {n} checkouts and payments with sandbox faults {faults}; {lost} more with Pay notifications held back")
    rlog = Log()
    sbx = SandboxClient(st.sandbox_base, rlog)
    st.set_faults(faults)
    invoices = create_invoices(st, n)
    flows: Counter = Counter()
    outcomes: Counter = Counter()
    count_lock = threading.Lock()

    def count(counter: Counter, key: str):
        with count_lock:
            counter[key] += 1

    def pay(i_inv):
        i, inv = i_inv
        kind = ["decline_then_ok", "double_charge", "3ds"][i % 10] if i % 10 < 3 else "ok"
        count(flows, kind)
        w = inv["widget"]
        if kind == "decline_then_ok":
            env = sbx.charge(w, CARD_DECLINE)
            count(outcomes, "declined" if not env.get("Success") else "approved")
            env = sbx.charge(w, CARD_OK)
        elif kind == "double_charge":
            env = sbx.charge(w, CARD_OK)
            count(outcomes, "approved" if env.get("Success") else "declined")
            env = sbx.charge(w, CARD_OK)  # the viewer pays twice (two tabs): the second is refunded or refused by Check
        elif kind == "3ds":
            env = sbx.charge(w, CARD_3DS)
        else:
            env = sbx.charge(w, CARD_OK)
        count(outcomes, "approved" if env.get("Success") else f"declined {(env.get('Model') or {}).get('ReasonCode')}")

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(pay, enumerate(invoices)))
    flood_s = time.monotonic() - t0
    log(f"  flood done in {flood_s:.1f} s: {dict(outcomes)}")

    # Lost notifications: the Pay of these payments is held back 4 attempts (~18 s), so
    # reconciliation settles them first and the late Pay must change nothing.
    st.set_faults({"dropNotifications": 4})
    late = create_invoices(st, lost)
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda inv: sbx.charge(inv["widget"], CARD_OK), late))
    t_late = time.monotonic()
    st.set_faults({})

    def unpaid(invs):
        ids = "{" + ",".join(i["invoice_id"] for i in invs) + "}"
        return int(st.sql("SELECT count(*) FROM invoices WHERE id = ANY(:'p1'::uuid[]) AND status <> 'paid'", ids)[0][0])

    deadline = time.monotonic() + settle_timeout
    while unpaid(invoices) and time.monotonic() < deadline:
        time.sleep(0.5)
    settled_by_notifications_s = round(time.monotonic() - t0, 1)
    left_after_notifications = unpaid(invoices)
    late_unpaid_before_reconcile = unpaid(late)

    # Reconciliation, first against a flaky acquirer API, then a healthy one.
    reconciles = []
    st.set_faults({"apiErrorRate": 0.5})
    out = st.run_cli("reconcile", "--grace-seconds", "0", timeout=120)
    reconciles.append({"api_error_rate": 0.5, "exit": out.returncode, "summary": (out.stdout + out.stderr).strip().splitlines()[-1:]})
    st.set_faults({})
    for _ in range(3):
        out = st.run_cli("reconcile", "--grace-seconds", "0", timeout=120)
        reconciles.append({"api_error_rate": 0, "exit": out.returncode, "summary": (out.stdout + out.stderr).strip().splitlines()[-1:]})
        if out.returncode == 0 and not unpaid(invoices + late):
            break
    log(f"  reconcile: {reconciles}")
    late_unpaid_after_reconcile = unpaid(late)

    # Wait for the held-back Pay notifications of the late payments (they must change nothing).
    ids = "{" + ",".join(i["invoice_id"] for i in late) + "}"
    deadline = t_late + 40
    late_pays = 0
    while time.monotonic() < deadline:
        late_pays = int(st.sql("SELECT count(DISTINCT invoice_id) FROM acquiring_log WHERE direction = 'notification' "
                               "AND operation = 'pay' AND invoice_id = ANY(:'p1'::text[])", ids)[0][0])
        if late_pays >= len(late):
            break
        time.sleep(0.5)
    # Refunds of second charges may still be in flight after the last reconcile; one more settles them.
    pending_refunds = int(st.sql("SELECT count(*) FROM refunds WHERE status IN ('created', 'pending')")[0][0])
    if pending_refunds:
        out = st.run_cli("reconcile", "--grace-seconds", "0", timeout=120)
        reconciles.append({"api_error_rate": 0, "exit": out.returncode, "summary": (out.stdout + out.stderr).strip().splitlines()[-1:]})

    all_ids = "{" + ",".join(i["invoice_id"] for i in invoices + late) + "}"
    notif = st.sql("SELECT operation, count(*) FROM acquiring_log WHERE direction = 'notification' "
                   "AND invoice_id = ANY(:'p1'::text[]) GROUP BY operation ORDER BY 1", all_ids)
    result = {
        "viewers": n + lost, "faults": faults, "flows": dict(flows), "charge_outcomes": dict(outcomes),
        "flood_seconds": round(flood_s, 1), "sandbox_api": outcome_counts(rlog.select("sandbox_api")),
        "paid_by_notifications_within_s": settled_by_notifications_s, "left_unpaid_after_notifications": left_after_notifications,
        "held_back": {"invoices": lost, "unpaid_before_reconcile": late_unpaid_before_reconcile,
                      "unpaid_after_reconcile": late_unpaid_after_reconcile, "late_pay_notifications_received": late_pays},
        "reconcile_runs": reconciles,
        "notifications_logged_total": {op: int(c) for op, c in notif},
    }
    result.update(books(st, invoices + late, double_charges_allowed=True))
    return result


# --------------------------------------------------------------------------- 4: kill -9 of the worker mid-batch


def _array(values) -> str:
    """A PostgreSQL array literal for a psql variable (uuids, numbers)."""
    return "{" + ",".join(str(v) for v in values) + "}"


def buy_with_saved_card(st: Stack, n: int, workers: int = 8, timeout: float = 60) -> tuple[list[dict], dict]:
    """n viewers check out premium_1m and pay through the sandbox's API with 4000 0000 0000 3055,
    keeping the card (SaveCard: the Pay notification carries a Token); waits until all are paid."""
    invoices = create_invoices(st, n, workers)
    sbx = SandboxClient(st.sandbox_base, Log())
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def pay(inv):
        env = sbx.charge(inv["widget"], CARD_OK, save_card=True)
        model = env.get("Model") or {}
        outcome = ("approved, card kept" if model.get("Token") else "approved, no token") if env.get("Success") \
            else f"declined {model.get('ReasonCode')}"
        with lock:
            outcomes[outcome] += 1

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(pay, invoices))
    ids = _array(i["invoice_id"] for i in invoices)
    deadline = time.monotonic() + timeout
    while True:
        unpaid = int(st.sql("SELECT count(*) FROM invoices WHERE id = ANY(:'p1'::uuid[]) AND status <> 'paid'", ids)[0][0])
        if not unpaid or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    log(f"  {n} paid with a saved card in {time.monotonic() - t0:.1f} s: {dict(outcomes)}; unpaid {unpaid}")
    return invoices, {"charges": dict(sorted(outcomes.items())), "unpaid": unpaid, "seconds": round(time.monotonic() - t0, 1)}


def scenario_worker_kill9(st: Stack, n: int = 300, batch: int = 16, lease: str = "5s", latency_ms: int = 200,
                          notification_delay_ms: int = 8000, kill_at: float = 1 / 3, finish_timeout: float = 180,
                          stop_timeout: float = 30) -> dict:
    """A worker killed (SIGKILL) mid-batch, another started: every renewal completes exactly once.

    n viewers buy a month with a saved card; their periods are made to end in an hour and their
    renewal jobs due now; with the sandbox's API slowed down (charges in flight), a worker runs
    them and gets SIGKILL after about `kill_at` of them are done; a second worker finishes. The
    sandbox's notifications are held back `notification_delay_ms` (longer than the lease), so the
    second worker finds the killed worker's charges pending and must ask the acquirer (or charge
    under the same X-Request-ID) rather than wait for their Pay. Then, per subscription: one
    renewal invoice, paid by one succeeded attempt, the period moved on, one charge at the sandbox
    (its Check and Pay notifications name one transaction, and /v2/payments/find finds the one
    that paid), no refund, one renewal job for the new period; the audit is clean."""
    log(f"scenario 4: kill -9 of the worker mid-batch over {n} renewals (batch {batch}, lease {lease}, "
        f"acquirer API latency {latency_ms} ms, notifications {notification_delay_ms} ms late)")
    violations: list[str] = []
    faults = {"apiLatencyMs": latency_ms, "notificationDelayMs": notification_delay_ms}
    result: dict = {"subscriptions": n, "batch_size": batch, "lease": lease, "faults": faults}

    # 1. n subscriptions paid with a saved card.
    invoices, bought = buy_with_saved_card(st, n)
    result["bought"] = bought
    if bought["unpaid"]:
        return {**result, "violations": [f"{bought['unpaid']} of {n} first payments not paid within 60 s"]}
    rows = st.sql("""
        SELECT s.id, s.status, s.auto_renew,
          (SELECT count(*) FROM payment_methods m WHERE m.user_id = s.user_id AND NOT m.revoked)
        FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id
        WHERE i.id = ANY(:'p1'::uuid[])""", _array(i["invoice_id"] for i in invoices))
    subs = [r[0] for r in rows]
    not_renewable = [r for r in rows if r[1] != "active" or r[2] != "t" or int(r[3]) < 1]
    if len(subs) != n or not_renewable:
        return {**result, "violations": [f"{len(subs)} subscriptions for {n} invoices; not active with auto-renewal and a "
                                         f"saved card: {not_renewable[:5]}"]}
    sub_ids = _array(subs)

    # 2. Their periods end in an hour, their renewals are due now; the acquirer answers slowly.
    jobs = st.sql("""
        WITH moved AS (
            UPDATE subscriptions SET current_period_end = now() + interval '1 hour'
            WHERE id = ANY(:'p1'::uuid[]) AND status = 'active'
            RETURNING id, current_period_end),
        replaced AS (
            DELETE FROM jobs WHERE kind = 'renewal' AND split_part(key, '/', 1) = ANY(:'p1'::text[]) RETURNING id)
        INSERT INTO jobs (kind, key, run_at)
        SELECT 'renewal', id::text || '/' || round(extract(epoch FROM current_period_end) * 1000000)::bigint, now() FROM moved
        RETURNING id, key""", sub_ids)
    jobs = [j for j in jobs if len(j) == 2]  # psql also prints the command tag (INSERT 0 n)
    if len(jobs) != n:
        return {**result, "violations": [f"{len(jobs)} renewal jobs scheduled for {n} subscriptions"]}
    job_ids = _array(j[0] for j in jobs)
    old_period = {r[0]: (r[1], r[2]) for r in st.sql(
        "SELECT id, current_period_start, current_period_end FROM subscriptions WHERE id = ANY(:'p1'::uuid[])", sub_ids)}
    st.set_faults(faults)

    def progress() -> tuple[int, int]:
        done, held = st.sql("""
            SELECT count(*) FILTER (WHERE done_at IS NOT NULL), count(*) FILTER (WHERE done_at IS NULL AND leased_until > now())
            FROM jobs WHERE id = ANY(:'p1'::bigint[])""", job_ids)[0]
        return int(done), int(held)

    def renewal_statuses() -> dict:
        return {s: int(c) for s, c in st.sql("""
            SELECT status, count(*) FROM invoices WHERE kind = 'renewal' AND subscription_id = ANY(:'p1'::uuid[])
            GROUP BY status ORDER BY 1""", sub_ids)}

    settings = {"MOVIX_WORKER_BATCH_SIZE": str(batch), "MOVIX_WORKER_LEASE": lease,
                "MOVIX_LOG_LEVEL": os.environ.get("CHAOS_WORKER_LOG_LEVEL", "info")}

    # 3. A worker; SIGKILL once about kill_at of the renewals are done.
    target = max(1, round(n * kill_at))
    t_start = time.monotonic()
    first = st.start_worker("worker-1", **settings)
    done = held = 0
    deadline = t_start + 90
    while time.monotonic() < deadline and first.poll() is None:
        done, held = progress()
        if done >= target:
            break
        time.sleep(0.05)
    if first.poll() is not None:
        return {**result, "violations": [f"the first worker exited ({first.returncode}) before the kill, {done}/{n} done: "
                                         + st._tail(st.workdir / "worker-1.log", 10)]}
    if done < target:
        violations.append(f"only {done}/{n} renewals done {time.monotonic() - t_start:.0f} s after the first worker started")
    os.kill(first.pid, signal.SIGKILL)
    t_kill = time.monotonic()
    first.wait(timeout=30)
    done, held = progress()
    # What the held jobs' renewals looked like at the kill: charges in flight are `pending`.
    at_kill = {s: int(c) for s, c in st.sql("""
        SELECT coalesce(i.status, 'no invoice yet'), count(*)
        FROM jobs j LEFT JOIN invoices i ON i.kind = 'renewal' AND i.subscription_id = split_part(j.key, '/', 1)::uuid
        WHERE j.id = ANY(:'p1'::bigint[]) AND j.done_at IS NULL AND j.leased_until > now()
        GROUP BY 1 ORDER BY 1""", job_ids)}
    statuses_at_kill = renewal_statuses()
    held_subs = {r[0] for r in st.sql("""
        SELECT split_part(key, '/', 1) FROM jobs
        WHERE id = ANY(:'p1'::bigint[]) AND done_at IS NULL AND leased_until > now()""", job_ids)}
    log(f"  kill -9 {first.pid} {t_kill - t_start:.1f} s after its start: {done}/{n} renewals done, {held} held "
        f"(their invoices: {at_kill}); renewal invoices {statuses_at_kill}")
    result["at_kill"] = {"after_s": round(t_kill - t_start, 1), "done": done, "held": held, "held_invoices": at_kill,
                         "renewal_invoices": statuses_at_kill, "pid": first.pid}
    if held == 0:
        violations.append(f"the kill did not land mid-batch (no job held; {done}/{n} done)")

    # 4. A second worker finishes: every renewal job done, no renewal invoice left pending.
    second = st.start_worker("worker-2", **settings)
    t_second = time.monotonic()
    finished = False
    while time.monotonic() < t_second + finish_timeout and second.poll() is None:
        done, held = progress()
        if done == n and not renewal_statuses().get("pending"):
            finished = True
            break
        time.sleep(0.25)
    t_done = time.monotonic()
    st.set_faults({})
    if finished:
        log(f"  all {n} renewals done {t_done - t_second:.1f} s after the second worker started, "
            f"{t_done - t_start:.1f} s after the first")
    else:
        stuck = st.sql("""
            SELECT j.key, j.attempts, j.run_at, j.leased_by, j.leased_until, j.last_error, i.id, i.status,
              (SELECT string_agg(a.status || ' ' || a.transaction_id, ', ') FROM payment_attempts a WHERE a.invoice_id = i.id)
            FROM jobs j LEFT JOIN invoices i ON i.kind = 'renewal' AND i.subscription_id = split_part(j.key, '/', 1)::uuid
            WHERE j.id = ANY(:'p1'::bigint[]) AND (j.done_at IS NULL OR i.status IS DISTINCT FROM 'paid')
            ORDER BY j.id LIMIT 10""", job_ids)
        why = "exited " + str(second.returncode) if second.poll() is not None else f"not done within {finish_timeout:.0f} s"
        violations.append(f"second worker {why}: {done}/{n} renewal jobs done, renewal invoices {renewal_statuses()}; "
                          f"first unfinished (key, attempts, run_at, leased_by, leased_until, last_error, invoice, status, attempts): {stuck}")
        for row in stuck:
            log(f"  unfinished: {row}")
    t_term = time.monotonic()
    stopped_rc = None
    if second.poll() is None:
        second.send_signal(signal.SIGTERM)
        try:
            stopped_rc = second.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            violations.append(f"the second worker did not exit within {stop_timeout:.0f} s of SIGTERM")
    else:
        stopped_rc = second.returncode
    stop_s = round(time.monotonic() - t_term, 2)
    if stopped_rc not in (0, None):
        violations.append(f"the second worker exited {stopped_rc} after SIGTERM")
    renewal_s = t_done - t_start
    result.update({
        "finished": finished, "second_worker_s": round(t_done - t_second, 1), "renewal_seconds": round(renewal_s, 1),
        "renewals_per_s": round(n / renewal_s, 1) if finished else None,
        "sigterm": {"exit": stopped_rc, "seconds": stop_s},
    })

    # The sandbox's Pay notifications are sent after it answered (and held back): wait (bounded) for
    # them all; the late ones must change nothing.
    deadline = time.monotonic() + 20 + notification_delay_ms / 1000
    while time.monotonic() < deadline:
        missing = int(st.sql("""
            SELECT count(*) FROM invoices i WHERE i.kind = 'renewal' AND i.subscription_id = ANY(:'p1'::uuid[]) AND NOT EXISTS (
                SELECT 1 FROM acquiring_log l WHERE l.direction = 'notification' AND l.operation = 'pay' AND l.invoice_id = i.id::text)
            """, sub_ids)[0][0])
        if not missing:
            break
        time.sleep(0.25)

    # 5. The books of every subscription.
    rows = st.sql("""
        SELECT s.id, s.status, s.current_period_start, s.current_period_end,
          abs(extract(epoch FROM s.current_period_end - ((r.period_start AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC')) < 0.001,
          (SELECT count(*) FROM invoices x WHERE x.subscription_id = s.id AND x.kind = 'renewal'),
          r.id, r.status, r.period_start, r.period_end, r.acquirer_transaction_id,
          (SELECT count(*) FROM payment_attempts a WHERE a.invoice_id = r.id),
          (SELECT count(*) FROM payment_attempts a WHERE a.invoice_id = r.id AND a.status = 'succeeded'),
          (SELECT count(*) FROM refunds f JOIN invoices x ON x.id = f.invoice_id WHERE x.subscription_id = s.id),
          (SELECT count(*) FROM state_transitions t WHERE t.entity = 'invoice' AND t.entity_id = r.id AND t.to_state = 'paid'),
          (SELECT count(*) FROM outbox_events o WHERE o.type = 'invoice.paid' AND o.payload->'invoice'->>'id' = r.id::text),
          (SELECT count(DISTINCT l.transaction_id) FROM acquiring_log l
             WHERE l.direction = 'notification' AND l.operation = 'check' AND l.invoice_id = r.id::text),
          (SELECT count(DISTINCT l.transaction_id) FROM acquiring_log l
             WHERE l.direction = 'notification' AND l.operation = 'pay' AND l.invoice_id = r.id::text),
          (SELECT count(*) FROM acquiring_log l WHERE l.direction = 'request' AND l.operation LIKE '%tokens/charge' AND l.invoice_id = r.id::text),
          (SELECT count(DISTINCT l.transaction_id) FROM acquiring_log l
             WHERE l.direction = 'request' AND l.operation LIKE '%tokens/charge' AND l.invoice_id = r.id::text),
          (SELECT string_agg(j.key, ', ') FROM jobs j
             WHERE j.kind = 'renewal' AND split_part(j.key, '/', 1) = s.id::text AND j.done_at IS NULL),
          s.id::text || '/' || round(extract(epoch FROM s.current_period_end) * 1000000)::bigint,
          (SELECT t.actor FROM state_transitions t WHERE t.entity = 'invoice' AND t.entity_id = r.id AND t.to_state = 'paid' LIMIT 1)
        FROM subscriptions s
        LEFT JOIN LATERAL (SELECT * FROM invoices x WHERE x.subscription_id = s.id AND x.kind = 'renewal' ORDER BY x.created_at LIMIT 1) r ON true
        WHERE s.id = ANY(:'p1'::uuid[])""", sub_ids)
    statuses: Counter = Counter()
    charge_requests: Counter = Counter()
    paid_by: Counter = Counter()
    held_paid_by: Counter = Counter()
    paid_tx: dict[str, str] = {}
    for (sid, status, start, end, on_anchor, renewals, rid, rstatus, pstart, pend, tx, attempts, ok_attempts, refunds,
         paid_tr, paid_ev, checks, pays, requests_logged, request_txs, open_jobs, next_key, actor) in rows:
        statuses[rstatus or "none"] += 1
        charge_requests[int(requests_logged)] += 1
        if actor:
            paid_by[actor] += 1
        if sid in held_subs:
            held_paid_by[actor or "unpaid"] += 1
        problems = []
        if int(renewals) != 1:
            problems.append(f"{renewals} renewal invoices")
        if rstatus != "paid":
            problems.append(f"renewal invoice {rid} {rstatus}")
        else:
            paid_tx[rid] = tx
        if status != "active":
            problems.append(f"subscription {status}")
        was_start, was_end = old_period[sid]
        if start != was_start:
            problems.append(f"period start moved from {was_start} to {start}")
        if pstart != was_end:
            problems.append(f"renewal invoice starts {pstart}, the period ended {was_end}")
        if end != pend or on_anchor != "t":
            # The SQL above moved the end off the anchor's day: such a period renews for exactly
            # a month from its end (BillingPeriod.next), not up to the next anchor day.
            problems.append(f"period ends {end} (renewal invoice to {pend}), not a month past the paid one")
        if int(attempts) != 1 or int(ok_attempts) != 1:
            problems.append(f"{attempts} payment attempts, {ok_attempts} succeeded")
        if int(refunds):
            problems.append(f"{refunds} refunds")
        if int(paid_tr) != 1 or int(paid_ev) != 1:
            problems.append(f"{paid_tr} 'paid' transitions, {paid_ev} invoice.paid events")
        if int(checks) != 1 or int(pays) != 1:
            problems.append(f"the sandbox sent Check for {checks} and Pay for {pays} transactions")
        if int(request_txs) > 1:
            problems.append(f"our tokens/charge requests got {request_txs} different transactions")
        # The paying transaction schedules the next period's renewal, once. Its key names the new
        # end to the microsecond, cut off as stored (JobKey), so it may be 1 µs off a rounding of it.
        open_keys = [k.strip() for k in (open_jobs or "").split(",") if k.strip()]
        want_id, want_us = next_key.split("/")
        if len(open_keys) != 1 or open_keys[0].split("/")[0] != want_id or abs(int(open_keys[0].split("/")[1]) - int(want_us)) > 1:
            problems.append(f"open renewal jobs {open_jobs or 'none'}, want one for the new period ({next_key})")
        if problems:
            violations.append(f"subscription {sid}: " + ", ".join(problems))
    if len(rows) != n:
        violations.append(f"{n - len(rows)} subscriptions missing")

    # The acquirer's word: the latest transaction of each renewal invoice is the one that paid it.
    sbx = SandboxClient(st.sandbox_base, Log())

    def found(item):
        iid, tx = item
        env = sbx.call("/v2/payments/find", {"InvoiceId": iid})
        model = env.get("Model") or {}
        return iid, tx, env.get("Success"), str(model.get("TransactionId")), model.get("Status")

    with cf.ThreadPoolExecutor(max_workers=8) as pool:
        lookups = list(pool.map(found, paid_tx.items()))
    mismatched = [x for x in lookups if not x[2] or x[3] != x[1] or x[4] != "Completed"]
    for iid, tx, ok, found_tx, found_status in mismatched[:10]:
        violations.append(f"renewal invoice {iid} paid by {tx}, the sandbox's latest transaction is {found_tx} ({found_status}, success {ok})")
    job_rows = st.sql("""
        SELECT attempts, count(*), count(*) FILTER (WHERE last_error IS NOT NULL) FROM jobs
        WHERE id = ANY(:'p1'::bigint[]) GROUP BY 1 ORDER BY 1""", job_ids)

    audit = st.run_cli("audit", timeout=120)
    audit_text = (audit.stdout + audit.stderr).strip()
    if audit.returncode != 0:
        violations.append(f"audit exit {audit.returncode}: " + " | ".join(audit_text.splitlines()[-10:]))
    result.update({
        "renewal_invoices": dict(statuses), "paid_by": dict(paid_by), "held_at_kill_paid_by": dict(held_paid_by),
        "job_claims": {f"claimed {a}x": int(c) for a, c, _ in job_rows},
        "jobs_with_errors": sum(int(e) for _, _, e in job_rows),
        "charge_requests_logged": {f"{k} per invoice": v for k, v in sorted(charge_requests.items())},
        "sandbox_find_matches": len(lookups) - len(mismatched),
        "audit": "no breach" if audit.returncode == 0 else f"exit {audit.returncode}",
        "audit_output": audit_text.splitlines()[-1] if audit_text else "",
        "invariant_violations": len(violations), "violations": violations[:20],
    })
    log(f"  renewal invoices {dict(statuses)}; paid by {dict(paid_by)} (those held at the kill: {dict(held_paid_by)}); job claims {result['job_claims']}; "
        f"tokens/charge requests logged {result['charge_requests_logged']}; audit {result['audit']}")
    return result


class _Receiver:
    """A webhook receiver on a free loopback port: records every delivery (event id, subscription,
    round, arrival) and answers 200 after `delay` seconds, so deliveries are in flight at a kill."""

    def __init__(self, delay: float = 0.005):
        import http.server
        received = self.received = []
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(delay)
                try:
                    event = __import__("json").loads(body)
                    entry = (self.headers.get("Movix-Event-Id"), event.get("subscription_id"), event.get("data", {}).get("round"),
                             event.get("sequence"))
                except ValueError:
                    entry = (self.headers.get("Movix-Event-Id"), None, None, None)
                with lock:
                    received.append(entry)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self) -> list:
        with self.lock:
            return list(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def scenario_events_kill9(st: Stack, subscriptions: int = 100, rounds: int = 10, lease: str = "3s", kill_at: float = 1 / 3,
                          finish_timeout: float = 120, stop_timeout: float = 30) -> dict:
    """A worker killed (SIGKILL) mid-delivery, another started: nothing lost, nothing out of order.

    `subscriptions` x `rounds` events are committed (round r of every subscription before round
    r + 1) for an endpoint that takes everything; a worker delivers them and gets SIGKILL once about
    `kill_at` have arrived; a second worker finishes. Then: every event arrived at least once (a
    delivery the first worker made but had not recorded comes again: at least once), and each
    subscription's events arrived in order: the rounds as they arrived never go back."""
    n = subscriptions * rounds
    log(f"scenario 5: kill -9 of the worker mid-delivery over {n} events ({subscriptions} subscriptions x {rounds}, lease {lease})")
    violations: list[str] = []
    result: dict = {"events": n, "lease": lease}
    receiver = _Receiver()
    try:
        answer = requests.post(f"{st.api_base}/internal/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["*"]},
                               headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, timeout=10)
        if answer.status_code != 201:
            return {**result, "violations": [f"endpoint registration answered {answer.status_code}: {answer.text[:200]}"]}
        endpoint_id = answer.json()["id"]
        subs = [str(uuid.uuid4()) for _ in range(subscriptions)]
        st.sql("""
            INSERT INTO outbox_events (type, aggregate_id, subscription_id, user_id, occurred_at, schema_version, payload)
            SELECT 'subscription.renewed', s::uuid, s::uuid, s::uuid, now(), 1, jsonb_build_object('round', r)
            FROM generate_series(0, :'p2'::int - 1) AS r, unnest(:'p1'::text[]) AS s ORDER BY r, s""", _array(subs), str(rounds))
        settings = {"MOVIX_WORKER_LEASE": lease, "MOVIX_WEBHOOK_CONCURRENCY": "8",
                    "MOVIX_LOG_LEVEL": os.environ.get("CHAOS_WORKER_LOG_LEVEL", "info")}
        target = max(1, round(n * kill_at))
        t_start = time.monotonic()
        first = st.start_worker("events-worker-1", **settings)
        while time.monotonic() < t_start + 60 and first.poll() is None and len([e for e in receiver.snapshot() if e[1] in set(subs)]) < target:
            time.sleep(0.01)
        if first.poll() is not None:
            return {**result, "violations": [f"the first worker exited ({first.returncode}) before the kill: "
                                             + st._tail(st.workdir / "events-worker-1.log", 10)]}
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        at_kill = len([e for e in receiver.snapshot() if e[1] in set(subs)])
        leased = int(st.sql("""
            SELECT count(*) FROM webhook_messages WHERE endpoint_id = :'p1'::uuid AND delivered_at IS NULL AND leased_until > now()""",
            endpoint_id)[0][0])
        log(f"  kill -9 {first.pid} {time.monotonic() - t_start:.1f} s after its start: {at_kill}/{n} received, {leased} messages leased")
        result["at_kill"] = {"received": at_kill, "leased": leased}
        if leased == 0:
            violations.append(f"the kill did not land mid-delivery (no message leased; {at_kill}/{n} received)")

        second = st.start_worker("events-worker-2", **settings)
        t_second = time.monotonic()
        expected = {s for s in subs}
        while time.monotonic() < t_second + finish_timeout and second.poll() is None:
            if len({e[0] for e in receiver.snapshot() if e[1] in expected}) >= n:
                break
            time.sleep(0.1)
        time.sleep(1)  # anything more (a duplicate) arrives now
        received = receiver.snapshot()
        t_done = time.monotonic()
        second.send_signal(signal.SIGTERM)
        try:
            rc = second.wait(timeout=stop_timeout)
            if rc != 0:
                violations.append(f"the second worker exited {rc} after SIGTERM")
        except subprocess.TimeoutExpired:
            violations.append(f"the second worker did not exit within {stop_timeout:.0f} s of SIGTERM")

        # Only this scenario's events: earlier scenarios' events, published now, reach the endpoint too.
        mine = set(subs)
        received = [e for e in received if e[1] in mine]
        ids = [e[0] for e in received]
        unique = set(ids)
        if len(unique) != n:
            violations.append(f"{len(unique)} of {n} events arrived")
        by_sub: dict = {}
        for _, sub, rnd, _seq in received:
            by_sub.setdefault(sub, []).append(rnd)
        if set(by_sub) != expected:
            violations.append(f"events arrived for {len(set(by_sub) & expected)} of {subscriptions} subscriptions")
        out_of_order = {s: r for s, r in by_sub.items() if any(b < a for a, b in zip(r, r[1:]))}
        if out_of_order:
            violations.append(f"{len(out_of_order)} subscriptions got events out of order, e.g. {next(iter(out_of_order.items()))}")
        undelivered = int(st.sql("""
            SELECT count(*) FROM webhook_messages m JOIN outbox_events e ON e.id = m.event_id
            WHERE m.endpoint_id = :'p1'::uuid AND m.delivered_at IS NULL AND e.subscription_id = ANY(:'p2'::uuid[])""",
                                 endpoint_id, _array(subs))[0][0])
        if undelivered:
            violations.append(f"{undelivered} messages not marked delivered")
        duplicates = len(ids) - len(unique)
        log(f"  all {len(unique)}/{n} events received {t_done - t_second:.1f} s after the second worker started; "
            f"{duplicates} delivered twice (at least once), {len(out_of_order)} subscriptions out of order")
        result.update({"received": len(unique), "duplicates": duplicates, "second_worker_s": round(t_done - t_second, 1),
                       "out_of_order": len(out_of_order), "undelivered": undelivered})
        # Nothing of this endpoint for the scenarios after this one.
        requests.delete(f"{st.api_base}/internal/v1/webhook-endpoints/{endpoint_id}", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, timeout=10)
    finally:
        receiver.close()
    return {**result, "violations": violations}
