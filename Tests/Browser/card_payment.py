#!/usr/bin/env python3
"""Paying an invoice on the card page in a real browser: Debian's headless Chromium driven by Selenium.

Run by `BrowserLiveTests` (swift test) against a live node whose stripe gateway points at
localstripe; see docs/testing.md. The card page loads Stripe.js from localstripe (its mock of
Stripe.js and the card element, served at /js.stripe.com/v3/). For each viewport (desktop
1280x900, phone 390x844 by mobile emulation) a new client registers, orders from the store,
opens the invoice and chooses "Pay by card":

  * desktop: a card declined when charged (4000000000000341) shows the decline on the card
    page and charges nothing; then 4242 4242 4242 4242 with "save this card" pays; the
    invoice page thanks once and names the saved card;
  * phone: a card that needs 3-D Secure (4000002760003184): localstripe's authentication
    dialog is completed, then the payment is received.

Every page is checked as in portal_journeys.py (nothing scrolls sideways, every control has an
accessible name; the card fields inside #card-element are exempt: they are localstripe's
stand-ins for the fields Stripe renders, labelled, inside its own frame). Prints
`PAID <viewport> <invoice id>` per paid invoice, for the Swift test to check the ledger.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import portal_journeys  # noqa: E402
from portal_journeys import Walk  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

portal_journeys.UNNAMED_CONTROLS_JS = portal_journeys.UNNAMED_CONTROLS_JS.replace(
    "if (el.type === 'hidden') continue;", "if (el.type === 'hidden' || el.closest('#card-element')) continue;"
)


class CardWalk(Walk):
    def order(self, email, product):
        self.register(f"Card client {self.viewport}", email)
        d = self.order_from_store(product, checked=False)
        return d.current_url.rstrip("/").split("/")[-1]

    def open_card_page(self):
        d = self.submit("Pay by card", "card-page")
        self.expect(d.current_url.endswith("/card"), f"'Pay by card' opens the card page, not {d.current_url}")
        self.expect(d.execute_script("return typeof Stripe === 'function'"), "the page loaded Stripe.js from the configured origin")
        WebDriverWait(d, 10).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#card-element input")) >= 4)
        self.page("card-element-mounted")
        return d

    def type_card(self, number, postal="10115"):
        d = self.driver
        for field, value in [("number", number), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123"), ("postal_code", postal)]:
            box = d.find_element(By.CSS_SELECTOR, f"#card-element input[placeholder='{field}']")
            box.clear()
            box.send_keys(value)

    def press_pay(self):
        button = self.driver.find_element(By.ID, "card-submit")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        return button

    def paid_invoice_page(self, button, label, saved=None):
        WebDriverWait(self.driver, 20).until(lambda drv: "/card" not in drv.current_url)
        d = self.page(label)
        thanks = self.flash("success")
        self.expect(any("payment was received" in f for f in thanks), f"the return thanks for the payment: {thanks} {self.flash('error')}")
        if saved:
            self.expect(any(saved in f for f in thanks), f"the saved card is named: {thanks}")
        self.expect(d.find_elements(By.CSS_SELECTOR, ".badge-success"), "the invoice shows as paid")
        rows = d.find_elements(By.XPATH, "//h2[normalize-space()='Payments']/following-sibling::div[1]//tbody/tr")
        self.expect(len(rows) == 1, f"one payment on the invoice, not {len(rows)}")
        self.driver.refresh()
        self.page(label + "-again")
        self.expect(not self.flash("success"), "the thank-you is shown once")
        return d

    def declined_then_paid(self, invoice):
        d = self.open_card_page()
        self.type_card("4000000000000341")
        self.press_pay()
        WebDriverWait(d, 15).until(lambda drv: drv.find_element(By.ID, "card-errors").text.strip() != "")
        self.page("card-declined")
        self.expect("declined" in d.find_element(By.ID, "card-errors").text, "the decline is shown on the card page")
        self.expect(d.current_url.endswith("/card"), "a declined card stays on the card page")
        self.type_card("4242424242424242")
        d.find_element(By.ID, "card-save").click()
        button = self.press_pay()
        d = self.paid_invoice_page(button, "card-paid", saved="ending in 4242")
        print(f"PAID {self.viewport} {invoice}", flush=True)

    def three_d_secure(self, invoice):
        d = self.open_card_page()
        self.type_card("4000002760003184")
        button = self.press_pay()
        confirm = WebDriverWait(d, 15).until(
            lambda drv: next(iter(drv.find_elements(By.XPATH, "//button[normalize-space()='Complete authentication']")), None)
        )
        # localstripe's stand-in for Stripe's 3-D Secure frame (a fixed 346px box, wider than a
        # phone's margins allow): kept as a screenshot, not checked as a portal page.
        self.driver.save_screenshot(os.path.join(self.out, f"{self.viewport}-card-3ds-dialog.png"))
        confirm.click()
        self.paid_invoice_page(button, "card-paid-3ds")
        print(f"PAID {self.viewport} {invoice}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--product", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--viewports", default="desktop,phone")
    args = parser.parse_args()

    def journey(walk, viewport, run):
        invoice = walk.order(f"card-{viewport}-{run}@example.com", args.product)
        if viewport == "desktop":
            walk.declined_then_paid(invoice)
        else:
            walk.three_d_secure(invoice)
        return "card pages"

    def browser_log(walk):
        print(walk.driver.get_log("browser") if hasattr(walk.driver, "get_log") else "")

    portal_journeys.run_viewports(args, CardWalk, journey, failure_name="card-failure", on_failure=browser_log)


if __name__ == "__main__":
    main()
