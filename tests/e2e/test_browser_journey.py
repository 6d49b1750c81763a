"""The borrower journey in a real browser (Debian Chromium via Playwright): sign up, apply, read the offer
(the IRR-based APR first and largest, checked on computed styles), recompute it, sign, repay, pay off.

Every step saves a full-page screenshot to docs/screenshots/ and to the test's tmp_path. The pages must load
nothing from outside the app's own origin and log no console error (a CSP violation is one).
"""

from __future__ import annotations

import re
from decimal import Decimal
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


def _submit(page: Any, button: str) -> None:
    """Click a form's button and wait for the resulting page (after any redirect) to finish loading."""
    with page.expect_navigation(wait_until="load"):
        page.click(button)
    _no_error_banner(page)


def _no_error_banner(page: Any) -> None:
    banner = page.locator("#error")
    assert banner.count() == 0, banner.inner_text()


def _favicon_404(console_error: str, base_url: str) -> bool:
    """Chromium asks for /favicon.ico by itself and the app has none (404): known, harmless."""
    return console_error.startswith(
        "Failed to load resource: the server responded with a status of 404"
    ) and (f"'url': '{base_url}/favicon.ico'" in console_error)


def _payoff_total(page: Any) -> Decimal:
    return Decimal(page.locator("#payoff").inner_text().split()[0])


def _check_rates(page: Any) -> dict[str, Any]:
    rates: dict[str, Any] = page.evaluate(RATES_JS)
    apr_px = rates["apr"]["px"]
    assert re.fullmatch(r"\d+\.\d+%", rates["apr"]["text"]), rates["apr"]
    assert rates["apr"]["text"] == page.locator("#kfs-apr").get_attribute("data-apr-percent") + "%"
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
    _submit(page, "#submit")
    assert page.url == f"{live_server}/login?signed_up=1"  # the same answer for a taken email: sign in
    page.fill("#email", "browser@example.com")
    page.fill("#password", "correct horse 1")
    _submit(page, "#submit")
    page.goto("/apply")

    # 2. apply (only what the applicant states; the separate credit-check consent)
    page.fill("#age", "33")
    page.fill("#monthly_income", "9000")
    page.fill("#monthly_debt_payments", "300")
    page.select_option("#employment_type", "employed")
    page.fill("#employment_tenure_years", "8")
    page.select_option("#housing", "owner")
    page.fill("#dependants", "1")
    page.select_option("#purpose", "consumption")
    page.fill("#amount", "10000")
    page.fill("#term", "12")
    page.check("#consent_credit_check")
    shoot("02-apply")
    _submit(page, "#submit-application")
    assert re.fullmatch(rf"{live_server}/applications/[^/?]+", page.url), page.url

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
    _submit(page, "#recompute")
    assert "amount=6000&term=6" in page.url, page.url
    _check_rates(page)
    assert schedule.count() == 6
    assert "6000.00" in page.locator("#offer").inner_text()
    assert page.locator('input[name="amount"][type="hidden"]').input_value() == "6000.00"
    assert page.locator('input[name="term"][type="hidden"]').input_value() == "6"
    assert page.locator('input[name="kfs_sha256"]').input_value() != first_sha
    shoot("03-offer")

    # 4. sign: the loan page
    _submit(page, "#sign")
    assert re.fullmatch(rf"{live_server}/loans/\d+", page.url), page.url
    assert page.locator("#loan-state").inner_text() == "active"
    loan_url = page.url
    rows = page.locator("#schedule tr")
    assert rows.count() == 1 + 6  # header + six instalments
    due = page.locator("#repay-amount").input_value()
    assert re.fullmatch(r"\d+\.\d\d", due), due
    assert Decimal(due) > 0
    payoff_before = _payoff_total(page)
    assert payoff_before == Decimal("6000.00")  # signed today: no interest accrued yet
    shoot("04-loan")

    # 5. repay the prefilled next instalment. It is not billed yet (due 2026-02-10), so the money is held as
    #    an overpayment credit (applied at billing) and the payoff quote goes down by as much.
    _submit(page, "#repay")
    assert page.url == loan_url
    assert page.locator("#loan-state").inner_text() == "active"
    assert page.locator("#balances").inner_text().endswith(f" {due}")  # held as overpayment credit
    assert _payoff_total(page) == payoff_before - Decimal(due)
    shoot("05-repaid")

    # 6. pay off in full
    _submit(page, "#prepay")
    assert page.url == loan_url
    assert page.locator("#loan-state").inner_text() == "settled"
    assert page.locator("#prepay").count() == 0
    shoot("06-settled")

    # nothing from outside the app's origin, no console error (CSP violations included)
    assert log.requests, "no request recorded"
    assert log.external(live_server) == []
    assert [e for e in log.console_errors if not _favicon_404(e, live_server)] == []
    assert log.page_errors == []
    assert log.failed == []
    assert len([p for p in shoot.made if p.is_relative_to(shoot.artefacts)]) == 6  # one per step
