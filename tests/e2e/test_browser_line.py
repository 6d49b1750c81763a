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
    # signed in, the home page is the borrower's summary, not the product page with its calculator
    page.goto("/?lang=zh")
    assert page.locator("#calculator").count() == 0
    assert page.locator("#home").count() == 1
    assert _amount(page.locator("#home-next-amount").inner_text()) > 0  # the demo has something due
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", page.locator("#home-next-date").inner_text())
    home_available = _amount(page.locator("#home-line-available").inner_text())
    assert page.locator("#home-line-link").count() == 1
    _clean(page)
    shoot("line-00-home")
    page.goto("/line?lang=zh")
    assert page.locator("h1").first.inner_text() == "我的额度"
    assert re.search(r"\d+\.\d\d%", page.locator("#line-apr").inner_text())  # the APR, first
    header = page.locator("#line-apr")
    low, high = (
        Decimal(header.get_attribute("data-min") or ""),
        Decimal(header.get_attribute("data-max") or ""),
    )
    assert _amount(page.locator("#line-available").inner_text()) == home_available
    # every drawdown schedule says what is left to pay on each instalment (未还): never an empty cell
    schedules = page.locator(".drawdown-schedule")
    assert schedules.count() >= 1
    for k in range(schedules.count()):
        rows = schedules.nth(k).locator("tr")
        assert rows.count() >= 2
        for n in range(1, rows.count()):
            cells = rows.nth(n).locator("td")
            payment, paid, left = (_amount(cells.nth(c).inner_text()) for c in (2, 3, 4))
            assert 0 <= left <= payment, (payment, paid, left)
    available = _amount(page.locator("#line-available").inner_text())
    limit = _amount(page.locator("#line-limit").inner_text())
    assert 0 < available <= limit <= 30000
    assert page.locator("#line-next-due").inner_text().strip()
    due = page.locator("#due-this-month")
    assert due.locator("tr").count() >= 2, due.inner_text()  # a heading row and at least one item
    assert _amount(page.locator("#due-month-total").inner_text()) > 0
    states = due.locator("td.due-state").all_inner_texts()
    assert states
    assert all(text.strip() in ("已逾期", "今天到期", "待还") for text in states), states
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
    # the line's headline rate range holds what this draw's KFS says it costs (IRR, every fee included)
    kfs_apr = Decimal(page.locator("#kfs-apr").get_attribute("data-apr-percent") or "")
    assert low <= kfs_apr <= high, (low, kfs_apr, high)
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


def test_a_payout_that_arrives_late_moves_the_loan_to_the_day_it_arrived(
    browser_page: tuple[Any, Any, Any], live_server: str, db_url: str
) -> None:
    """A drawdown signed five days before today whose payout timed out and is settled today by the
    channel's status query: the loan starts today (no interest for the five days before), the loan page
    says so in both languages, and the borrower's home shows the moved due date."""
    from datetime import UTC, datetime, timedelta

    from e2e.conftest import TODAY
    from integration.lines.conftest import BODY
    from xiaodai.accounts.service import sign_up
    from xiaodai.db.session import make_engine, session_factory
    from xiaodai.journey import service as journey
    from xiaodai.lines import service as lines
    from xiaodai.money.dates import add_months
    from xiaodai.payments import payout
    from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario

    signed_on = TODAY - timedelta(days=5)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        me = sign_up(s, email="late.payout@example.com", name="王五", password="correct horse 1")
        view = journey.submit_application(
            s, user=me, payload=BODY, idempotency_key="k1", credit_check_consent=True, today=signed_on
        )
        lines.grant_line(s, user=me, application_id=str(view["application_id"]), on=signed_on, actor="test")
        channel = SandboxChannel(payout_scripted={f"account:{me.id}": Scenario.TIMEOUT_SUCCESS})
        request = lines.DrawRequest(amount_fen=300_000, plan="instalment", term=6)
        quote = lines.quote_draw(s, user=me, request=request, today=signed_on)
        drawn = lines.draw(
            s, user=me, request=request, seen_sha256=quote["sha256"], ip="127.0.0.1", lang="zh",
            today=signed_on, key="d1", channel=channel,
        )  # fmt: skip
    with factory() as s, s.begin():  # the callback never came: today's status query settles it
        asked = payout.query_pending(s, channel=channel, on=TODAY, as_of=datetime.now(tz=UTC))
    engine.dispose()
    assert asked["counts"]["succeeded"] == 1
    loan_id = drawn["loan_id"]
    first_due = add_months(TODAY, 1).isoformat()

    page, log, shoot = browser_page
    sign_in(page, "late.payout@example.com", "correct horse 1")
    page.goto("/?lang=zh")
    assert page.locator("#home-next-date").inner_text() == first_due
    _clean(page)
    page.goto(f"/loans/{loan_id}?lang=zh")
    notice = page.locator("#redated")
    assert notice.get_attribute("data-days") == "5"
    assert "晚 5 天" in notice.inner_text()
    assert "到账前的日子不计利息" in notice.inner_text()
    assert first_due in visible_text(page)  # the schedule runs from the day the money arrived
    _clean(page)
    shoot("line-05-late-payout")
    page.goto(f"/loans/{loan_id}?lang=en")
    assert "no interest for the days before" in page.locator("#redated").inner_text()
    _clean(page)
    assert log.external(live_server) == []
    assert log.console_errors == []
    assert log.page_errors == []
