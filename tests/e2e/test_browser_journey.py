"""The borrower's path in Chromium on the seeded demo, asserting what the person reads at each step:
calculator → sign up → apply (a typing mistake is explained and kept) → offer (the IRR-based APR first and
largest) → change the amount and term → sign → repay (confirm, receipt) → a too-large repayment refused →
pay off (confirm, receipt) → complain → export. The APR is the same figure on the offer, the loan page and
the loan list. The demo borrower's own loans open too.

Screenshots of each step go to the test's tmp dir (and to docs/screenshots/ with
XIAODAI_UPDATE_SCREENSHOTS=1).
Pages load nothing from outside the app's origin and log no console error (a CSP violation is one).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from e2e.demo import raw_codes, sign_in, submit, visible_text

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
# Answers a consumer with a steady job and a small request would give, by field name (the demo model's
# fields); any other field gets a small number, a select keeps its first option.
ANSWERS = {  # what the applicant states (the catalogue's application features), in the form's own words
    "purpose": "consumption",
    "employment_type": "employed",
    "employment_tenure_years": "8",
    "housing": "owner",
    "dependants": "1",
}


def _clean(page: Any) -> None:
    """No stored code, ISO timestamp or internal id in what the page says."""
    assert raw_codes(visible_text(page)) == [], page.url


def _no_error_banner(page: Any) -> None:
    banner = page.locator("#error")
    assert banner.count() == 0, banner.inner_text()


def _check_rates(page: Any) -> dict[str, Any]:
    rates: dict[str, Any] = page.evaluate(RATES_JS)
    apr_px = rates["apr"]["px"]
    assert re.fullmatch(r"\d+\.\d\d%", rates["apr"]["text"]), rates["apr"]
    assert rates["apr"]["text"] == page.locator("#kfs-apr").get_attribute("data-apr-percent") + "%"
    secondary = [r for r in rates["others"] if "rate-secondary" in r["cls"]]
    assert len(secondary) >= 3, rates  # monthly IRR, EAR, nominal rate at least
    for other in rates["others"]:
        if other["tag"] in ("option", "select") or "calc" in other["cls"]:
            continue
        assert other["px"] <= apr_px, f"a rate is larger than the APR ({apr_px}px): {other}"
        assert other["after"], f"a rate comes before the APR in the document: {other}"
        assert other["below"], f"a rate is shown above the APR: {other}"
    return rates


def _payoff(page: Any) -> Decimal:
    return Decimal(page.locator("#payoff").get_attribute("data-total"))


def _fill_application(page: Any, amount: str) -> None:
    page.fill("#age", "35")
    page.fill("#monthly_income", "12,000")
    page.fill("#monthly_debt_payments", "500")
    for name, answer in ANSWERS.items():
        if page.locator(f"select#{name}").count():
            page.select_option(f"#{name}", answer)
        else:
            page.fill(f"#{name}", answer)
    page.fill("#amount", amount)
    page.fill("#term", "12")
    page.check("#consent_credit_check")


def test_borrower_journey_in_chromium(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    page, log, shoot = demo_page

    # 0. the landing page: sign in, and a calculator that works without a script
    page.goto("/")
    page.fill("#calc-amount", "12,000")
    page.fill("#calc-term", "12")
    page.select_option("#calc-rate", "0.12")
    submit(page, "#calc-submit")
    assert page.locator("#calc-first").inner_text() == "1066.19 元"  # 12,000 at 1 % a month, 12 months
    assert page.locator("#calc-apr").inner_text() == "12.00%"
    shoot("00-landing-calculator")

    # 1. sign up
    page.goto("/signup")
    page.fill("#email", "journey@example.com")
    page.fill("#name", "王五")
    page.fill("#password", "correct horse 1")
    submit(page, "#submit")
    assert page.url == f"{demo.url}/login?signed_up=1"  # the same answer for a taken email: sign in
    page.fill("#email", "journey@example.com")
    page.fill("#password", "correct horse 1")
    submit(page, "#submit")
    page.goto("/apply")

    # 2. apply: a mistake is explained beside its field, and nothing typed is lost
    _fill_application(page, "ten thousand")
    submit(page, "#submit-application")
    assert "请输入金额数字" in page.locator("#amount-error").inner_text()
    assert page.locator("#amount").input_value() == "ten thousand"
    assert page.locator("#monthly_income").input_value() == "12,000"
    assert page.locator("#consent_credit_check").is_checked()
    _clean(page)
    shoot("01-apply-error")
    page.fill("#amount", "10,000")
    submit(page, "#submit-application")
    _no_error_banner(page)
    assert re.fullmatch(rf"{demo.url}/applications/[^/?]+", page.url), page.url

    # 3. the offer: approved; the APR first and largest
    outcome = page.locator("#outcome")
    assert outcome.inner_text() == "已批准", visible_text(page)[:500]
    # what raised the score is shown; nothing the form never asked is cited, nothing "missing", no intervals
    assert page.locator("#positive-factors li").count() >= 1
    assert page.locator("#positive-factors").inner_text().count("提高了评分") >= 1
    said = page.locator("#positive-factors").inner_text() + (
        page.locator("#reasons").inner_text() if page.locator("#reasons").count() else ""
    )
    for never in ("所购商品价格", "资产", "月支出", "缺失", "[", "missing"):
        assert never not in said, said
    first = _check_rates(page)
    assert first["apr"]["px"] >= 24
    _clean(page)
    shoot("02-offer-first")

    # 4. change the amount and term (a bad term is explained, the offer stays)
    page.fill("#offer #amount", "6000")
    page.fill("#offer #term", "99")
    submit(page, "#recompute")
    assert page.locator("#offer").count() == 1
    assert "99" in page.locator("#term-error").inner_text()
    page.fill("#offer #term", "6")
    submit(page, "#recompute")
    _no_error_banner(page)
    rates = _check_rates(page)
    assert page.locator("table.schedule tbody tr").count() == 6
    assert page.locator('input[name="amount"][type="hidden"]').input_value() == "6000.00"
    apr = rates["apr"]["text"]
    _clean(page)
    shoot("03-offer")

    # 5. sign: the loan page shows the signed APR, the state in words, six instalments
    submit(page, "#sign")
    assert re.fullmatch(rf"{demo.url}/loans/\d+", page.url), page.url
    loan_url = page.url
    loan_id = loan_url.rsplit("/", 1)[1]
    assert page.locator("#loan-apr").inner_text() == apr
    assert page.locator("#loan-state").inner_text() == "还款中"
    assert page.locator("#schedule tr").count() == 1 + 6
    assert _payoff(page) == Decimal("6000.00")
    _clean(page)
    shoot("04-loan")

    # 6. repay the next instalment early: confirm, receipt, then the schedule shows it against period 1
    due = page.locator("#repay-amount").input_value()
    assert Decimal(due) > 0
    submit(page, "#repay")
    assert page.locator("#confirm-amount").inner_text() == f"{due} 元"
    _clean(page)
    shoot("05-repay-confirm")
    submit(page, "#confirm-button")
    assert page.locator("#receipt-amount").inner_text() == f"{due} 元"
    assert page.locator("#allocation-credit").count() == 1  # not due yet: held, applied on the due date
    _clean(page)
    shoot("06-repay-receipt")
    page.goto(loan_url)
    first_row = page.locator("#schedule tr").nth(1)
    assert first_row.locator("td.credit").inner_text() == due
    assert first_row.locator("td.to-pay").inner_text() == "0.00"
    assert _payoff(page) == Decimal("6000.00") - Decimal(due)

    # 7. more than the payoff is refused, with the payoff amount
    payoff = _payoff(page)
    page.fill("#repay-amount", "999,999")
    submit(page, "#repay")
    assert f"{payoff:.2f}" in page.locator("#amount-error").inner_text()
    assert page.locator("#repay-amount").input_value() == "999,999"
    assert _payoff(page) == payoff  # nothing posted

    # 8. pay off in full: confirm, receipt, settled
    submit(page, "#prepay")
    assert page.locator("#confirm-amount").inner_text() == f"{payoff:.2f} 元"
    submit(page, "#confirm-button")
    assert page.locator("#receipt-state").inner_text() == "已结清"
    _clean(page)
    shoot("07-payoff-receipt")
    page.goto(loan_url)
    assert page.locator("#loan-state").inner_text() == "已结清"
    assert page.locator("#prepay").count() == 0

    # 9. the loan list shows the same APR as the offer and the loan page
    page.goto("/loans")
    row = page.locator(f'#loans tr:has(a[href="/loans/{loan_id}"])')
    assert row.locator("td.apr").inner_text() == apr

    # 10. complain about the loan: acknowledged with its deadline in Beijing time
    page.goto("/complaints")
    page.select_option("#loan_id", loan_id)
    page.fill("#narrative", "提前还款后还收了一个月的利息吗？请解释。")
    submit(page, "#file-complaint")
    assert re.search(r"\d{4}-\d\d-\d\d 23:59 北京时间", page.locator("#ack-deadline").inner_text())
    _clean(page)
    shoot("08-complaint")

    # 11. export my data: a JSON file with the loan and the application
    page.goto("/loans")
    with page.expect_download() as download:
        page.click('a[href="/me/export"]')
    data = json.loads(open(download.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert [loan["id"] for loan in data["loans"]] == [int(loan_id)]
    assert data["applications"][-1]["loan_id"] == int(loan_id)

    assert log.external(demo.url) == []
    expected = ("favicon", "status of 400")  # the three mistakes above are answered 400, on purpose
    assert [e for e in log.console_errors if not any(x in e for x in expected)] == []
    assert len([e for e in log.console_errors if "status of 400" in e]) == 3
    assert log.page_errors == []


def test_demo_borrower_opens_every_loan(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    page, _, shoot = demo_page
    sign_in(page, "borrower@xiaodai.demo")
    assert page.url.endswith("/loans")
    links = page.eval_on_selector_all(
        "#loans a[href^='/loans/']", "els => els.map((a) => a.getAttribute('href'))"
    )
    assert links, "the demo borrower has loans"
    listed = {href: page.locator(f'#loans tr:has(a[href="{href}"]) td.apr').inner_text() for href in links}
    for href, listed_apr in listed.items():
        response = page.goto(href)
        assert response is not None
        assert response.status == 200, href
        shown = page.locator("#loan-apr").inner_text()
        assert re.fullmatch(r"\d+\.\d\d%", shown), shown  # a number, never "APR %"
        assert shown == listed_apr
    shoot("09-demo-borrower-loan")
