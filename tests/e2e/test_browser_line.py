"""The demo borrower's credit line in Chromium, on the seeded demo (``xiaodai demo seed``): my line (APR
first, available, limit, next due), what is due this month, the two drawdowns the seed made (instalments and
the daily-interest plan), a new daily drawdown through its key-facts statement and signature, paid out to the
bound card, then repaid in part any day; the inbox holds the reminders that were sent. Both languages.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from e2e.demo import raw_codes, sign_in, submit, visible_text


def _amount(text: str) -> Decimal:
    found = re.search(r"\d[\d,]*\.\d\d", text)
    assert found, text
    return Decimal(found.group(0).replace(",", ""))


def _clean(page: Any) -> None:
    assert raw_codes(visible_text(page)) == [], page.url
    assert page.locator("#error").count() == 0


def test_demo_borrower_sees_draws_and_repays_on_their_line(
    demo_page: tuple[Any, Any, Any], demo: Any
) -> None:
    page, log, shoot = demo_page
    sign_in(page, "borrower@xiaodai.demo")
    page.goto("/line?lang=zh")
    assert page.locator("h1").first.inner_text() == "我的额度"
    assert re.search(r"\d+\.\d\d%", page.locator("#line-apr").inner_text())  # the APR, first
    available = _amount(page.locator("#line-available").inner_text())
    limit = _amount(page.locator("#line-limit").inner_text())
    assert 0 < available <= limit <= 30000
    assert page.locator("#line-next-due").inner_text().strip()
    due = page.locator("#due-this-month")
    assert due.locator("tr").count() >= 2, due.inner_text()  # a heading row and at least one item
    assert _amount(page.locator("#due-month-total").inner_text()) > 0
    drawdowns = page.locator("#drawdowns tr")
    assert drawdowns.count() == 3  # the heading and the seed's two drawdowns
    plans = page.locator("#drawdowns").inner_text()
    assert "随借随还" in plans, plans
    assert "分期" in plans, plans
    _clean(page)
    shoot("line-01-my-line")

    # draw 1,000 on the daily plan: the KFS (APR first, the daily terms), then sign
    submit(page, "#line-draw-link")
    page.fill("#amount", "1000")
    page.check("input[name=plan][value=daily]")
    submit(page, "#draw-quote")
    assert page.locator("#draw-kfs").count() == 1
    assert page.locator("#daily-terms").count() == 1
    assert page.locator("#kfs-apr").count() == 1
    _clean(page)
    shoot("line-02-draw-kfs")
    submit(page, "#draw-sign")
    assert re.search(r"/loans/\d+$", page.url), page.url
    loan_id = page.url.rsplit("/", 1)[1]
    paid_out = page.locator("#disbursement")
    assert paid_out.get_attribute("data-status") == "succeeded"
    assert "已放款" in paid_out.inner_text()
    assert "*" in paid_out.inner_text()  # to the bound card, masked
    assert page.locator("#loan-state").get_attribute("data-state") == "active"
    _clean(page)
    shoot("line-03-drawdown-paid-out")

    page.goto("/line")
    assert _amount(page.locator("#line-available").inner_text()) == available - 1000
    assert page.locator("#drawdowns tr").count() == 4

    # repay 300 of it the same day: interest for the days used (none yet), the rest reduces the principal
    page.fill(f"#repay-{loan_id}", "300")
    submit(page, f"#schedule-{loan_id} button[type=submit]")
    assert page.url.endswith("/line")
    row = page.locator(f'#drawdowns tr:has(a[href="/loans/{loan_id}"])').inner_text()
    assert "700.00" in row, row
    assert _amount(page.locator("#line-available").inner_text()) == available - 700
    _clean(page)
    shoot("line-04-repaid")

    # the reminders that were sent are in the inbox
    page.goto("/inbox")
    assert page.locator("#inbox tr").count() >= 2, visible_text(page)
    _clean(page)

    # the same line in English
    page.goto("/line?lang=en")
    assert page.locator("h1").first.inner_text() == "My credit line"
    assert page.locator("#due-this-month h2").inner_text() == "Due this month (all drawdowns)"
    _clean(page)
    assert log.external(demo.url) == []
    assert log.console_errors == []
    assert log.page_errors == []
