"""A person subscribes in headless Chromium: /demo -> plan -> payment page ->
sandbox card form (iframe) -> 3-D Secure -> live status turns "paid"."""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import pytest

import harness as h

selenium = pytest.importorskip("selenium", reason="pip install selenium (scripts/test installs it)")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = os.environ.get("MOVIX_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MOVIX_E2E_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def browser(request):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.fail(f"{path} missing: apt-get install chromium chromium-driver", pytrace=False)
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never download anything
    profile = tempfile.mkdtemp(prefix="movix-e2e-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=ru-RU", f"--user-data-dir={profile}",
                "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    # A Russian-speaking viewer: headless Chromium ignores --lang for Accept-Language.
    opts.add_experimental_option("prefs", {"intl.accept_languages": "ru-RU,ru"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver

    h.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    rep = getattr(request.node, "rep_call", None)
    outcome = "passed" if rep is not None and rep.passed else "failed"
    stem = h.SCREENSHOT_DIR / f"{request.node.name}-{outcome}"
    try:
        driver.switch_to.default_content()
        driver.save_screenshot(f"{stem}.png")
        if outcome == "failed":
            (stem.with_suffix(".html")).write_text(driver.page_source)
            print(f"\n[e2e] url: {driver.current_url}\n[e2e] screenshot: {stem}.png, page: {stem}.html")
    except WebDriverException as exc:
        print(f"[e2e] could not save a screenshot: {exc}")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def visible_iframe(driver):
    for frame in driver.find_elements(By.TAG_NAME, "iframe"):
        if frame.is_displayed() and frame.size["height"] > 50:
            return frame
    return False


def fill_card_form(browser, number: str, three_ds: bool):
    """Inside the widget's iframe: enter a card, submit, pass 3-D Secure; wait for the result."""
    wait = WebDriverWait(browser, 20)
    wait.until(EC.visibility_of_element_located((By.ID, "card-number"))).send_keys(number)
    browser.find_element(By.ID, "card-exp").send_keys("12/30")
    browser.find_element(By.ID, "card-cvv").send_keys("123")
    browser.find_element(By.ID, "card-holder").send_keys("IVAN PETROV")
    browser.find_element(By.ID, "card-submit").click()
    if three_ds:
        # The 3-D Secure challenge page of the sandbox ACS, inside the same widget.
        wait.until(EC.element_to_be_clickable((By.ID, "acs-confirm"))).click()
    try:
        result = WebDriverWait(browser, 5).until(EC.visibility_of_element_located((By.ID, "sandbox-result")))
        print(f"[e2e] sandbox result: {result.text!r}")
    except (TimeoutException, WebDriverException):
        pass  # the widget closes itself on success; the page's status is what matters


def pay_with_new_card(browser, number: str, three_ds: bool, leave_open: bool = False):
    """Press Pay, fill the sandbox card form in the widget's iframe, pass 3-D Secure, come back.
    `leave_open`: stay inside the widget (after a decline it offers Try again)."""
    wait = WebDriverWait(browser, 20)
    wait.until(EC.element_to_be_clickable((By.ID, "pay-button"))).click()
    # The acquirer widget: an overlay with the sandbox's hosted card form in an iframe.
    frame = wait.until(visible_iframe, "the acquirer widget's iframe did not appear")
    browser.switch_to.frame(frame)
    fill_card_form(browser, number, three_ds)
    if not leave_open:
        browser.switch_to.default_content()


def test_subscribe_in_the_browser(movix, browser, plans):
    wait = WebDriverWait(browser, 20)
    browser.get(f"{movix.api_base}/demo")

    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'button[data-plan-code="premium_1m"]'))).click()
    wait.until(EC.url_matches(r"/pay/[0-9a-fA-F-]{36}"))
    invoice_id = re.search(r"/pay/([0-9a-fA-F-]{36})", browser.current_url).group(1)

    title = wait.until(EC.visibility_of_element_located((By.ID, "plan-title"))).text.strip()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru", "the payment page should be in Russian"
    assert title, "#plan-title is empty"
    assert re.search(r"\b1\b", title) and ("Premium" in title or "Премиум" in title), f"#plan-title {title!r} is not the 1-month plan"
    amount = browser.find_element(By.ID, "amount").text
    assert "299" in re.sub(r"\s", "", amount), f"#amount shows {amount!r}"

    status = browser.find_element(By.ID, "status")
    assert status.get_attribute("data-status") == "created", status.get_attribute("outerHTML")

    new_card = browser.find_element(By.CSS_SELECTOR, 'input[name="payment_method"][value="new"]')
    assert new_card.is_selected(), "a new card should be the default payment method for a new customer"

    pay_with_new_card(browser, "4242 4242 4242 4242", three_ds=True)

    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="paid"]')),
        "the payment page did not show the paid status",
    )
    WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "watch-link")))

    # The page and the API agree.
    if movix.demo_token:
        api = h.Api(movix.api_base, movix.demo_token)
        assert api.invoice(invoice_id)["status"] == "paid"
        assert api.subscription()["status"] == "active"


def test_declined_card_then_another_card_in_the_same_widget(movix, browser, new_user):
    """As the real widget allows: after a decline the payer tries again in the widget, same invoice."""
    user = new_user()
    co = user.api.checkout("premium_1m")
    browser.get(co["payment_url"])
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "pay-button")))

    pay_with_new_card(browser, "4000 0566 5566 5556", three_ds=False, leave_open=True)
    result = WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "sandbox-result")))
    assert result.text.strip(), "the widget shows no decline"
    WebDriverWait(browser, 10).until(EC.element_to_be_clickable((By.ID, "sandbox-retry"))).click()
    fill_card_form(browser, "4000 0000 0000 3055", three_ds=False)
    browser.switch_to.default_content()

    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="paid"]')),
        "the retry in the widget did not pay the invoice",
    )
    inv = user.api.invoice(co["invoice_id"])
    assert inv["status"] == "paid", inv
    assert [a["status"] for a in inv["attempts"]] == ["declined", "succeeded"], inv
    assert inv["refunds"] == [], inv


def test_declined_card_in_the_browser(movix, browser, new_user):
    """A viewer whose card is declined closes the widget, sees why on the page, and pays again from it."""
    user = new_user()
    co = user.api.checkout("premium_1m")
    browser.get(co["payment_url"])
    WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.ID, "pay-button")))

    pay_with_new_card(browser, "4000 0566 5566 5556", three_ds=False)
    WebDriverWait(browser, 10).until(EC.element_to_be_clickable((By.ID, "sandbox-widget-close"))).click()

    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="declined"]')),
        "the payment page did not show the decline",
    )
    status = browser.find_element(By.ID, "status").text
    assert status.strip(), "the decline has no text"
    assert not browser.find_element(By.ID, "watch-link").is_displayed()
    # The invoice stays payable: the Pay button is back for another card.
    WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.ID, "pay-button")))
    inv = user.api.invoice(co["invoice_id"])
    assert inv["status"] == "created" and inv["failure"]["code"] == 5051, inv

    pay_with_new_card(browser, "4000 0000 0000 3055", three_ds=False)
    WebDriverWait(browser, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, '#status[data-status="paid"]')),
        "the second card did not pay the same invoice",
    )
    inv = user.api.invoice(co["invoice_id"])
    assert [a["status"] for a in inv["attempts"]] == ["declined", "succeeded"], inv
