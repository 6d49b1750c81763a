"""The borrower journey in a real browser (Debian Chromium via Playwright): sign up, apply, read the offer
(the IRR-based APR first and largest, checked on computed styles), recompute it, sign, repay, pay off.

Every step saves a full-page screenshot to docs/screenshots/ and to the test's tmp_path. The pages must load
nothing from outside the app's own origin and log no console error (a CSP violation is one).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

# Every element the user sees as a rate: the .rate-secondary spans plus any element whose own text (not
# its children's) contains a number followed by "%". Returns, for each, its font size and whether it comes
# after #kfs-apr in document order and below/at its top on screen.
RATES_JS = """
() => {
  const apr = document.querySelector('#kfs-apr');
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const ownText = (el) => Array.from(el.childNodes)
      .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('');
  const percent = /\\d\\s*%/;
  const others = new Set(document.querySelectorAll('.rate-secondary'));
  for (const el of document.body.querySelectorAll('*')) {
    if (el !== apr && percent.test(ownText(el))) others.add(el);
  }
  const aprTop = apr.getBoundingClientRect().top;
  return {
    apr: {px: px(apr), text: apr.textContent.trim()},
    others: Array.from(others).map((el) => ({
      tag: el.tagName.toLowerCase(),
      cls: el.className,
      text: el.textContent.trim().slice(0, 80),
      px: px(el),
      after: Boolean(apr.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING),
      below: el.getBoundingClientRect().top >= aprTop,
    })),
  };
}
"""


def _no_error_banner(page: Any) -> None:
    banner = page.locator("#error")
    assert banner.count() == 0, banner.inner_text()


def _check_rates(page: Any) -> dict[str, Any]:
    rates: dict[str, Any] = page.evaluate(RATES_JS)
    apr_px = rates["apr"]["px"]
    assert re.fullmatch(r"\d+\.\d+%", rates["apr"]["text"]), rates["apr"]
    secondary = [r for r in rates["others"] if "rate-secondary" in r["cls"]]
    assert len(secondary) >= 3, rates  # monthly IRR, EAR, nominal rate at least
    for other in rates["others"]:
        assert other["px"] <= apr_px, f"a rate is larger than the APR ({apr_px}px): {other}"
        assert other["after"], f"a rate comes before the APR in the document: {other}"
        assert other["below"], f"a rate is shown above the APR: {other}"
    return rates


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_borrower_journey_in_chromium(browser_page: tuple[Any, Any, Any], live_server: str) -> None:
    page, log, shoot = browser_page

    # 1. sign up
    page.goto("/signup")
    page.fill("#email", "browser@example.com")
    page.fill("#name", "王五")
    page.fill("#password", "correct horse 1")
    shoot("01-signup")
    page.click("#submit")
    page.wait_for_url("**/apply")
    _no_error_banner(page)

    # 2. apply (the model's own fields f_*, the separate credit-check consent)
    page.fill("#age", "33")
    page.fill("#monthly_income", "9000")
    page.fill("#monthly_debt_payments", "300")
    page.fill("#f_Seniority", "8")
    page.select_option("#f_Home", "owner")
    page.fill("#f_Income", "180")
    page.select_option("#f_Records", "no")
    page.fill("#amount", "10000")
    page.fill("#term", "12")
    page.check("#consent_credit_check")
    shoot("02-apply")
    page.click("#submit-application")
    page.wait_for_url(re.compile(r"/applications/[^/?]+$"))
    _no_error_banner(page)

    # 3. the offer: approved, the APR first and largest; recompute with another amount and term
    outcome = page.locator("#outcome")
    assert "approve" in (outcome.get_attribute("class") or "").split(), outcome.inner_text()
    assert outcome.inner_text() == "已批准"
    first = _check_rates(page)
    assert first["apr"]["px"] >= 24  # the headline really is large, not just "not smaller"
    schedule = page.locator("table.schedule tbody tr")
    assert schedule.count() == 12
    assert "10000.00" in page.locator("#offer").inner_text()
    first_sha = page.locator('input[name="kfs_sha256"]').input_value()

    page.fill("#offer #amount", "6000")
    page.fill("#offer #term", "6")
    page.click("#recompute")
    page.wait_for_url(re.compile(r"amount=6000&term=6"))
    _no_error_banner(page)
    _check_rates(page)
    assert schedule.count() == 6
    assert "6000.00" in page.locator("#offer").inner_text()
    assert page.locator('input[name="amount"][type="hidden"]').input_value() == "6000.00"
    assert page.locator('input[name="term"][type="hidden"]').input_value() == "6"
    assert page.locator('input[name="kfs_sha256"]').input_value() != first_sha
    shoot("03-offer")

    # 4. sign: the loan page
    page.click("#sign")
    page.wait_for_url(re.compile(r"/loans/\d+$"))
    _no_error_banner(page)
    assert page.locator("#loan-state").inner_text() == "active"
    loan_url = page.url
    rows = page.locator("#schedule tr")
    assert rows.count() == 1 + 6  # header + six instalments
    due = page.locator("#repay-amount").input_value()
    assert re.fullmatch(r"\d+\.\d\d", due) and float(due) > 0, due
    shoot("04-loan")

    # 5. repay the prefilled next instalment
    page.click("#repay")
    page.wait_for_url(loan_url)
    _no_error_banner(page)
    assert page.locator("#loan-state").inner_text() == "active"
    print("MAIN>>", page.locator("main").inner_text())
    first_row = rows.nth(1).locator("td")
    assert first_row.nth(3).inner_text() == due  # the paid column of period 1
    assert first_row.nth(5).inner_text() == "paid"
    shoot("05-repaid")

    # 6. pay off in full
    page.click("#prepay")
    page.wait_for_url(loan_url)
    _no_error_banner(page)
    assert page.locator("#loan-state").inner_text() == "settled"
    assert page.locator("#prepay").count() == 0
    shoot("06-settled")

    # nothing from outside the app's origin, no console error (CSP violations included)
    assert log.requests, "no request recorded"
    assert log.external(live_server) == []
    assert log.console_errors == []
    assert log.page_errors == []
    assert log.failed == []
    assert len(shoot.made) == 12
