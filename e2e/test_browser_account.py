"""The account page in headless Chromium, as a viewer uses it: pay on the payment page, follow
"Моя подписка" to /account/{user}?t=..., switch to English, open "Cancel subscription", read the
quote, confirm, and watch the refund arrive; then the same page in Russian. And /demo links to it.

Payments are made in the browser with a fresh user (checkout through the API, then the payment
page from `payment_url`, as the Movix app does), never with the fixed demo user, whose
subscription test_browser_payment.py needs. Nothing here moves the service clock: cancelling
within the first hour needs the clock to run with the acquirer's (see test_cancellation.py)."""

from __future__ import annotations

import re

import pytest

import harness as h

pytest.importorskip("selenium", reason="pip install selenium (scripts/test installs it)")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# The same Chromium (Russian-speaking, headless) and card form as the payment page's tests.
from test_browser_payment import browser, pay_with_new_card  # noqa: E402,F401


def wait(browser, timeout: float = 20) -> WebDriverWait:
    # The page reloads itself while a refund is pending: elements found a moment ago go stale.
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,))


def page_lang(browser) -> str:
    return browser.find_element(By.TAG_NAME, "html").get_attribute("lang")


def switch_language(browser, to: str):
    """Click the language link (a.lang) and wait for the page in `to`."""
    link = browser.find_element(By.CSS_SELECTOR, "a.lang")
    link.click()
    wait(browser).until(lambda b: page_lang(b) == to, f"the language link did not switch the page to {to!r}")


def text_of(browser, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text.strip()


def money_ru(amount: int) -> str:
    return f"{amount // 100},{amount % 100:02d} ₽"


def money_en(amount: int) -> str:
    return f"RUB {amount // 100}.{amount % 100:02d}"


def test_cancel_and_refund_on_the_account_page(movix, browser, new_user, internal, request):
    user = new_user()
    co = user.api.checkout("premium_1m")
    price = co["amount"]["amount"]

    # Pay on the payment page, as the Movix app sends the viewer there.
    browser.get(co["payment_url"])
    wait(browser).until(EC.visibility_of_element_located((By.ID, "pay-button")))
    assert not browser.find_element(By.ID, "account-link").is_displayed(), "the account link shows before payment"
    pay_with_new_card(browser, "4242 4242 4242 4242", three_ds=True)
    wait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="paid"]')),
                            "the payment page did not show the paid status")

    # The paid page leads to the account.
    link = wait(browser, 10).until(EC.visibility_of_element_located((By.ID, "account-link")))
    assert link.text.strip() == "Моя подписка", link.text
    link.click()
    wait(browser).until(EC.url_matches(rf"/account/{user.id}\?t=[^&]+"))
    assert page_lang(browser) == "ru"
    status = wait(browser).until(EC.visibility_of_element_located((By.ID, "subscription-status")))
    assert status.get_attribute("data-status") == "active", status.get_attribute("outerHTML")
    assert status.text.strip() == "Активна", status.text
    rows = browser.find_elements(By.CSS_SELECTOR, "#payments tr.payment")
    assert len(rows) == 1, browser.find_element(By.ID, "payments").get_attribute("outerHTML")
    assert money_ru(price) in rows[0].text, rows[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "#payments .refund-status") == []

    # In English, through the page's language link.
    switch_language(browser, "en")
    assert text_of(browser, "#subscription-status") == "Active"
    details = browser.find_element(By.ID, "cancel")
    assert details.get_attribute("open") is None, "the cancel box is open before the viewer asks"
    assert not browser.find_element(By.ID, "quote").is_displayed()

    browser.find_element(By.ID, "cancel-button").click()
    quote = wait(browser, 10).until(EC.visibility_of_element_located((By.ID, "quote"))).text.strip()
    api_quote = user.api.get("/v1/subscription/cancellation").json()
    assert api_quote["state"] == "quote" and api_quote["rule"] == "within_first_hour", api_quote
    assert api_quote["refund"]["amount"] == price, api_quote
    assert quote == api_quote["message"]["en"], f"page: {quote!r}, API: {api_quote['message']['en']!r}"
    assert quote.startswith("You paid less than an hour ago") and money_en(price) in quote and "access ends now" in quote, quote

    # Confirm: the form posts, the page comes back with the cancellation and follows the refund.
    wait(browser, 10).until(EC.element_to_be_clickable((By.ID, "confirm-cancel"))).click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "cancellation")), "no cancellation after confirming")
    # While pending, the script polls and sets data-refund-status, then reloads the page; the
    # payments table shows the refund's outcome only as the server renders it, i.e. after that reload.
    wait(browser, 30).until(
        lambda b: b.find_element(By.ID, "cancellation").get_attribute("data-refund-status") == "refunded"
        and b.find_elements(By.CSS_SELECTOR, '#payments .refund-status[data-status="refunded"]'),
        "the account page never showed the refund as refunded",
    )
    assert page_lang(browser) == "en"
    sentence = text_of(browser, "#cancellation")
    assert sentence.startswith("Subscription cancelled.") and "has been refunded" in sentence and money_en(price) in sentence, sentence
    refund_cells = browser.find_elements(By.CSS_SELECTOR, "#payments .refund-status")
    assert [(c.text.strip(), c.get_attribute("data-status")) for c in refund_cells] == [("Refunded", "refunded")], \
        browser.find_element(By.ID, "payments").get_attribute("outerHTML")
    assert money_en(price) in browser.find_element(By.CSS_SELECTOR, "#payments tr.refund").text
    status = browser.find_element(By.ID, "subscription-status")
    assert (status.get_attribute("data-status"), status.text.strip()) == ("expired", "Ended"), status.get_attribute("outerHTML")
    assert browser.find_elements(By.ID, "cancel") == [], "a cancelled subscription still offers to cancel"
    assert browser.find_elements(By.ID, "resume-button") == [], "a refunded cancellation cannot be resumed"
    h.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(h.SCREENSHOT_DIR / f"{request.node.name}-refunded-en.png"))

    # The API agrees with the page.
    c = user.api.get("/v1/subscription/cancellation").json()
    assert (c["state"], c["refund_status"]) == ("canceled", "refunded"), c
    assert sentence == c["message"]["en"], (sentence, c["message"])
    refunds = user.api.invoice(co["invoice_id"])["refunds"]
    assert [(r["reason"], r["status"], r["amount"]["amount"]) for r in refunds] == [("cancellation", "refunded", price)], refunds
    ent = internal.get(f"/internal/v1/entitlements/{user.id}").json()
    assert ent["active"] is False, ent

    # And in Russian.
    switch_language(browser, "ru")
    sentence_ru = text_of(browser, "#cancellation")
    assert sentence_ru.startswith("Подписка отменена.") and money_ru(price) in sentence_ru, sentence_ru
    assert sentence_ru == c["message"]["ru"], (sentence_ru, c["message"])
    assert [c.text.strip() for c in browser.find_elements(By.CSS_SELECTOR, "#payments .refund-status")] == ["Возвращено"]
    assert text_of(browser, "#subscription-status") == "Завершена"


def test_demo_page_links_to_the_account_page(movix, browser):
    browser.get(f"{movix.api_base}/demo?lang=en")
    link = wait(browser).until(EC.visibility_of_element_located((By.ID, "account-link")))
    assert link.text.strip() == "My subscription", link.text
    href = link.get_attribute("href")
    user = re.escape(movix.demo_user) if movix.demo_user else "[0-9a-f-]{36}"
    assert re.match(rf"{re.escape(movix.api_base)}/account/{user}\?t=[^&]+&lang=en$", href), href

    # It opens the demo user's account page (whatever the demo user bought so far).
    link.click()
    wait(browser).until(EC.url_contains("/account/"))
    assert page_lang(browser) == "en"
    assert "My Movix subscription" in text_of(browser, "h1")
    assert browser.find_elements(By.ID, "subscription-status") or browser.find_elements(By.ID, "no-subscription")
