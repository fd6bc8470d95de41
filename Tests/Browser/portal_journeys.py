#!/usr/bin/env python3
"""The portal in a real browser: Debian's headless Chromium driven by Selenium.

Run by `BrowserLiveTests` (swift test) against a live node; see docs/testing.md. For each
viewport (desktop 1280x900, phone 390x844 by mobile emulation) it walks:

  * the staff set-up journey: a wrong password keeps the e-mail, log in, create a product
    group, a product with a bad price (the form comes back with the value, the message beside
    the field and a summary), fix it, look at every staff list and a 404;
  * the client journey: register, a new account is not "welcomed back", order from the store,
    a declined card (a red flash, not a green one), pay, the overview, billing details with a
    bad country (value kept);
  * the staff follow-up: the order list names the client, terminate the service through the
    confirmation dialog, the dashboard;
  * an expired CSRF form (the nonce cookie deleted) gets the error page inside the layout,
    still showing who is logged in;
  * a visitor's flash: the password-reset request answers on the log-in page ("if that address
    has an account..."), once; the visitor's cart says "Added to your cart.";
  * sorting a staff list by its column headings (aria-sort follows, the order is kept by the
    pages), and ticket lists with status badges for client and staff.

Every page is checked: nothing scrolls sideways (documentElement.scrollWidth <= clientWidth)
and every form control has an accessible name. Screenshots of each step go to --out.
Selenium Manager is never used (SE_OFFLINE=true; the driver and browser paths are given).
"""
import argparse
import os
import shutil
import sys
import time
import traceback

os.environ["SE_OFFLINE"] = "true"
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

VIEWPORTS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}

# Accessible-name check for every control, following the parts of accname the portal uses.
UNNAMED_CONTROLS_JS = """
const unnamed = [];
for (const el of document.querySelectorAll('input, select, textarea, button, summary')) {
  if (el.type === 'hidden') continue;
  let name = (el.getAttribute('aria-label') || '').trim();
  if (!name && el.getAttribute('aria-labelledby')) {
    name = el.getAttribute('aria-labelledby').split(/\\s+/).map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
  }
  if (!name && el.labels) name = Array.from(el.labels).map(l => l.textContent).join(' ').trim();
  if (!name && (el.tagName === 'BUTTON' || el.tagName === 'SUMMARY')) name = el.textContent.trim();
  if (!name && el.type === 'submit') name = (el.value || '').trim();
  if (!name) name = (el.getAttribute('title') || '').trim();
  if (!name) unnamed.push(el.outerHTML.slice(0, 160));
}
return unnamed;
"""


class Failure(Exception):
    pass


class Walk:
    def __init__(self, base, viewport, out):
        self.base = base.rstrip("/")
        self.viewport = viewport
        self.out = out
        self.step = 0
        self.checked = 0
        width, height, mobile = VIEWPORTS[viewport]
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
                     "--no-first-run", "--disable-background-networking", "--disable-sync", "--metrics-recording-only"]:
            options.add_argument(flag)
        if mobile:
            options.add_experimental_option("mobileEmulation", {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": True},
                "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome Mobile Safari/537.36",
            })
        else:
            options.add_argument(f"--window-size={width},{height}")
        service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(30)
        self.wait = WebDriverWait(self.driver, 10)

    # --- helpers -------------------------------------------------------------------------
    def go(self, path):
        self.driver.get(self.base + path)
        return self.page(path)

    def page(self, label):
        """Checks the current page and keeps a screenshot of it."""
        d = self.driver
        self.step += 1
        name = f"{self.viewport}-{self.step:02d}-{label.strip('/').replace('/', '_') or 'root'}"
        d.save_screenshot(os.path.join(self.out, name[:90] + ".png"))
        scroll, client = d.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        inner = d.execute_script("return window.innerWidth")
        if scroll > client or scroll > inner:
            wide = d.execute_script("""
                const w = document.documentElement.clientWidth; const out = [];
                for (const el of document.querySelectorAll('body *')) { const r = el.getBoundingClientRect();
                  if (r.right > w + 1 && !el.closest('.table-wrap')) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right)); }
                return out.slice(0, 8);""")
            raise Failure(f"{self.viewport} {label}: the page scrolls sideways ({scroll}px wide in {client}px): {wide}")
        unnamed = d.execute_script(UNNAMED_CONTROLS_JS)
        if unnamed:
            raise Failure(f"{self.viewport} {label}: form controls without an accessible name: {unnamed}")
        self.checked += 1
        return d

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def expect(self, condition, message):
        if not condition:
            raise Failure(f"{self.viewport} step {self.step} ({self.driver.current_url}): {message}")

    def wait_gone(self, element):
        """Waits until `element`'s page is replaced (after a click that navigates). Chromium may
        answer a stale handle with "does not belong to the document" instead of the stale
        element error: both mean the page changed."""
        def gone(_):
            try:
                element.is_enabled()
                return False
            except WebDriverException:
                return True
        self.wait.until(gone)

    def fill(self, element_id, value):
        field = self.driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)
        return field

    def submit(self, button_text, label):
        button = self.driver.find_element(By.XPATH, f"//button[normalize-space()={xpath_literal(button_text)}]")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        self.wait_gone(button)
        return self.page(label)

    def flash(self, kind):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, f".flash-{kind}")]

    def nav_shows_logged_in(self):
        html = self.driver.find_element(By.CSS_SELECTOR, "header").get_attribute("innerHTML")
        return "Log out" in html and 'href="/register"' not in html and 'href="/login"' not in html

    def open_menu_on_phone(self):
        if VIEWPORTS[self.viewport][2]:
            toggle = self.driver.find_element(By.CSS_SELECTOR, ".menu-toggle")
            self.expect(toggle.is_displayed(), "the menu button shows on a phone")
            links = self.driver.find_elements(By.CSS_SELECTOR, "#site-nav a")
            self.expect(links and not links[0].is_displayed(), "the navigation is folded on a phone")
            toggle.click()
            self.expect(links[0].is_displayed() and toggle.get_attribute("aria-expanded") == "true", "the menu button opens the navigation")
            self.page("menu-open")
            toggle.click()

    def log_in(self, email, password):
        self.go("/login")
        self.fill("email", email)
        self.fill("password", password)
        return self.submit("Log in", "login")

    def log_out(self):
        self.driver.delete_all_cookies()

    # --- journeys ------------------------------------------------------------------------
    def staff_setup(self, staff_email, staff_password, product):
        d = self.log_in(staff_email, "not the password")
        self.expect("incorrect" in self.text(), "a wrong password says so")
        self.expect(d.find_element(By.ID, "email").get_attribute("value") == staff_email, "a wrong password keeps the e-mail")
        self.expect(d.find_element(By.ID, "password").get_attribute("aria-invalid") == "true", "the password field is marked invalid")
        d = self.log_in(staff_email, staff_password)
        self.expect(d.current_url.endswith("/admin"), f"staff land on the admin overview, not {d.current_url}")
        for card in ["Pending orders", "Overdue invoices", "Tickets waiting", "Jobs failing"]:
            self.expect(card in self.text(), f"the dashboard shows {card}")
        current = d.find_elements(By.CSS_SELECTOR, '.section-nav a[aria-current="page"]')
        self.expect([a.get_attribute("href").split("/", 3)[-1] for a in current] == ["admin"], "the current page is marked in the navigation")
        self.open_menu_on_phone()

        self.go("/admin/products")
        self.fill("group-name", f"Hosting {self.viewport}")
        self.submit("Create group", "group-created")
        self.expect(any("created" in f for f in self.flash("success")), "creating a group says so")
        self.fill("product-name", product)
        self.fill("product-price_monthly", "12,3x")
        d = self.submit("Create product", "product-bad-price")
        price = d.find_element(By.ID, "product-price_monthly")
        self.expect(price.get_attribute("value") == "12,3x", "a bad price is kept in its field")
        self.expect(d.find_element(By.ID, "product-name").get_attribute("value") == product, "the other fields are kept too")
        self.expect(price.get_attribute("aria-invalid") == "true", "the bad field is marked invalid")
        described = price.get_attribute("aria-describedby") or ""
        self.expect("product-price_monthly-error" in described, f"the message is tied to the field (aria-describedby={described!r})")
        self.expect(d.find_element(By.ID, "product-price_monthly-error").text.strip() != "", "the message sits beside the field")
        self.expect(d.find_elements(By.CSS_SELECTOR, ".error-summary li a[href='#product-price_monthly']"), "a summary links to the field")
        self.expect(self.nav_shows_logged_in(), "the re-rendered form still shows who is logged in")
        self.fill("product-price_monthly", "9.90")
        self.fill("product-setup_monthly", "")
        d = self.submit("Create product", "product-created")
        self.expect(any(product in f for f in self.flash("success")), "creating a product says so")
        self.go("/admin/support/departments")
        address = f"support-{self.viewport}-{int(time.time())}@example.com"
        self.fill("department-name", f"Support {self.viewport}")
        self.fill("department-email", address)
        self.submit("Add department", "department-created")
        self.expect(any("added" in f for f in self.flash("success")), "adding a department says so")
        self.fill("department-name", f"Second support {self.viewport}")
        self.fill("department-email", address)
        d = self.submit("Add department", "department-address-taken")
        email = d.find_element(By.ID, "department-email")
        self.expect(d.find_element(By.ID, "department-name").get_attribute("value") == f"Second support {self.viewport}", "a refused department keeps its name")
        self.expect(email.get_attribute("value") == address, "a refused department keeps its address")
        self.expect("department-email-error" in (email.get_attribute("aria-describedby") or ""), "the message is tied to the address field")
        self.expect(d.find_elements(By.CSS_SELECTOR, ".error-summary li a[href='#department-email']"), "a summary links to the address field")
        self.content_lists()
        for path in ["/admin/clients", "/admin/orders", "/admin/services", "/admin/invoices", "/admin/payments", "/admin/tickets", "/admin/support/departments", "/admin/mail", "/admin/api-tokens", "/admin/jobs", "/admin/staff",
                     "/admin/content", "/admin/content/articles", "/admin/content/downloads"]:
            self.go(path)
            self.expect("That did not work" not in self.text(), f"{path} opens")
        self.expect("run_once" not in self.text() and "T00:00:00" not in self.text(), "the jobs page shows people's values")
        self.go("/admin/no-such-page")
        self.expect("Page not found" in self.text(), "an unknown page is a 404 page")
        self.expect(self.nav_shows_logged_in(), "the 404 page shows the staff member logged in, not 'Log in / Register'")
        self.log_out()

    def visitor_flashes(self, product):
        """Nobody logged in: flashes ride in a visitor session in the database, shown once."""
        self.log_out()
        self.go("/password-reset")
        self.fill("email", "nobody-knows-this@example.com")
        d = self.submit("Send me a link", "reset-requested")
        self.expect(d.current_url.endswith("/login"), f"the request leads to the log-in page, not {d.current_url}")
        self.expect(any("If that address has an account" in f for f in self.flash("info")), "the visitor is told a link may be on its way")
        self.driver.refresh()
        self.page("login-again")
        self.expect(not self.flash("info"), "the visitor's flash is shown once")
        self.go("/store")
        button = self.driver.find_element(By.XPATH, f"//button[normalize-space()={xpath_literal('Add ' + product + ' to the cart')}]")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        self.wait_gone(button)
        self.page("visitor-cart")
        self.expect(any("Added to your cart" in f for f in self.flash("success")), "the visitor's cart says what happened")
        self.log_out()

    def register(self, name, email):
        """Registers a new client through the form; lands in the client area."""
        self.go("/register")
        self.fill("register-name", name)
        self.fill("register-email", email)
        self.fill("register-password", "correct horse battery")
        d = self.submit("Register", "registered")
        self.expect("/clientarea" in d.current_url, "registration lands in the client area")
        return d

    def order_from_store(self, product, checked=True):
        """Adds `product` to the cart from the store, places the order and follows it to its
        invoice; `checked` also asserts the cart and the order's flash. Returns the driver."""
        d = self.go("/store")
        button = d.find_element(By.XPATH, f"//button[normalize-space()={xpath_literal('Add ' + product + ' to the cart')}]")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        self.wait_gone(button)
        self.page("cart")
        if checked:
            self.expect(product in self.text(), "the cart shows the product")
        d = self.submit("Place order", "ordered")
        if checked:
            self.expect(self.flash("success"), "placing the order says so")
        if "/confirmation" in d.current_url:
            # The order confirmation page (public store) links to the invoice.
            link = d.find_element(By.XPATH, "//a[starts-with(normalize-space(), 'View and pay')]")
            link.click()
            self.wait_gone(link)
            d = self.page("invoice")
        self.expect("/clientarea/invoices/" in d.current_url, "the order leads to its invoice")
        return d

    def client_journey(self, email, product):
        self.register(f"Client {self.viewport}", email)
        self.expect("Welcome back" not in self.text(), "a new account is not welcomed back")
        self.open_menu_on_phone()
        d = self.order_from_store(product)
        invoice_url = d.current_url
        self.submit_gateway("testcard")
        d = self.submit("Simulate a decline", "declined")
        self.expect(self.flash("error") and not self.flash("success"), "a declined card is shown as an error, not in green")
        self.submit_gateway("testcard")
        d = self.submit("Pay with test card 4242…", "paid")
        self.expect(any("payment was received" in f for f in self.flash("success")), "a payment says thank you")
        self.expect(d.find_elements(By.CSS_SELECTOR, ".badge-success"), "a paid invoice has a green badge")
        self.driver.refresh()
        self.page("paid-again")
        self.expect(not self.flash("success"), "a flash is shown once")
        self.go("/clientarea")
        self.expect("Invoices due" in self.text() and "Active services" in self.text(), "the overview shows the client's figures")
        for path in ["/clientarea/invoices", "/clientarea/services", "/clientarea/credit", "/clientarea/tickets", "/account", "/account/users", "/account/company"]:
            self.go(path)
        self.go("/clientarea/tickets/new")
        self.fill("ticket-subject", f"Help with {product}")
        self.fill("ticket-message", "The site does not load.")
        self.submit("Open ticket", "ticket-opened")
        self.go("/clientarea/tickets")
        badges = self.driver.find_elements(By.CSS_SELECTOR, "td .badge")
        self.expect(badges and badges[0].text.strip() == "Open" and "badge-warning" in badges[0].get_attribute("class"),
                    "the ticket list shows the status as a badge, coloured for 'waiting for staff'")
        self.go("/clientarea/billing-profile")
        self.fill("profile-country", "ZZZ")
        d = self.submit("Save", "profile-bad-country")
        country = d.find_element(By.ID, "profile-country")
        self.expect(country.get_attribute("value") == "ZZZ", "a bad country is kept in its field")
        self.expect(country.get_attribute("aria-invalid") == "true", "a bad country is marked invalid")
        self.expect(d.find_elements(By.CSS_SELECTOR, ".error-summary"), "a summary sits above the form")
        self.fill("profile-country", "DE")
        self.submit("Save", "profile-saved")
        self.expect(self.flash("success"), "saving billing details says so")
        return invoice_url

    def submit_gateway(self, gateway):
        select = self.driver.find_element(By.ID, "gateway")
        for option in select.find_elements(By.TAG_NAME, "option"):
            if option.get_attribute("value") == gateway:
                option.click()
        button = self.driver.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Pay ')]")
        button.click()
        self.wait_gone(button)
        self.page("checkout")

    def staff_follow_up(self, staff_email, staff_password, client_name):
        self.log_in(staff_email, staff_password)
        self.go("/admin/orders")
        self.expect(client_name in self.text(), "the order list names the client")
        self.go("/admin/services")
        self.expect(client_name in self.text(), "the service list names the client")
        summaries = self.driver.find_elements(By.XPATH, "//summary[normalize-space()='Terminate…']")
        if summaries:
            summary = summaries[0]
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
            summary.click()
            dialog = self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.confirm-dialog[open]")))
            self.page("confirm-terminate")
            self.expect("cannot be undone" in dialog.text, "the confirmation says what happens")
            dialog.find_element(By.XPATH, ".//button[normalize-space()='Keep it']").click()
            self.expect(not self.driver.find_elements(By.CSS_SELECTOR, "dialog.confirm-dialog[open]"), "'Keep it' closes the dialog")
            summary.click()
            dialog = self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.confirm-dialog[open]")))
            button = dialog.find_element(By.XPATH, ".//button[normalize-space()='Yes, terminate']")
            button.click()
            self.wait_gone(button)
            self.page("terminated")
            self.expect(any("terminated" in f for f in self.flash("success")), "terminating says so")
        self.go("/admin/payments")
        self.expect(client_name in self.text(), "the payment list names the client")
        self.go("/admin/clients?sort=name")
        heading = self.driver.find_element(By.XPATH, "//th[@aria-sort]")
        self.expect(heading.text.strip().startswith("Name") and heading.get_attribute("aria-sort") == "ascending" and client_name in self.text(),
                    "the client list sorts by name and says so")
        self.sort_by_heading("/admin/invoices", "Client")
        self.sort_by_heading("/admin/products", "Group")
        self.sort_by_heading("/admin/jobs", "Outcome")
        self.go("/admin/tickets")
        self.expect(client_name in self.text() or "Help with" in self.text(), "the support queue lists the client's ticket")
        badges = [b.get_attribute("class") for b in self.driver.find_elements(By.CSS_SELECTOR, "td .badge")]
        self.expect(badges and all("badge-" in b for b in badges) and any("badge-warning" in b for b in badges),
                    f"the queue shows statuses as coloured badges: {badges}")
        self.sort_by_heading("/admin/tickets", "Subject")
        self.go("/admin/invoices?sort=nonsense")
        self.expect("cannot be sorted" in self.text() and self.nav_shows_logged_in(), "an unknown sort column is a clear error inside the layout")
        self.go("/admin")

    def content_lists(self):
        """The content lists: an announcement added from its list page, the list sorted by title."""
        self.go("/admin/content/announcements")
        self.fill("announcement-title", f"Maintenance {self.viewport}")
        self.fill("announcement-body", "The network is *upgraded* tonight.")
        self.submit("Add announcement", "announcement-created")
        self.expect(any("Maintenance" in f for f in self.flash("success")), "adding an announcement says so")
        self.expect(f"Maintenance {self.viewport}" in self.text(), "the list shows the new announcement")
        self.sort_by_heading("/admin/content/announcements", "Title")

    def sort_by_heading(self, path, label):
        """Clicks a column heading twice: ascending, then descending, each marked with aria-sort."""
        self.go(path)
        for direction in ["ascending", "descending"]:
            link = self.driver.find_element(By.XPATH, f"//th/a[contains(@class, 'sort')][starts-with(normalize-space(), {xpath_literal(label)})]")
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
            link.click()
            self.wait_gone(link)
            self.page(f"{path}-sorted-{direction}")
            heading = self.driver.find_element(By.XPATH, "//th[@aria-sort]")
            self.expect(heading.text.strip().startswith(label) and heading.get_attribute("aria-sort") == direction,
                        f"{path}: the {label} heading is marked {direction}")
            self.expect("dir=" in self.driver.current_url and "sort=" in self.driver.current_url, "the order is in the address")

    def csrf_expiry(self):
        """Still logged in as staff: the form's nonce cookie is gone, as after a browser restart."""
        self.go("/admin/products")
        self.driver.delete_cookie("steadfast_csrf")
        self.fill("group-name", "Too late")
        self.submit("Create group", "csrf-expired")
        self.expect("expired" in self.text(), "an expired form says so")
        self.expect(self.nav_shows_logged_in(), "the error page shows who is logged in")

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - the browser is gone either way
            pass


def xpath_literal(text):
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + text.replace("'", "', \"'\", '") + "')"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--staff-email", required=True)
    parser.add_argument("--staff-password", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--viewports", default="desktop,phone")
    args = parser.parse_args()

    def journey(walk, viewport, run):
        product = f"Web hosting {viewport}"
        walk.staff_setup(args.staff_email, args.staff_password, product)
        walk.visitor_flashes(product)
        walk.client_journey(f"client-{viewport}-{run}@example.com", product)
        walk.log_out()
        walk.staff_follow_up(args.staff_email, args.staff_password, f"Client {viewport}")
        walk.csrf_expiry()
        return "pages"

    run_viewports(args, Walk, journey, failure_name="failure")


def run_viewports(args, make_walk, journey, failure_name, on_failure=None):
    """Runs `journey(walk, viewport, run)` once per viewport in `args.viewports`, each in a
    browser of its own; a failure is kept as a screenshot `<viewport>-<failure_name>.png`
    (and whatever `on_failure(walk)` prints) and the others still run. Exits 1 on any failure."""
    os.makedirs(args.out, exist_ok=True)
    failures = []
    run = str(int(time.time()))
    for viewport in args.viewports.split(","):
        started = time.monotonic()
        walk = make_walk(args.base, viewport, args.out)
        try:
            what = journey(walk, viewport, run)
            print(f"{viewport}: {walk.checked} {what} checked in {time.monotonic() - started:.1f}s")
        except Exception as error:  # noqa: BLE001 - every failure is reported with its screenshot
            try:
                walk.driver.save_screenshot(os.path.join(args.out, f"{viewport}-{failure_name}.png"))
                if on_failure:
                    on_failure(walk)
            except Exception:  # noqa: BLE001
                pass
            failures.append(f"{viewport}: {error}")
            traceback.print_exc()
        finally:
            walk.quit()
    if failures:
        print("FAILED\n" + "\n".join(failures))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
