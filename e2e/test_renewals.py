"""Automatic renewals (issue 8): the saved card charged a day before the period ends, declines
chased on the dunning schedule, past_due through the grace, then expired; a new card during
past_due renews from the old end.

Real processes through HTTP, as test_payment_flows.py: every test mints its own user and pays the
checkout from the widget options it returns (SaveCard, so auto-renew turns on). The renewals run
in `dev`'s in-process worker, which `POST /internal/v1/clock/advance` runs before it answers: after
an advance its effects are visible.

The service clock only moves forward and the whole session shares it, so every test here is
marked `advances_clock` (conftest.py runs those last, in file order) and computes what it expects
from the times the API answers (the period, `next_charge.at`, the attempts, the clock's `now`),
never from this machine's clock: each works whatever the clock's offset is when it starts.

Cards. 4242 4242 4242 4242 (3-D Secure, listed) renews. 4000 0000 0000 0002 is Luhn-valid and not
in the sandbox's test-card table, so its cardholder name decides: `TOKEN DECLINE <code>` is
approved in the widget and declined with <code> on every charge by token (docs/sandbox.md).
4000 0000 0000 3055 (listed) is approved without 3-D Secure."""

from __future__ import annotations

import calendar
import json
import math
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

import harness as h
from test_cancellation import assert_books_balance, clock_advance, service_now
from test_payment_flows import entitlement, pay_with_3ds, start_checkout

RENEWAL_LEAD = timedelta(hours=24)  # MOVIX_RENEWAL_LEAD: the card is charged this long before the period ends
GRACE = timedelta(days=3)  # MOVIX_GRACE_PERIOD: access after the period's end while the renewal is unpaid
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3))  # soft declines, after the first failure
STEP = timedelta(seconds=60)  # how far past a due time an advance lands
TOLERANCE = 10.0  # s: how long after an advance's `now` the jobs it ran may record their times

CARD_UNLISTED = "4000000000000002"  # Luhn-valid, not in the test-card table: the holder name decides
CARD_NO_3DS = "4000000000003055"
PRICE = h.PLAN_PRICES["premium_1m"]


# --------------------------------------------------------------------------- helpers


def advance_to(internal: h.Api, when: datetime) -> datetime:
    """Moves the service clock to `when` (or a second past it); returns the service's now after
    the advance, whose due jobs have run by then."""
    seconds = max(0, math.ceil((when - service_now(internal)).total_seconds()))
    now = h.parse_time(clock_advance(internal, seconds)["now"])
    assert now >= when - h.ONE_SECOND, f"the clock did not reach {when.isoformat()}: {now.isoformat()}"
    return now


def card_label(number: str) -> str:
    return f"Visa •••• {number[-4:]}"


def wait_active(user: h.User) -> dict:
    return h.wait_until(lambda: (s := user.api.subscription()) and s["status"] == "active" and s,
                        10, what="the subscription to become active")


def pay_saving_the_card(user: h.User, plans: dict, sandbox: h.Sandbox, card: str = h.CARD_3DS_OK,
                        holder: str = "TEST") -> tuple[dict, dict]:
    """Checkout and a payment in the widget that saves the card; the paid invoice and the active
    subscription, which now renews automatically: next_charge is the card, a day before the end."""
    co = start_checkout(user, plans, "premium_1m")
    if card == h.CARD_3DS_OK:
        pay_with_3ds(sandbox, co)
    else:
        result = sandbox.charge_from_widget(co["widget"], card, holder)
        assert result["Success"] is True, f"{card} ({holder}) should be approved in the widget: {result}"
        assert result["Model"]["Status"] == "Completed", result
    inv = user.api.wait_invoice_status(co["invoice_id"], "paid", timeout=15)
    assert inv["kind"] == "initial" and inv["amount"] == {"amount": PRICE, "currency": "RUB"}, inv
    sub = wait_active(user)
    start, end = period_of(sub)
    h.assert_close(start, h.parse_time(inv["period"]["start"]), what="the subscription's and the invoice's period start")
    h.assert_close(end, h.add_months(start, 1), what="the first period's end and start + 1 month")
    assert sub["auto_renew"] is True, f"a first payment that saved the card turns auto-renew on: {sub}"
    assert sub["cancel_at_period_end"] is False, sub
    nc = sub["next_charge"]
    assert nc is not None, f"a renewing subscription has a next charge: {sub}"
    h.assert_close(h.parse_time(nc["at"]), end - RENEWAL_LEAD, what="next_charge.at and the period's end - 24 h")
    assert nc["amount"] == {"amount": PRICE, "currency": "RUB"}, nc
    assert nc["card"] == card_label(card), nc
    assert nc["unpaid_invoice_id"] is None and nc["failure"] is None, nc
    return inv, sub


def period_of(sub_or_invoice: dict) -> tuple[datetime, datetime]:
    period = sub_or_invoice.get("current_period") or sub_or_invoice.get("period")
    assert period, f"no period: {sub_or_invoice}"
    return h.parse_time(period["start"]), h.parse_time(period["end"])


def renewals(user: h.User) -> list[dict]:
    return [i for i in user.api.invoices() if i["kind"] == "renewal"]


def renewal_state(subscription_id: str) -> str:
    """The rows behind a renewal that did not happen, for the failure message."""
    sub = h.sql("SELECT status, current_period_start, current_period_end, auto_renew, grace_until, "
                "(extract(epoch FROM current_period_end) * 1000000)::bigint FROM subscriptions WHERE id = :'p1'::uuid", subscription_id)
    jobs = h.sql("SELECT kind, key, run_at, attempts, done_at, coalesce(last_error, '') FROM jobs "
                 "WHERE key LIKE :'p1' || '/%' ORDER BY id", subscription_id)
    invoices = h.sql("SELECT kind, status, period_start, period_end, coalesce(failure_code::text, '') FROM invoices "
                     "WHERE subscription_id = :'p1'::uuid ORDER BY created_at", subscription_id)
    text = (f"\n  subscription (status, period start, end, auto_renew, grace_until, end in µs): {sub}"
            f"\n  jobs (kind, key, run_at, attempts, done_at, last_error): {jobs}"
            f"\n  invoices (kind, status, period start, end, failure): {invoices}")
    end_us = sub[0][5] if sub else None
    for kind, key, *_ in jobs:
        if kind == "renewal" and end_us and int(end_us) - 5 <= int(key.rsplit("/", 1)[1]) <= int(end_us) + 5 and not key.endswith("/" + end_us):
            text += (f"\n  the renewal job's key names a period end of {key.rsplit('/', 1)[1]} µs, the period ends at "
                     f"{end_us} µs: the job does not recognise the period it was scheduled for")
    return text


def the_renewal(user: h.User, sub: dict) -> dict:
    found = renewals(user)
    assert len(found) == 1, f"expected one renewal invoice, found {len(found)}: {found}" + renewal_state(sub["id"])
    return found[0]


def assert_renewal_invoice(inv: dict, old_end: datetime, anchor: datetime):
    """A renewal invoice bills the period from the old end to the anchor's next month boundary."""
    assert inv["kind"] == "renewal", inv
    assert inv["amount"] == {"amount": PRICE, "currency": "RUB"}, inv
    assert inv["plan"]["code"] == "premium_1m", inv
    start, end = period_of(inv)
    h.assert_close(start, old_end, what="the renewal's period start and the old period's end")
    h.assert_close(end, h.add_months(anchor, 2), what="the renewal's period end and the anchor + 2 months")


def widget_of_payment_page(payment_url: str) -> dict:
    """The widget options the payment page hands the acquirer's script (its page-config)."""
    page = requests.get(payment_url, timeout=h.HTTP_TIMEOUT)
    assert page.status_code == 200 and page.headers.get("Content-Type", "").startswith("text/html"), h.describe(page)
    m = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', page.text, re.S)
    assert m, f"no page-config on {payment_url}"
    return json.loads(m.group(1))["widget"]


def attempt_times(inv: dict) -> list[datetime]:
    return [h.parse_time(a["created_at"]) for a in inv["attempts"]]


def assert_declined(inv: dict, code: int, count: int, card: str):
    assert inv["status"] == "created", f"a declined renewal stays payable: {inv}"
    assert inv["paid_at"] is None, inv
    assert inv["failure"] and inv["failure"]["code"] == code and inv["failure"]["message"].strip(), inv
    attempts = inv["attempts"]
    assert [a["status"] for a in attempts] == ["declined"] * count, f"expected {count} declined attempts: {attempts}"
    for a in attempts:
        assert a["failure"]["code"] == code, a
        assert a["card"] == {"brand": "Visa", "last_four": card[-4:]}, a
        assert a["amount"] == {"amount": PRICE, "currency": "RUB"}, a


def next_long_month_end(after: datetime) -> datetime:
    """12:00 UTC on the first 31st after `after` whose next month is shorter (31 Jan, 31 Mar, 31 May,
    31 Aug, 31 Oct): a subscription from then ends a month later on a clamped day, and only the
    billing anchor brings the next period back to the 31st (31 Oct -> 30 Nov -> 31 Dec)."""
    year, month = after.year, after.month
    while True:
        following = (year + month // 12, month % 12 + 1)
        if calendar.monthrange(year, month)[1] == 31 and calendar.monthrange(*following)[1] < 31:
            candidate = datetime(year, month, 31, 12, tzinfo=timezone.utc)
            if candidate > after + timedelta(minutes=5):
                return candidate
        year, month = following


# --------------------------------------------------------------------------- 1: renewed


@pytest.mark.advances_clock
def test_saved_card_is_charged_a_day_before_the_end_and_the_period_follows_the_anchor(new_user, plans, sandbox, internal):
    # Pay on a 31st followed by a shorter month, so that the anchor decides the renewed period's end.
    advance_to(internal, next_long_month_end(service_now(internal)))
    user = new_user()
    first, sub = pay_saving_the_card(user, plans, sandbox)
    anchor, end = period_of(sub)
    assert anchor.day == 31, f"the payment should have landed on the 31st: {sub['current_period']}"
    assert end.day < 31, f"a month after the 31st ends on a shorter month's last day: {sub['current_period']}"
    charge_at = h.parse_time(sub["next_charge"]["at"])
    assert entitlement(internal, user.id)["active"] is True

    # A minute before the charge time: nothing yet.
    advance_to(internal, charge_at - STEP)
    assert renewals(user) == [], "charged before MOVIX_RENEWAL_LEAD"
    assert user.api.subscription()["next_charge"] == sub["next_charge"]

    # Just past it: renewed by the saved card, for the period from the old end to the anchor's day.
    moved = advance_to(internal, charge_at + STEP)
    renewal = the_renewal(user, sub)
    assert renewal["status"] == "paid" and renewal["failure"] is None, renewal
    assert_renewal_invoice(renewal, end, anchor)
    new_end = h.add_months(anchor, 2)
    assert new_end.day == 31 and period_of(renewal)[1].day == 31, \
        f"the renewal should end on the anchor's day (31), not a month after {end.isoformat()}: {renewal['period']}"
    [attempt] = renewal["attempts"]
    assert attempt["status"] == "succeeded" and attempt["card"] == {"brand": "Visa", "last_four": "4242"}, attempt
    paid_at = h.parse_time(renewal["paid_at"])
    assert charge_at <= paid_at <= moved + timedelta(seconds=TOLERANCE), \
        f"paid at {paid_at.isoformat()}, not between the charge time {charge_at.isoformat()} and the advance ({moved.isoformat()})"

    renewed = user.api.subscription()
    assert renewed["id"] == sub["id"] and renewed["status"] == "active", renewed
    start2, end2 = period_of(renewed)
    h.assert_close(start2, anchor, what="the subscription's start (unchanged by the renewal)")
    h.assert_close(end2, new_end, what="current_period.end and the renewal's end")
    assert renewed["auto_renew"] is True, renewed
    nc = renewed["next_charge"]
    h.assert_close(h.parse_time(nc["at"]), new_end - RENEWAL_LEAD, what="the next charge and the new end - 24 h")
    assert h.parse_time(nc["at"]) - charge_at >= timedelta(days=28), f"next_charge.at did not move a month on: {charge_at} -> {nc}"
    assert (nc["card"], nc["unpaid_invoice_id"], nc["failure"]) == (card_label(h.CARD_3DS_OK), None, None), nc
    assert nc["amount"] == {"amount": PRICE, "currency": "RUB"}, nc
    ent = entitlement(internal, user.id)
    assert ent["active"] is True and ent["plan_code"] == "premium_1m", ent
    h.assert_close(h.parse_time(ent["until"]), new_end, what="entitlement until and the new end")
    again_first = user.api.invoice(first["id"])
    assert [again_first[k] for k in ("status", "period", "paid_at", "attempts")] == [first[k] for k in ("status", "period", "paid_at", "attempts")], \
        (first, again_first)

    # A minute before the following charge: nothing new.
    before = [(i["id"], i["status"], len(i["attempts"])) for i in user.api.invoices()]
    advance_to(internal, h.parse_time(nc["at"]) - STEP)
    assert [(i["id"], i["status"], len(i["attempts"])) for i in user.api.invoices()] == before
    again = user.api.subscription()
    assert (again["status"], again["current_period"], again["next_charge"]) == (renewed["status"], renewed["current_period"], nc), again

    assert_books_balance(internal)


# --------------------------------------------------------------------------- 2: soft decline


@pytest.mark.advances_clock
def test_soft_decline_is_retried_then_past_due_keeps_access_then_expires(new_user, plans, sandbox, internal):
    user = new_user()
    _, sub = pay_saving_the_card(user, plans, sandbox, CARD_UNLISTED, "TOKEN DECLINE 5051")
    anchor, end = period_of(sub)
    charge_at = h.parse_time(sub["next_charge"]["at"])

    # The charge is declined (insufficient funds): the renewal invoice stays payable, with the reason.
    advance_to(internal, charge_at + STEP)
    renewal = the_renewal(user, sub)
    assert_renewal_invoice(renewal, end, anchor)
    assert_declined(renewal, 5051, 1, CARD_UNLISTED)
    [first_failure] = attempt_times(renewal)
    assert first_failure >= charge_at, (first_failure, charge_at)

    s = user.api.subscription()
    assert s["status"] == "active", f"the period has not ended: {s}"
    assert s["current_period"] == sub["current_period"], s
    nc = s["next_charge"]
    assert nc["unpaid_invoice_id"] == renewal["id"], nc
    assert nc["failure"] == renewal["failure"], nc
    assert nc["card"] == card_label(CARD_UNLISTED) and nc["amount"] == {"amount": PRICE, "currency": "RUB"}, nc
    retry1 = h.parse_time(nc["at"])
    h.assert_close(retry1, first_failure + RETRY_DELAYS[0], what="the first retry and the failure + 1 day")
    assert retry1 > end, "the test means to see past_due before the first retry"
    assert entitlement(internal, user.id)["active"] is True

    # Past the period's end, before the retry: past due, access kept.
    advance_to(internal, end + (retry1 - end) / 2)
    s = user.api.subscription()
    assert s["status"] == "past_due", s
    assert s["current_period"] == sub["current_period"], s
    assert s["next_charge"]["unpaid_invoice_id"] == renewal["id"], s
    h.assert_close(h.parse_time(s["next_charge"]["at"]), retry1, what="the first retry, unchanged")
    ent = entitlement(internal, user.id)
    assert ent["active"] is True and ent["plan_code"] == "premium_1m", f"past_due keeps access for the grace: {ent}"
    assert_declined(user.api.invoice(renewal["id"]), 5051, 1, CARD_UNLISTED)

    # The first retry, a day after the first failure: declined again; the next one at +3 days.
    moved = advance_to(internal, retry1 + STEP)
    inv = user.api.invoice(renewal["id"])
    assert_declined(inv, 5051, 2, CARD_UNLISTED)
    assert retry1 <= attempt_times(inv)[1] <= moved + timedelta(seconds=TOLERANCE), inv["attempts"]
    s = user.api.subscription()
    assert s["status"] == "past_due", s
    retry2 = h.parse_time(s["next_charge"]["at"])
    h.assert_close(retry2, first_failure + RETRY_DELAYS[1], what="the second retry and the failure + 3 days")
    assert retry2 < end + GRACE, (retry2, end)

    # The second retry: declined; the schedule's next (+5 days) would come after access ends, so none is left.
    moved = advance_to(internal, retry2 + STEP)
    inv = user.api.invoice(renewal["id"])
    assert_declined(inv, 5051, 3, CARD_UNLISTED)
    assert retry2 <= attempt_times(inv)[2] <= moved + timedelta(seconds=TOLERANCE), inv["attempts"]
    s = user.api.subscription()
    assert s["status"] == "past_due", s
    nc = s["next_charge"]
    assert nc["at"] is None, f"no automatic try should be left: {nc}"
    assert nc["unpaid_invoice_id"] == renewal["id"] and nc["failure"]["code"] == 5051, nc
    assert entitlement(internal, user.id)["active"] is True

    # Past the grace: expired, no access, the renewal invoice closed; nothing was charged again.
    advance_to(internal, end + GRACE + STEP)
    s = user.api.subscription()
    assert s["status"] == "expired", s
    assert s["next_charge"] is None, s
    assert s["current_period"] == sub["current_period"], s
    ent = entitlement(internal, user.id)
    assert ent["active"] is False and ent["until"] is None, ent
    inv = user.api.invoice(renewal["id"])
    assert inv["status"] == "canceled", inv
    assert [a["status"] for a in inv["attempts"]] == ["declined"] * 3, inv["attempts"]
    assert [i["id"] for i in renewals(user)] == [renewal["id"]]

    assert_books_balance(internal)


# --------------------------------------------------------------------------- 3: a new card in past_due


@pytest.mark.advances_clock
def test_hard_decline_then_another_card_during_past_due_renews_from_the_old_end(new_user, plans, sandbox, internal):
    user = new_user()
    _, sub = pay_saving_the_card(user, plans, sandbox, CARD_UNLISTED, "TOKEN DECLINE 5054")
    anchor, end = period_of(sub)
    charge_at = h.parse_time(sub["next_charge"]["at"])

    # Expired card: a hard decline, never tried again.
    advance_to(internal, charge_at + STEP)
    renewal = the_renewal(user, sub)
    assert_renewal_invoice(renewal, end, anchor)
    assert_declined(renewal, 5054, 1, CARD_UNLISTED)
    s = user.api.subscription()
    assert s["status"] == "active", s
    nc = s["next_charge"]
    assert nc["at"] is None, f"a hard decline leaves no automatic try: {nc}"
    assert nc["unpaid_invoice_id"] == renewal["id"] and nc["failure"]["code"] == 5054, nc

    # Past the end: past due, access kept, still no try.
    advance_to(internal, end + STEP)
    s = user.api.subscription()
    assert s["status"] == "past_due", s
    assert s["next_charge"]["at"] is None and s["next_charge"]["unpaid_invoice_id"] == renewal["id"], s
    assert entitlement(internal, user.id)["active"] is True
    assert_declined(user.api.invoice(renewal["id"]), 5054, 1, CARD_UNLISTED)

    # Another card pays the renewal invoice, through the widget its payment page offers.
    payment_url = user.api.invoice(renewal["id"])["payment_url"]
    widget = widget_of_payment_page(payment_url)
    assert widget["invoiceId"] == renewal["id"] and widget["accountId"] == h.account_id(user.id), widget
    assert abs(float(widget["amount"]) - PRICE / 100) < 1e-9 and widget["currency"] == "RUB", widget
    result = sandbox.charge_from_widget(widget, CARD_NO_3DS)
    assert result["Success"] is True and result["Model"]["Status"] == "Completed", result
    paid = user.api.wait_invoice_status(renewal["id"], "paid", timeout=15)
    assert [a["status"] for a in paid["attempts"]] == ["declined", "succeeded"], paid["attempts"]
    assert paid["attempts"][1]["card"] == {"brand": "Visa", "last_four": "3055"}, paid["attempts"]
    assert paid["failure"] is None and paid["refunds"] == [], paid
    # The period it bought starts at the old end (no gap for the days in past_due), not at the payment.
    assert_renewal_invoice(paid, end, anchor)
    assert h.parse_time(paid["paid_at"]) > end, paid

    s = wait_active(user)
    start2, end2 = period_of(s)
    h.assert_close(start2, anchor, what="the subscription's start (unchanged)")
    h.assert_close(end2, period_of(paid)[1], what="current_period.end and the renewal invoice's period end")
    nc = s["next_charge"]
    assert nc is not None and nc["unpaid_invoice_id"] is None and nc["failure"] is None, nc
    h.assert_close(h.parse_time(nc["at"]), end2 - RENEWAL_LEAD, what="the next charge and the new end - 24 h")
    assert nc["card"] == card_label(CARD_NO_3DS), f"the new card should be the one renewals charge now: {nc}"
    ent = entitlement(internal, user.id)
    assert ent["active"] is True, ent
    h.assert_close(h.parse_time(ent["until"]), end2, what="entitlement until and the new end")

    # The old period's deadline (end + grace) passes: it no longer applies.
    advance_to(internal, end + GRACE + STEP)
    s = user.api.subscription()
    assert s["status"] == "active" and period_of(s)[1] == end2, s
    assert entitlement(internal, user.id)["active"] is True
    assert [(i["id"], i["status"]) for i in renewals(user)] == [(renewal["id"], "paid")]

    assert_books_balance(internal)
