"""Renewals on the account page, in headless Chromium: the next charge (date, amount, card) of a
subscription that renews, and, once it has renewed, the next one; a declined renewal's box (why,
the next try or none left, access until) whose "Pay with another card" link opens the renewal's
payment page, where a good card in the sandbox widget makes the subscription active again; and
"Change card", whose 1-ruble card check, paid with another card in the widget and refunded at
once, makes the next charge name that card.

The account page is reached as test_browser_account.py reaches it: the paid invoice's payment page
(from `payment_url`), then its "Моя подписка" link to /account/{user}?t=... Page tokens live an
hour of service time, so after every move of the clock the page is reached again from a fresh
`payment_url`. The two renewal tests move the service clock (`advances_clock`) and compute what
they expect from what the API answers, as test_renewals.py does; changing the card (a `card_check`
invoice of 1 ruble paid in the widget, then refunded) needs no clock and moves none."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import harness as h
from test_payment_flows import entitlement, start_checkout
from test_renewals import (CARD_NO_3DS, CARD_UNLISTED, GRACE, PRICE, STEP, advance_to, card_label, period_of,
                           the_renewal, wait_active)

pytest.importorskip("selenium", reason="pip install selenium (scripts/test installs it)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

from test_browser_account import money_en, money_ru, page_lang, switch_language, wait  # noqa: E402
from test_browser_payment import browser, pay_with_new_card  # noqa: E402,F401

MONTHS_RU = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"]


def date_en(moment) -> str:
    """How the pages write a date in English: 1 April 2027 (UTC)."""
    return f"{moment.day} {moment:%B} {moment.year}"


def date_ru(moment) -> str:
    """... and in Russian: 1 апреля 2027 г."""
    return f"{moment.day} {MONTHS_RU[moment.month - 1]} {moment.year} г."


def next_charge_text(at, card: str, lang: str) -> str:
    if lang == "ru":
        return f"{date_ru(at)}, {money_ru(PRICE)}, {card}"
    return f"{date_en(at)}, {money_en(PRICE)}, {card}"


def open_account_page(browser, user: h.User, paid_invoice_id: str, lang: str = "ru"):
    """The account page through a paid invoice's payment page and its account link, in `lang`."""
    browser.get(user.api.invoice(paid_invoice_id)["payment_url"])
    link = wait(browser).until(EC.visibility_of_element_located((By.ID, "account-link")))
    link.click()
    wait(browser).until(EC.url_matches(rf"/account/{user.id}\?t=[^&]+"))
    wait(browser).until(EC.visibility_of_element_located((By.ID, "subscription-status")))
    if page_lang(browser) != lang:
        switch_language(browser, lang)


def text_of(browser, selector: str) -> str:
    """An element's text with the no-break spaces ICU puts in Russian dates ("2027\u202fг.") as spaces."""
    return browser.find_element(By.CSS_SELECTOR, selector).text.strip().replace("\u202f", " ").replace("\xa0", " ")


def status_of(browser) -> tuple[str, str]:
    status = browser.find_element(By.ID, "subscription-status")
    return status.get_attribute("data-status"), status.text.strip()


def screenshot(browser, request, name: str):
    h.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(h.SCREENSHOT_DIR / f"{request.node.name}-{name}.png"))


def pay_saving_the_3ds_card(browser, user: h.User, co: dict) -> dict:
    """Pays the checkout on its payment page with the 3-D Secure card (the widget saves it);
    returns the active subscription."""
    browser.get(co["payment_url"])
    wait(browser).until(EC.visibility_of_element_located((By.ID, "pay-button")))
    pay_with_new_card(browser, "4242 4242 4242 4242", three_ds=True)
    wait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="paid"]')),
                            "the payment page did not show the paid status")
    return wait_active(user)


@pytest.mark.advances_clock
def test_account_page_shows_the_next_charge_and_moves_it_after_the_renewal(movix, browser, new_user, internal, request):
    user = new_user()
    co = user.api.checkout("premium_1m")

    sub = pay_saving_the_3ds_card(browser, user, co)
    assert sub["auto_renew"] is True, sub
    charge_at = h.parse_time(sub["next_charge"]["at"])
    card = card_label(h.CARD_3DS_OK)
    assert sub["next_charge"]["card"] == card, sub

    # The account page, in Russian, then in English: the next charge's date, amount and card.
    wait(browser, 10).until(EC.visibility_of_element_located((By.ID, "account-link"))).click()
    wait(browser).until(EC.url_matches(rf"/account/{user.id}\?t=[^&]+"))
    assert status_of(browser) == ("active", "Активна")
    assert text_of(browser, "#auto-renew") == "включено"
    assert text_of(browser, "#next-charge") == next_charge_text(charge_at, card, "ru")
    assert browser.find_elements(By.ID, "declined-renewal") == [], "a renewal that was never tried shows as declined"
    switch_language(browser, "en")
    assert text_of(browser, "#auto-renew") == "on"
    assert text_of(browser, "#next-charge") == next_charge_text(charge_at, card, "en")
    screenshot(browser, request, "next-charge-en")

    # A day before the end the card is charged: the page shows the renewal paid and the charge after it.
    advance_to(internal, charge_at + STEP)
    renewal = the_renewal(user, sub)
    assert renewal["status"] == "paid", renewal
    renewed = user.api.subscription()
    new_charge_at = h.parse_time(renewed["next_charge"]["at"])
    assert new_charge_at - charge_at >= timedelta(days=28), (sub["next_charge"], renewed["next_charge"])
    open_account_page(browser, user, co["invoice_id"], "en")
    assert status_of(browser) == ("active", "Active")
    assert text_of(browser, "#next-charge") == next_charge_text(new_charge_at, card, "en")
    _, new_end = period_of(renewed)
    assert text_of(browser, "#period").endswith(date_en(new_end)), text_of(browser, "#period")
    rows = browser.find_elements(By.CSS_SELECTOR, "#payments tr.payment")
    assert len(rows) == 2 and all(money_en(PRICE) in r.text for r in rows), browser.find_element(By.ID, "payments").get_attribute("outerHTML")
    assert browser.find_elements(By.ID, "declined-renewal") == []
    screenshot(browser, request, "renewed-en")


@pytest.mark.advances_clock
def test_declined_renewal_is_paid_with_another_card_from_the_account_page(movix, browser, new_user, plans, sandbox, internal, request):
    user = new_user()
    co = start_checkout(user, plans)
    result = sandbox.charge_from_widget(co["widget"], CARD_UNLISTED, "TOKEN DECLINE 5051")
    assert result["Success"] is True, result
    user.api.wait_invoice_status(co["invoice_id"], "paid", timeout=15)
    sub = wait_active(user)
    _, end = period_of(sub)
    charge_at = h.parse_time(sub["next_charge"]["at"])

    # The renewal charge is declined (insufficient funds): the box says why, when we try again,
    # and how long access lasts; the page is still "active".
    advance_to(internal, charge_at + STEP)
    renewal = the_renewal(user, sub)
    assert renewal["status"] == "created" and renewal["failure"]["code"] == 5051, renewal
    nc = user.api.subscription()["next_charge"]
    retry1 = h.parse_time(nc["at"])
    access_until = end + GRACE
    open_account_page(browser, user, co["invoice_id"], "en")
    assert status_of(browser) == ("active", "Active")
    box = text_of(browser, "#declined-renewal")
    assert box.startswith("The renewal payment did not go through: Insufficient funds"), box
    assert f"We will try again on {date_en(retry1)}." in box, box
    assert date_en(access_until) in box and f"{access_until:%H:%M} UTC" in box, f"access until {access_until}: {box}"
    pay_link = browser.find_element(By.ID, "pay-renewal")
    assert f"/pay/{renewal['id']}?t=" in pay_link.get_attribute("href"), pay_link.get_attribute("href")
    assert pay_link.text.strip() == "Pay with another card", pay_link.text
    screenshot(browser, request, "declined-en")

    # Both retries declined too, and the period has ended: past due, no automatic try left.
    advance_to(internal, retry1 + STEP)
    retry2 = h.parse_time(user.api.subscription()["next_charge"]["at"])
    advance_to(internal, retry2 + STEP)
    s = user.api.subscription()
    assert s["status"] == "past_due" and s["next_charge"]["at"] is None, s
    open_account_page(browser, user, co["invoice_id"], "ru")
    assert status_of(browser) == ("past_due", "Платёж просрочен")
    box = text_of(browser, "#declined-renewal")
    assert box.startswith("Не удалось списать плату за продление: Недостаточно средств"), box
    assert "Автоматических попыток больше не будет: оплатите другой картой." in box, box
    assert date_ru(access_until) in box, box
    switch_language(browser, "en")
    box = text_of(browser, "#declined-renewal")
    assert "There will be no more automatic tries: pay with another card." in box, box
    assert date_en(access_until) in box, box
    assert status_of(browser) == ("past_due", "Payment overdue")
    screenshot(browser, request, "past-due-en")

    # "Pay with another card": the renewal's payment page; a good card in the sandbox widget pays it.
    browser.find_element(By.ID, "pay-renewal").click()
    wait(browser).until(EC.url_contains(f"/pay/{renewal['id']}"))
    status = wait(browser).until(EC.visibility_of_element_located((By.ID, "status")))
    assert status.get_attribute("data-status") == "declined", status.get_attribute("outerHTML")
    assert "299" in text_of(browser, "#amount"), text_of(browser, "#amount")
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="payment_method"][value="new"]').is_selected()
    pay_with_new_card(browser, "4000 0000 0000 3055", three_ds=False)
    wait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="paid"]')),
                            "the renewal's payment page did not show the paid status")
    screenshot(browser, request, "renewal-paid")

    paid = user.api.invoice(renewal["id"])
    assert paid["status"] == "paid", paid
    assert [a["status"] for a in paid["attempts"]] == ["declined"] * 3 + ["succeeded"], paid["attempts"]
    s = wait_active(user)
    h.assert_close(period_of(s)[1], period_of(paid)[1], what="current_period.end and the renewal's period end")
    h.assert_close(period_of(paid)[0], end, what="the renewal's start and the old end")
    assert entitlement(internal, user.id)["active"] is True

    # Back on the account page: active, no declined box, the next charge on the new card.
    wait(browser, 10).until(EC.visibility_of_element_located((By.ID, "account-link"))).click()
    wait(browser).until(EC.url_matches(rf"/account/{user.id}\?t=[^&]+"))
    assert page_lang(browser) == "en"
    assert status_of(browser) == ("active", "Active")
    assert browser.find_elements(By.ID, "declined-renewal") == []
    assert text_of(browser, "#next-charge") == next_charge_text(h.parse_time(s["next_charge"]["at"]), card_label(CARD_NO_3DS), "en")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#payments tr.payment")) == 2
    screenshot(browser, request, "active-again-en")


def test_change_card_from_the_account_page(movix, browser, new_user, internal, request):
    user = new_user()
    co = user.api.checkout("premium_1m")

    sub = pay_saving_the_3ds_card(browser, user, co)  # renewals charge it
    charge_at = h.parse_time(sub["next_charge"]["at"])
    first_card = card_label(h.CARD_3DS_OK)
    assert sub["auto_renew"] is True and sub["next_charge"]["card"] == first_card, sub

    # The account page names the first card and offers to change it.
    open_account_page(browser, user, co["invoice_id"], "ru")
    assert status_of(browser) == ("active", "Активна")
    assert text_of(browser, "#next-charge") == next_charge_text(charge_at, first_card, "ru")
    button = browser.find_element(By.ID, "change-card-button")
    assert button.text.strip() == "Сменить карту", button.text
    screenshot(browser, request, "account-ru")

    # "Change card": a card check of 1 ruble, on its own payment page, for a new card only.
    button.click()
    wait(browser).until(EC.url_matches(r"/pay/[0-9a-fA-F-]{36}\?t=[^&]+"))
    check_id = re.search(r"/pay/([0-9a-fA-F-]{36})", browser.current_url).group(1)
    assert check_id != co["invoice_id"], browser.current_url
    title = wait(browser).until(EC.visibility_of_element_located((By.ID, "plan-title"))).text.strip()
    assert page_lang(browser) == "ru"
    assert title == "Новая карта для автопродления", title
    assert text_of(browser, "#amount") == money_ru(100), text_of(browser, "#amount")
    note = text_of(browser, "#payment-note")
    assert "1 ₽" in note and "вернём" in note, note
    status = browser.find_element(By.ID, "status")
    assert status.get_attribute("data-status") == "created", status.get_attribute("outerHTML")
    methods = browser.find_elements(By.CSS_SELECTOR, 'input[name="payment_method"]')
    assert [m.get_attribute("value") for m in methods] == ["new"], browser.find_element(By.ID, "pay-form").get_attribute("outerHTML")
    assert methods[0].is_selected()
    check = user.api.invoice(check_id)
    assert (check["kind"], check["status"], check["amount"]) == ("card_check", "created", {"amount": 100, "currency": "RUB"}), check
    screenshot(browser, request, "card-check-ru")

    # Another card in the sandbox widget (no 3-D Secure): paid, and the ruble comes straight back.
    pay_with_new_card(browser, "4000 0000 0000 3055", three_ds=False)
    wait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="refunded"]')),
                            "the card check's payment page did not end as refunded")
    assert text_of(browser, "#status-text") == "Деньги возвращены", text_of(browser, "#status-text")
    assert not browser.find_element(By.ID, "watch-link").is_displayed(), "a card check leads to the movies"
    screenshot(browser, request, "card-check-refunded")

    # Back on the account page: the next charge is the same, on the new card.
    wait(browser, 10).until(EC.visibility_of_element_located((By.ID, "account-link"))).click()
    wait(browser).until(EC.url_matches(rf"/account/{user.id}\?t=[^&]+"))
    assert page_lang(browser) == "ru"
    assert status_of(browser) == ("active", "Активна")
    new_card = card_label(CARD_NO_3DS)
    assert text_of(browser, "#next-charge") == next_charge_text(charge_at, new_card, "ru")
    refund_cells = browser.find_elements(By.CSS_SELECTOR, "#payments .refund-status")
    assert [(c.text.strip(), c.get_attribute("data-status")) for c in refund_cells] == [("Возвращено", "refunded")], \
        browser.find_element(By.ID, "payments").get_attribute("outerHTML")
    assert "−" + money_ru(100) in text_of(browser, "#payments tr.refund")
    switch_language(browser, "en")
    assert text_of(browser, "#next-charge") == next_charge_text(charge_at, new_card, "en")
    assert text_of(browser, "#change-card-button") == "Change card"
    screenshot(browser, request, "card-changed-en")

    # The API agrees: the card check paid and refunded its ruble; renewals charge the new card.
    check = user.api.invoice(check_id)
    assert (check["kind"], check["status"], check["period"]) == ("card_check", "paid", None), check
    assert [(a["status"], a["card"]["last_four"]) for a in check["attempts"]] == [("succeeded", "3055")], check["attempts"]
    assert [(r["reason"], r["status"], r["amount"]["amount"]) for r in check["refunds"]] == [("card_check", "refunded", 100)], check["refunds"]
    s = user.api.subscription()
    card = s["next_charge"]["card"]
    assert card.endswith("•••• 3055") and card != first_card, s["next_charge"]
    assert card == new_card, s["next_charge"]
    assert (s["status"], s["auto_renew"], s["next_charge"]["amount"]["amount"]) == ("active", True, PRICE), s
    h.assert_close(h.parse_time(s["next_charge"]["at"]), charge_at, what="the next charge before and after the card check")
    assert period_of(s) == period_of(sub), "the card check changed the period"
    assert entitlement(internal, user.id)["active"] is True
