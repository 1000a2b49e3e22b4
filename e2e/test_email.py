"""Email under `movix-billing dev`: its SMTP sink (aiosmtpd) gets the payment email in the
viewer's language, and the account page's "Last email" link opens it."""

from __future__ import annotations

import email
import email.policy
import html
import re

import requests

import harness as h
from test_payment_flows import pay_with_3ds


def mail_to(address: str) -> list[email.message.EmailMessage]:
    """Every message dev's sink stored for `address`, oldest first."""
    found = []
    for path in sorted(h.MAIL_DIR.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if any(address in str(v) for v in message.get_all("X-Sink-Rcpt-To", [])):
            found.append(message)
    return found


def test_payment_email_reaches_the_sink_and_the_account_page_links_it(new_user, plans, sandbox):
    user = new_user()
    co = user.api.post("/v1/checkout", {"plan_id": plans["premium_1m"]["id"], "email": user.email, "language": "en"})
    assert co.status_code == 201, h.describe(co)
    co = co.json()
    pay_with_3ds(sandbox, co)
    user.api.wait_invoice_status(co["invoice_id"], "paid", timeout=15)

    messages = h.wait_until(lambda: mail_to(user.email), timeout=30, what=f"an email to {user.email} in {h.MAIL_DIR}")
    assert [str(m["Subject"]) for m in messages] == ["Your Movix subscription is paid"], [str(m["Subject"]) for m in messages]
    paid = messages[0]
    assert str(paid["To"]) == user.email
    assert paid["Content-Language"] == "en"
    text = paid.get_body(("plain",)).get_content()
    assert "RUB 299.00" in text, text

    # The pay page's account link, then the account page's link to the last email.
    page = requests.get(co["payment_url"], timeout=h.HTTP_TIMEOUT)
    account_href = html.unescape(re.search(r'id="account-link"[^>]*href="([^"]+)"', page.text).group(1))
    account = requests.get(account_href, timeout=h.HTTP_TIMEOUT)
    assert account.status_code == 200, h.describe(account)
    link = re.search(r'id="mail-link" href="([^"]+)"[^>]*>([^<]+)</a>', account.text)
    assert link, "no Last email link on the account page"
    assert html.unescape(link.group(2)) == "Your Movix subscription is paid"
    shown = requests.get(html.unescape(link.group(1)), timeout=h.HTTP_TIMEOUT)
    assert shown.status_code == 200 and "Thank you! Your subscription is paid" in shown.text, h.describe(shown)
    # Without the page token, nothing.
    assert requests.get(html.unescape(link.group(1)).split("?")[0], timeout=h.HTTP_TIMEOUT).status_code == 403
