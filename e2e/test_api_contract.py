"""The public, internal and webhook HTTP contract, without a payment."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import harness as h


def test_plans(plans):
    assert set(plans) == set(h.PLAN_PRICES), sorted(plans)
    for code, plan in plans.items():
        uuid.UUID(plan["id"])
        assert plan["tier"] == "premium", plan
        assert plan["period_months"] == h.PLAN_MONTHS[code], plan
        assert plan["price"] == {"amount": h.PLAN_PRICES[code], "currency": "RUB"}, plan
        assert isinstance(plan["title"], str) and plan["title"].strip(), plan


def test_requests_without_a_valid_token_are_rejected(movix, anon):
    h.assert_problem(anon.get("/v1/subscription"), 401)
    forged = h.Api(movix.api_base, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
    h.assert_problem(forged.post("/v1/checkout", {"plan_id": "premium_1m"}), 401)
    h.assert_problem(anon.get(f"/internal/v1/entitlements/{uuid.uuid4()}"), 401)


def test_checkout_idempotency_and_open_invoice_reuse(new_user, plans):
    user = new_user()
    key = str(uuid.uuid4())
    first = user.api.post("/v1/checkout", {"plan_id": "premium_3m"}, headers={"Idempotency-Key": key})
    assert first.status_code == 201, h.describe(first)
    replay = user.api.post("/v1/checkout", {"plan_id": "premium_3m"}, headers={"Idempotency-Key": key})
    assert replay.status_code == 201, h.describe(replay)
    assert replay.json() == first.json()

    h.assert_problem(user.api.post("/v1/checkout", {"plan_id": "premium_6m"}, headers={"Idempotency-Key": key}), 422)

    # No key: the open invoice for the same plan is returned, not a second one.
    same = user.api.checkout(plans["premium_3m"]["id"], expect=200)
    assert same["invoice_id"] == first.json()["invoice_id"]
    assert [i["id"] for i in user.api.invoices()] == [same["invoice_id"]]

    inv = user.api.invoice(same["invoice_id"])
    assert inv["status"] == "created" and inv["amount"] == {"amount": 79900, "currency": "RUB"}, inv
    assert inv.get("failure") is None, inv


def test_invoices_are_private(new_user):
    alice, bob = new_user(), new_user()
    co = alice.api.checkout("premium_1m")
    h.assert_problem(bob.api.get(f"/v1/invoices/{co['invoice_id']}"), 404)
    assert bob.api.invoices() == []
    assert bob.api.subscription() is None


def test_unknown_plan_is_a_problem(new_user):
    user = new_user()
    r = user.api.post("/v1/checkout", {"plan_id": "premium_99m"})
    assert 400 <= r.status_code < 500, h.describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/problem+json"), h.describe(r)


def _webhook(api: h.Api, kind: str, fields: dict, signature: str | None = None):
    body = urlencode(fields).encode()
    return api.session.post(
        f"{api.base}/webhooks/cloudpayments/{kind}",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Content-HMAC": signature if signature is not None else h.sign(body)},
        timeout=h.HTTP_TIMEOUT,
    )


def test_webhooks_verify_signatures_and_answer_check(new_user, anon):
    user = new_user()
    co = user.api.checkout("premium_1m")
    fields = {
        "TransactionId": "990000001", "Amount": "299.00", "Currency": "RUB", "PaymentAmount": "299.00",
        "PaymentCurrency": "RUB", "DateTime": h.utcnow().strftime("%Y-%m-%d %H:%M:%S"), "CardFirstSix": "424242",
        "CardLastFour": "4242", "CardType": "Visa", "CardExpDate": "12/30", "TestMode": "1", "Status": "Completed",
        "OperationType": "Payment", "InvoiceId": co["invoice_id"], "AccountId": h.account_id(user.id),
    }
    # A forged Pay changes nothing.
    forged = _webhook(anon, "pay", fields, signature=h.sign(urlencode(fields).encode(), "not-the-secret"))
    assert forged.status_code == 401, h.describe(forged)
    assert _webhook(anon, "pay", fields, signature="").status_code == 401
    assert user.api.invoice(co["invoice_id"])["status"] == "created"

    # Check: wrong amount -> 12, another account -> 11, unknown invoice -> 10, the right one -> 0.
    r = _webhook(anon, "check", dict(fields, Amount="1.00", PaymentAmount="1.00"))
    assert r.status_code == 200 and r.json() == {"code": 12}, h.describe(r)
    r = _webhook(anon, "check", dict(fields, AccountId=user.id))
    assert r.status_code == 200 and r.json() == {"code": 11}, h.describe(r)
    r = _webhook(anon, "check", dict(fields, InvoiceId=str(uuid.uuid4())))
    assert r.status_code == 200 and r.json() == {"code": 10}, h.describe(r)
    r = _webhook(anon, "check", fields)
    assert r.status_code == 200 and r.json() == {"code": 0}, h.describe(r)
    assert user.api.invoice(co["invoice_id"])["status"] in ("created", "pending")


def test_payment_page_is_russian_by_default(new_user, anon):
    user = new_user()
    co = user.api.checkout("premium_1m")
    page = anon.session.get(co["payment_url"], timeout=h.HTTP_TIMEOUT)
    assert page.status_code == 200 and page.headers.get("Content-Type", "").startswith("text/html"), h.describe(page)
    assert '<html lang="ru"' in page.text
    for element in ('id="plan-title"', 'id="amount"', 'name="payment_method"', 'id="pay-button"', 'id="status"', 'id="watch-link"'):
        assert element in page.text, f"payment page lacks {element}"
    assert 'data-status="created"' in page.text
    english = anon.session.get(co["payment_url"] + "&lang=en", timeout=h.HTTP_TIMEOUT)
    assert english.status_code == 200 and '<html lang="en"' in english.text, h.describe(english)
