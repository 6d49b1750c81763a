"""What a borrower sees after signing in (both databases): the home page is their summary (next payment and
when, the line's available amount, links) in zh and en, not the product page; /line's drawdown schedules
say what is left to pay on every instalment; the line's headline rate is what a draw costs on each plan,
the daily plan's the same as its key-facts statement. Operations see payouts waiting for the bank and ask
the channel about them."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from web.test_line_pages import _grant
from web.test_pages import apply, csrf, hidden, sign_up
from xiaodai.db.tables import LoanRow, UserRow
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario


def _draw(client: TestClient, amount: str, plan: str = "instalment", term: str = "6") -> str:
    params = {"amount": amount, "plan": plan, **({"term": term} if plan == "instalment" else {})}
    quote = client.get("/line/draw", params=params)
    assert quote.status_code == 200, quote.text
    signed = client.post(
        "/line/draw",
        data={
            "csrf": csrf(quote.text),
            "kfs_sha256": hidden(quote.text, "kfs_sha256"),
            "idempotency_key": hidden(quote.text, "idempotency_key"),
            **params,
        },
    )
    assert signed.status_code == 200, signed.text
    return signed.text


def _percent(text: str) -> Decimal:
    found = re.search(r"(\d+\.\d\d)%", text)
    assert found, text
    return Decimal(found.group(1))


def test_the_signed_in_borrower_home_is_their_summary(client: TestClient) -> None:
    anonymous = client.get("/").text
    assert 'id="calculator"' in anonymous  # the product page for a visitor
    sign_up(client, "home@example.com")
    offer_url = apply(client)
    assert 'id="home-no-line"' in client.get("/").text
    _grant(client, "home@example.com", offer_url)
    _draw(client, "3000")
    page = client.get("/", params={"lang": "zh"}).text
    assert 'id="calculator"' not in page
    assert "下一笔应还" in page
    schedule = client.get("/line").text
    first_payment = re.search(
        r'id="schedule-\d+">.*?<tr><td>1</td><td>([0-9-]+)</td><td>([0-9.]+)</td>', schedule, re.S
    )
    assert first_payment
    due, amount = first_payment.groups()
    assert re.search(rf'id="home-next-amount">{re.escape(amount)} 元', page), page
    assert f'id="home-next-date">{due}<' in page
    available = re.search(r'id="line-available">([0-9.]+)', schedule)
    assert available
    assert f"可用额度 {available.group(1)} 元" in page
    assert 'href="/line/draw"' in page
    assert 'id="home-line-apr"' in page
    assert 'id="calculator"' in client.get("/", params={"calc": "1"}).text  # asked for: the calculator
    english = client.get("/", params={"lang": "en"}).text
    assert "What you pay next" in english
    assert f"{available.group(1)} CNY available" in english


def test_line_schedules_show_what_is_left_and_the_rate_a_draw_costs(client: TestClient) -> None:
    sign_up(client, "line.rate@example.com")
    _grant(client, "line.rate@example.com", apply(client))
    _draw(client, "3000")
    page = client.get("/line").text
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>[0-9-]+</td><td>([0-9.]+)</td><td>([0-9.]+)</td><td>([0-9.]*)</td>", page
    )
    assert len(rows) == 6, page
    for _, payment, paid, left in rows:  # nothing paid yet: what is left is the whole instalment
        assert left == payment, rows
        assert paid == "0.00"
    header = re.search(r'id="line-apr" data-min="([0-9.]+)" data-max="([0-9.]+)"', page)
    assert header
    low, high = Decimal(header.group(1)), Decimal(header.group(2))
    daily_kfs = client.get("/line/draw", params={"amount": "1000", "plan": "daily"}).text
    daily = Decimal(re.search(r'id="kfs-apr" data-apr-percent="([0-9.]+)"', daily_kfs).group(1))  # type: ignore[union-attr]
    term_kfs = client.get("/line/draw", params={"amount": "1000", "plan": "instalment", "term": "24"}).text
    instalment = Decimal(re.search(r'id="kfs-apr" data-apr-percent="([0-9.]+)"', term_kfs).group(1))  # type: ignore[union-attr]
    assert (low, high) == (min(daily, instalment), max(daily, instalment))
    assert daily > instalment  # the daily plan's interest by actual days costs a little more
    plans = re.search(r'id="line-apr-plans">([^<]+)<', page)
    assert plans
    assert f"{daily:.2f}%" in plans.group(1)
    assert f"{instalment:.2f}%" in plans.group(1)
    # the headline is the largest rate figure on the page (APR first): no other rate shown above it
    assert page.index('id="line-apr"') < page.index("rate-secondary")


def test_operations_see_and_query_pending_payouts(client: TestClient) -> None:
    from web.test_staff_pages import login, staff

    sign_up(client, "line.pending@example.com")
    _grant(client, "line.pending@example.com", apply(client))
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        who = s.execute(select(UserRow.id).where(UserRow.email == "line.pending@example.com")).scalar_one()
    client.app.state.channel = SandboxChannel(  # type: ignore[attr-defined]
        payout_scripted={f"account:{who}": Scenario.TIMEOUT_SUCCESS}
    )
    assert 'data-status="pending"' in _draw(client, "2000")
    home = client.get("/").text
    assert 'id="home-paying-out"' in home
    staff(client, "ops.payouts@example.com", "admin")
    staff(client, "audit.payouts@example.com", "auditor")
    login(client, "audit.payouts@example.com")
    seen = client.get("/staff/jobs", params={"lang": "en"}).text
    assert 'id="payouts-pending"' in seen
    assert "Payouts (代付) waiting for the bank" in seen
    assert 'id="payouts-query"' not in seen  # an auditor looks, an admin acts
    login(client, "ops.payouts@example.com")
    page = client.get("/staff/jobs", params={"lang": "zh"}).text
    assert "2000.00" in page
    asked = client.post("/staff/payouts/query", data={"csrf": csrf(page)})
    assert asked.status_code == 200, asked.text
    assert 'id="payouts-queried"' in asked.text
    assert "已查询 1 笔：成功 1" in asked.text
    assert 'id="no-payouts"' in asked.text
    with factory() as s:
        assert s.execute(select(LoanRow.state).where(LoanRow.borrower_id == who)).scalar_one() == "active"
    assert client.post("/staff/payouts/query", data={"csrf": "forged"}).status_code == 400
