"""A viewer cancels: the quote, the confirmation, the refund at the acquirer, access, the books.

Real processes through HTTP, as test_payment_flows.py: every test mints its own user and pays with
the sandbox's 3-D Secure card from the widget options checkout returns (the card is saved).

The service clock. `dev` runs with MOVIX_CLOCK=offset, so `POST /internal/v1/clock/advance` moves
the clock of the one process the whole session shares, forward and for good. Only
`test_twelve_months_cancelled_three_and_a_half_months_in` moves it; it is marked `advances_clock`,
which conftest.py sorts after every other test of the session (whatever the files' order or the
command line), so the first-hour tests here and in test_browser_account.py run on an unmoved clock.
Expectations are computed from the times the API answers (the invoice's period, the service's
now from an advance of 0 seconds), not from this machine's clock."""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timedelta

import pytest
import requests

import harness as h
from test_payment_flows import entitlement, pay_with_3ds, start_checkout

REFUND_TIMEOUT = 30  # s; the refund is usually settled before the cancel answers


# --------------------------------------------------------------------------- helpers


def clock_advance(internal: h.Api, seconds) -> dict:
    r = internal.post("/internal/v1/clock/advance", {"seconds": seconds})
    assert r.status_code == 200, h.describe(r)
    body = r.json()
    assert "now" in body, body
    return body


def service_now(internal: h.Api) -> datetime:
    """The service's time: an advance by 0 seconds answers it without moving it."""
    return h.parse_time(clock_advance(internal, 0)["now"])


def pay(user: h.User, plans: dict, sandbox: h.Sandbox, plan_code: str) -> dict:
    """Checkout and a 3-D Secure payment in the widget (saving the card); the paid invoice."""
    co = start_checkout(user, plans, plan_code)
    pay_with_3ds(sandbox, co)
    inv = user.api.wait_invoice_status(co["invoice_id"], "paid", timeout=15)
    assert inv["amount"] == {"amount": h.PLAN_PRICES[plan_code], "currency": "RUB"}, inv
    assert inv["period"] and inv["paid_at"], inv
    sub = h.wait_until(lambda: (s := user.api.subscription()) and s["status"] == "active" and s,
                       10, what="the subscription to become active")
    assert sub["plan"]["code"] == plan_code, sub
    assert sub["cancellation"] is None, sub
    h.assert_close(h.parse_time(sub["current_period"]["start"]), h.parse_time(inv["period"]["start"]),
                   what="the subscription's and the invoice's period start")
    return inv


def quote(user: h.User) -> dict:
    r = user.api.get("/v1/subscription/cancellation")
    assert r.status_code == 200, h.describe(r)
    return r.json()


def cancel(user: h.User, expected_refund: int, key: str) -> dict:
    r = user.api.post("/v1/subscription/cancel", {"confirm": True, "expected_refund": expected_refund},
                      headers={"Idempotency-Key": key})
    assert r.status_code == 200, h.describe(r)
    body = r.json()
    assert body["state"] == "canceled", body
    assert body["refund"] == {"amount": expected_refund, "currency": "RUB"}, body
    assert body["canceled_at"], body
    assert body["refund_status"] in ("pending", "refunded"), body
    return body


def wait_refunded(user: h.User) -> dict:
    seen: list[str | None] = []

    def check():
        c = quote(user)
        if not seen or seen[-1] != c["refund_status"]:
            seen.append(c["refund_status"])
        return c if c["refund_status"] == "refunded" else None

    try:
        return h.wait_until(check, REFUND_TIMEOUT, what="the cancellation's refund_status to become 'refunded'")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; refund_status seen: {seen}") from None


def assert_cancellation_refund(user: h.User, invoice_id: str, amount: int) -> dict:
    """The invoice lists exactly one refund: the cancellation's, refunded, `amount`."""
    inv = user.api.invoice(invoice_id)
    assert inv["status"] == "paid", inv
    refunds = inv["refunds"]
    assert len(refunds) == 1, f"expected one refund on {invoice_id}: {refunds}"
    refund = refunds[0]
    assert refund["reason"] == "cancellation", refund
    assert refund["status"] == "refunded", refund
    assert refund["amount"] == {"amount": amount, "currency": "RUB"}, refund
    assert refund["settled_at"], refund
    return refund


def assert_books_balance(internal: h.Api):
    """`GET /internal/v1/audit` and `movix-billing audit` (on dev's database) find no breach."""
    r = internal.get("/internal/v1/audit")
    assert r.status_code == 200, h.describe(r)
    assert r.json() == {"balanced": True, "breaches": []}, r.json()

    env = h.dev_env()
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{h.POSTGRES_PORT}/{h.DATABASE}?sslmode=disable"
    out = subprocess.run([str(h.BINARY), "audit"], env=env, cwd=h.ROOT, capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, f"`movix-billing audit` exit {out.returncode}:\n{out.stdout}{out.stderr}"


def rub(amount: int) -> str:
    """A refund as the English sentence writes it: RUB 299.00."""
    return f"RUB {amount // 100}.{amount % 100:02d}"


def months_in_progress(start: datetime, now: datetime, months: int) -> int:
    """Months of a period from `start` that have begun by `now` (the one in progress counts),
    with boundaries on the start's day of the month (harness.add_months)."""
    return next((i for i in range(1, months + 1) if now < h.add_months(start, i)), months)


# --------------------------------------------------------------------------- a: within the first hour


def test_cancel_within_the_first_hour_refunds_everything_and_ends_access(new_user, plans, sandbox, internal):
    user = new_user()
    before_payment = service_now(internal)
    # The ordering guard: this test needs a clock that runs with the acquirer's (see the docstring).
    assert abs((before_payment - h.utcnow()).total_seconds()) < 60, \
        f"the service clock runs {before_payment - h.utcnow()} ahead: a test that advances it ran first"
    inv = pay(user, plans, sandbox, "premium_1m")
    amount = inv["amount"]["amount"]
    assert entitlement(internal, user.id)["active"] is True

    t0 = service_now(internal)
    q = quote(user)
    t1 = service_now(internal)
    assert q["state"] == "quote", q
    assert q["policy"] == "prorated", q
    assert q["rule"] == "within_first_hour", q
    assert q["refund"] == {"amount": amount, "currency": "RUB"}, q
    assert q["unused_months"] == 0, q
    assert q["canceled_at"] is None and q["refund_status"] is None, q
    assert q["refunds"] == [], q
    # Access ends now: the quote's time.
    access_until = h.parse_time(q["access_until"])
    assert t0 - h.ONE_SECOND <= access_until <= t1 + h.ONE_SECOND, \
        f"access_until {access_until.isoformat()} is not the quote's time ({t0.isoformat()} .. {t1.isoformat()})"
    assert rub(amount) in q["message"]["en"] and q["message"]["ru"], q["message"]

    key = f"cancel-{uuid.uuid4()}"
    first = cancel(user, amount, key)
    assert first["rule"] == "within_first_hour", first
    # The same request again (a retry) answers with the same cancellation, and refunds nothing more.
    again = cancel(user, amount, key)
    assert again["canceled_at"] == first["canceled_at"] and again["subscription_id"] == first["subscription_id"], (first, again)

    done = wait_refunded(user)
    assert done["state"] == "canceled" and done["rule"] == "within_first_hour", done
    assert done["refund"] == {"amount": amount, "currency": "RUB"}, done
    assert [(r["reason"], r["status"], r["amount"]["amount"]) for r in done["refunds"]] == [("cancellation", "refunded", amount)], done
    assert "has been refunded" in done["message"]["en"], done["message"]
    assert done["can_resume"] is False, done

    refund = assert_cancellation_refund(user, inv["id"], amount)
    assert done["refunds"][0]["id"] == refund["id"], (done["refunds"], refund)

    ent = entitlement(internal, user.id)
    assert ent["active"] is False, ent

    sub = user.api.subscription()
    assert sub["status"] == "expired", sub
    assert sub["cancellation"] is not None, sub
    assert sub["cancellation"]["state"] == "canceled" and sub["cancellation"]["refund_status"] == "refunded", sub

    assert_books_balance(internal)


# --------------------------------------------------------------------------- c: bad input


def put_json(api: h.Api, path: str, body) -> requests.Response:
    return api.session.put(api.base + path, json=body, headers=api._headers(), timeout=h.HTTP_TIMEOUT)


def test_bad_cancellation_requests_are_refused_without_a_5xx(new_user, plans, sandbox, internal):
    # A viewer who never subscribed.
    stranger = new_user()
    h.assert_problem(stranger.api.post("/v1/subscription/cancel", {"confirm": False}), 422)
    h.assert_problem(stranger.api.post("/v1/subscription/cancel", {"confirm": True}, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"}), 404)
    h.assert_problem(stranger.api.get("/v1/subscription/cancellation"), 404)
    h.assert_problem(put_json(stranger.api, "/v1/subscription/auto-renew", {"enabled": "yes"}), 422)

    # A subscriber: nothing of a refused request is applied.
    user = new_user()
    pay(user, plans, sandbox, "premium_1m")
    before = user.api.subscription()
    h.assert_problem(user.api.post("/v1/subscription/cancel", {"confirm": False}), 422)
    h.assert_problem(put_json(user.api, "/v1/subscription/auto-renew", {"enabled": "yes"}), 422)

    odd_bodies = [{}, {"confirm": "true"}, {"confirm": None}, [], None, "confirm",
                  {"confirm": True, "expected_refund": "29900"}, {"confirm": True, "expected_refund": 1e40},
                  {"confirm": True, "expected_refund": -1}, {"confirm": True, "expected_refund": 1}]
    for body in odd_bodies:
        r = user.api.post("/v1/subscription/cancel", body)
        assert 400 <= r.status_code < 500, f"cancel with {body!r}: " + h.describe(r)
        h.assert_problem(r, r.status_code)
    r = user.api.session.post(user.api.base + "/v1/subscription/cancel", data=b'{"confirm": tru',
                              headers=user.api._headers({"Content-Type": "application/json"}), timeout=h.HTTP_TIMEOUT)
    assert 400 <= r.status_code < 500, h.describe(r)
    for body in ({}, {"enabled": None}, {"enabled": "true"}, [], "on"):
        r = put_json(user.api, "/v1/subscription/auto-renew", body)
        assert 400 <= r.status_code < 500, f"auto-renew with {body!r}: " + h.describe(r)
        h.assert_problem(r, r.status_code)

    after = user.api.subscription()
    assert after["status"] == "active" and after["cancellation"] is None, after
    assert after["auto_renew"] == before["auto_renew"], (before, after)
    assert quote(user)["state"] == "quote"
    assert entitlement(internal, user.id)["active"] is True

    # The clock only moves forward; a refused move leaves it where it was.
    offset = clock_advance(internal, 0)["offset_seconds"]
    for body in ({"seconds": -1}, {"seconds": "60"}, {"seconds": 10**12}, {}):
        r = internal.post("/internal/v1/clock/advance", body)
        assert 400 <= r.status_code < 500, f"clock advance with {body!r}: " + h.describe(r)
        h.assert_problem(r, r.status_code)
    assert clock_advance(internal, 0)["offset_seconds"] == offset


# --------------------------------------------------------------------------- b: 12 months, 3.5 months in

JUMP_SECONDS = 106 * 86400  # 9158400: 106 days, always past month 3 (at most 92 days) and within month 4 (at least 120)


@pytest.mark.advances_clock
def test_twelve_months_cancelled_three_and_a_half_months_in(new_user, plans, sandbox, internal):
    plan_code, months = "premium_12m", h.PLAN_MONTHS["premium_12m"]
    price = h.PLAN_PRICES[plan_code]
    user = new_user()
    inv = pay(user, plans, sandbox, plan_code)
    start = h.parse_time(inv["period"]["start"])
    h.assert_close(h.parse_time(inv["period"]["end"]), h.add_months(start, months), what="the 12-month period's end")
    assert quote(user)["rule"] == "within_first_hour"  # what the jump changes

    moved = clock_advance(internal, JUMP_SECONDS)
    jumped_to = h.parse_time(moved["now"])
    assert jumped_to - start >= timedelta(seconds=JUMP_SECONDS), f"the clock did not move 106 days past {start}: {moved}"

    t0 = service_now(internal)
    q = quote(user)
    t1 = service_now(internal)
    used = months_in_progress(start, t0, months)
    assert months_in_progress(start, t1, months) == used, "a month boundary passed during the quote"
    assert used == 4, f"106 days after {start.isoformat()} should be in month 4, the clock says {t0.isoformat()}"
    unused = months - used
    expected_refund = price * unused // months
    assert (unused, expected_refund) == (8, 179333)  # the scenario: 269000 x 8 / 12, rounded down

    assert q["state"] == "quote" and q["policy"] == "prorated", q
    assert q["rule"] == "unused_months", q
    assert q["unused_months"] == unused, q
    assert q["refund"] == {"amount": expected_refund, "currency": "RUB"}, q
    access_until = h.parse_time(q["access_until"])
    h.assert_close(access_until, h.add_months(start, used), what="access_until and the end of month 4")
    assert f"{unused} unused months" in q["message"]["en"] and rub(expected_refund) in q["message"]["en"], q["message"]

    c = cancel(user, expected_refund, f"cancel-{uuid.uuid4()}")
    assert c["rule"] == "unused_months" and c["unused_months"] == unused, c
    assert h.parse_time(c["access_until"]) == access_until, c

    done = wait_refunded(user)
    assert [(r["reason"], r["status"], r["amount"]["amount"]) for r in done["refunds"]] == [("cancellation", "refunded", expected_refund)], done
    assert done["can_resume"] is False, done
    assert_cancellation_refund(user, inv["id"], expected_refund)

    # Access runs to the end of month 4, and no further.
    ent = entitlement(internal, user.id)
    assert ent["active"] is True, ent
    assert ent["plan_code"] == plan_code, ent
    h.assert_close(h.parse_time(ent["until"]), access_until, what="entitlement until and access_until")

    sub = user.api.subscription()
    assert sub["status"] == "canceled", sub
    assert sub["cancellation"] is not None and sub["cancellation"]["refund_status"] == "refunded", sub
    assert sub["auto_renew"] is False, sub
    h.assert_close(h.parse_time(sub["current_period"]["end"]), access_until, what="the period's end and access_until")

    assert_books_balance(internal)
