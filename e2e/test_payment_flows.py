"""Checkout -> sandbox acquirer -> notifications -> invoice, subscription, entitlement.

Every test mints its own user, so the tests are independent of each other and of order."""

from __future__ import annotations

import harness as h


def entitlement(internal: h.Api, user_id: str) -> dict:
    r = internal.get(f"/internal/v1/entitlements/{user_id}")
    assert r.status_code == 200, h.describe(r)
    body = r.json()
    assert body["user_id"] == user_id, body
    return body


def start_checkout(user: h.User, plans: dict, plan_code: str = "premium_1m") -> dict:
    plan = plans[plan_code]
    co = user.api.checkout(plan["id"], email=user.email, expect=201)
    assert co["status"] == "created", co
    assert co["amount"] == {"amount": h.PLAN_PRICES[plan_code], "currency": "RUB"}, co
    assert co["acquirer"] == "cloudpayments", co
    assert co["payment_url"].startswith(f"http://127.0.0.1:{h.HTTP_PORT}/pay/{co['invoice_id']}?t="), co
    w = co["widget"]
    assert w["publicId"] == h.PUBLIC_ID, w
    assert w["invoiceId"] == co["invoice_id"], w
    assert w["accountId"] == h.account_id(user.id), w
    assert w["saveCard"] is True, w
    assert w["currency"] == "RUB", w
    assert abs(float(w["amount"]) - h.PLAN_PRICES[plan_code] / 100) < 1e-9, w
    return co


def pay_with_3ds(sandbox: h.Sandbox, co: dict) -> dict:
    challenge = sandbox.charge_from_widget(co["widget"], h.CARD_3DS_OK)
    assert challenge["Success"] is False, f"a 3-D Secure card must be challenged first: {challenge}"
    model = challenge["Model"]
    assert model.get("TransactionId") and model.get("PaReq") and model.get("AcsUrl"), challenge
    result = sandbox.confirm_3ds(model)
    assert result["Success"] is True, f"post3ds failed: {result}"
    assert result["Model"]["Status"] == "Completed", result
    assert str(result["Model"]["InvoiceId"]) == co["invoice_id"], result
    return result["Model"]


def assert_paid_and_active(user: h.User, internal: h.Api, co: dict, paid_after, plans: dict) -> dict:
    """The invoice is paid, the subscription active for exactly one month, the entitlement on."""
    inv = user.api.wait_invoice_status(co["invoice_id"], "paid", timeout=15)
    assert inv["id"] == co["invoice_id"]
    assert inv["amount"] == {"amount": 29900, "currency": "RUB"}, inv
    assert inv.get("failure") is None, inv

    sub = h.wait_until(lambda: (s := user.api.subscription()) and s["status"] == "active" and s,
                       10, what="the subscription to become active")
    assert sub["plan"]["code"] == "premium_1m", sub
    assert sub["plan"]["id"] == plans["premium_1m"]["id"], sub
    start = h.parse_time(sub["current_period"]["start"])
    end = h.parse_time(sub["current_period"]["end"])
    # The period starts at the payment (not earlier, not at some later duplicate) ...
    assert paid_after - 5 * h.ONE_SECOND <= start <= h.utcnow() + 5 * h.ONE_SECOND, \
        f"period start {start.isoformat()} is not the payment time (~{paid_after.isoformat()})"
    # ... and lasts exactly one month (a double activation would give two).
    h.assert_close(end, h.add_months(start, 1), what="current_period.end and start + 1 month")
    assert isinstance(sub["auto_renew"], bool), sub

    ent = entitlement(internal, user.id)
    assert ent["active"] is True, ent
    assert ent["plan_code"] == "premium_1m", ent
    assert ent["until"], ent
    h.assert_close(h.parse_time(ent["until"]), end, what="entitlement until and period end")
    return sub


def assert_declined_5051(user: h.User, internal: h.Api, co: dict) -> dict:
    """The attempt was declined; the invoice stays payable (`created`) and shows why."""
    inv = h.wait_until(lambda: (i := user.api.invoice(co["invoice_id"])) and i["status"] == "created" and i.get("failure") and i,
                       15, what="the invoice to show the decline")
    failure = inv.get("failure")
    assert failure and failure["code"] == 5051, inv
    assert isinstance(failure["message"], str) and failure["message"].strip(), inv

    sub = user.api.subscription()
    assert sub is None or sub["status"] != "active", sub
    ent = entitlement(internal, user.id)
    assert ent["active"] is False, ent
    assert ent["plan_code"] is None and ent["until"] is None, ent
    return inv


def decline_5051(sandbox: h.Sandbox, co: dict) -> dict:
    result = sandbox.charge_from_widget(co["widget"], h.CARD_DECLINE_5051)
    assert result["Success"] is False, result
    model = result["Model"]
    assert not model.get("AcsUrl"), f"this card declines without 3-D Secure: {result}"
    assert model["ReasonCode"] == 5051, result
    assert model["Status"] == "Declined", result
    return model


# --------------------------------------------------------------------------- 1 and 2


def test_successful_3ds_payment_activates_subscription(new_user, plans, sandbox, internal):
    user = new_user()
    assert entitlement(internal, user.id)["active"] is False
    co = start_checkout(user, plans)

    paid_after = h.utcnow()
    pay_with_3ds(sandbox, co)
    assert_paid_and_active(user, internal, co, paid_after, plans)

    r = user.api.post("/v1/checkout", {"plan_id": "premium_1m"})
    h.assert_problem(r, 409)


def test_declined_card_leaves_the_invoice_payable_and_another_card_pays_it(new_user, plans, sandbox, internal):
    user = new_user()
    co = start_checkout(user, plans)
    decline_5051(sandbox, co)
    inv = assert_declined_5051(user, internal, co)
    assert [a["status"] for a in inv["attempts"]] == ["declined"], inv

    # Checkout for the same plan hands back the same invoice; a retry in the same widget pays it.
    again = user.api.checkout("premium_1m", expect=200)
    assert again["invoice_id"] == co["invoice_id"], again
    paid_after = h.utcnow()
    pay_with_3ds(sandbox, co)
    paid = assert_paid_and_active(user, internal, co, paid_after, plans)
    inv = user.api.invoice(co["invoice_id"])
    assert [a["status"] for a in inv["attempts"]] == ["declined", "succeeded"], inv
    assert inv["refunds"] == [], inv
    assert paid["status"] == "active"


# --------------------------------------------------------------------------- 3: duplicate notifications


def notifications_logged(invoice_id: str, operation: str) -> int:
    rows = h.sql("SELECT count(*) FROM acquiring_log WHERE direction = 'notification' AND operation = :'p1' "
                 "AND invoice_id = :'p2'", operation, invoice_id)
    return int(rows[0][0])


def transitions(entity_id: str) -> list[tuple[str, str]]:
    rows = h.sql("SELECT coalesce(from_state, ''), to_state FROM state_transitions WHERE entity_id = :'p1'::uuid "
                 "ORDER BY id", entity_id)
    return [(r[0], r[1]) for r in rows]


def outbox_types(user_id: str) -> list[str]:
    rows = h.sql("SELECT type FROM outbox_events WHERE user_id = :'p1'::uuid ORDER BY id", user_id)
    return [r[0] for r in rows]


def count_to(entity_id: str, state: str) -> int:
    return sum(1 for _, to in transitions(entity_id) if to == state)


def wait_for_duplicate(invoice_id: str, operation: str):
    """The sandbox really delivered the notification twice (else the test proves nothing)."""
    h.wait_until(lambda: notifications_logged(invoice_id, operation) >= 2, 10,
                 what=f"the duplicate {operation} notification for {invoice_id} in acquiring_log")


def test_duplicate_notifications_pay_once(new_user, plans, sandbox, internal, duplicate_notifications):
    user = new_user()
    co = start_checkout(user, plans)
    paid_after = h.utcnow()
    pay_with_3ds(sandbox, co)
    first = assert_paid_and_active(user, internal, co, paid_after, plans)

    wait_for_duplicate(co["invoice_id"], "pay")

    invoices = user.api.invoices()
    assert [i["status"] for i in invoices] == ["paid"], f"expected exactly one (paid) invoice: {invoices}"
    assert invoices[0]["id"] == co["invoice_id"]
    sub = user.api.subscription()
    assert sub["id"] == first["id"] and sub["status"] == "active", sub
    assert sub["current_period"] == first["current_period"], f"period moved: {first['current_period']} -> {sub['current_period']}"
    assert count_to(co["invoice_id"], "paid") == 1, transitions(co["invoice_id"])
    assert count_to(sub["id"], "active") == 1, transitions(sub["id"])
    events = outbox_types(user.id)
    assert events.count("invoice.paid") == 1 and events.count("subscription.activated") == 1, events
    h.assert_problem(user.api.post("/v1/checkout", {"plan_id": "premium_1m"}), 409)


def test_duplicate_notifications_decline_once(new_user, plans, sandbox, internal, duplicate_notifications):
    user = new_user()
    co = start_checkout(user, plans)
    decline_5051(sandbox, co)
    assert_declined_5051(user, internal, co)

    wait_for_duplicate(co["invoice_id"], "fail")

    invoices = user.api.invoices()
    assert [(i["id"], i["status"]) for i in invoices] == [(co["invoice_id"], "created")], invoices
    assert [a["status"] for a in invoices[0]["attempts"]] == ["declined"], invoices
    assert entitlement(internal, user.id)["active"] is False
    assert transitions(co["invoice_id"]).count(("pending", "created")) == 1, transitions(co["invoice_id"])
    assert outbox_types(user.id).count("invoice.payment_failed") == 1, outbox_types(user.id)
