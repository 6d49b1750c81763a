"""The credit-line pages through their HTML forms (both databases): no line yet; a line granted from the
approved application; my line (APR first, available, next due); draw (amount, term → KFS → sign), the daily
plan's terms; the combined "due this month" view and each drawdown's schedule; repay any amount; zh and en;
a bad amount is shown beside its field and draws nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from web.conftest import TODAY
from web.test_pages import apply, csrf, hidden, sign_up
from xiaodai.db.tables import LoanRow, UserRow
from xiaodai.lines import service as lines


def _grant(client: TestClient, email: str, offer_url: str) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        user = s.execute(select(UserRow).where(UserRow.email == email)).scalar_one()
        lines.grant_line(s, user=user, application_id=offer_url.rsplit("/", 1)[-1], on=TODAY, actor="test")


def _loans(client: TestClient) -> int:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(LoanRow)).scalar_one())


def test_line_pages(client: TestClient) -> None:
    sign_up(client, "line.web@example.com")
    offer_url = apply(client)
    assert 'id="no-line"' in client.get("/line").text
    _grant(client, "line.web@example.com", offer_url)
    page = client.get("/line").text
    assert page.index('id="line-apr"') < page.index("rate-secondary")  # APR first, daily rate after
    limit = re.search(r'id="line-limit">([0-9.]+)', page)
    assert limit
    assert re.search(r'id="line-available">([0-9.]+)', page).group(1) == limit.group(1)  # type: ignore[union-attr]
    # a bad amount: the form again, the problem beside the field, nothing drawn
    bad = client.get("/line/draw", params={"amount": "99999999", "plan": "instalment", "term": "6"})
    assert bad.status_code == 400
    assert 'id="amount"' in bad.text
    assert "kfs-apr" not in bad.text
    # amount and term → the key-facts statement → sign
    quote = client.get("/line/draw", params={"amount": "3000", "plan": "instalment", "term": "6"})
    assert quote.status_code == 200, quote.text
    assert 'id="kfs-apr"' in quote.text
    signed = client.post(
        "/line/draw",
        data={
            "csrf": csrf(quote.text),
            "kfs_sha256": hidden(quote.text, "kfs_sha256"),
            "idempotency_key": hidden(quote.text, "idempotency_key"),
            "amount": "3000",
            "plan": "instalment",
            "term": "6",
        },
    )
    assert signed.status_code == 200, signed.text
    assert "/loans/" in str(signed.url)
    # the daily plan shows its own terms above the KFS
    daily = client.get("/line/draw", params={"amount": "1000", "plan": "daily", "lang": "en"}).text
    assert 'id="daily-terms"' in daily
    assert "no prepayment fee" in daily
    client.get("/line", params={"lang": "zh"})
    page = client.get("/line").text
    assert 'id="due-this-month"' in page
    assert "本月应还" in page
    assert page.count('class="card drawdown-schedule"') == 1
    assert re.search(r'id="line-outstanding">3000.00', page)
    loan_id = re.search(r'action="/line/drawdowns/(\d+)/repay"', page).group(1)  # type: ignore[union-attr]
    repaid = client.post(
        f"/line/drawdowns/{loan_id}/repay",
        data={"csrf": csrf(page), "idempotency_key": "r1", "amount": "1000"},
    )
    assert repaid.status_code == 200, repaid.text
    outstanding = re.search(r'id="line-outstanding">([0-9.]+)', repaid.text)
    assert outstanding
    assert float(outstanding.group(1)) < 3000
    english = client.get("/line", params={"lang": "en"}).text
    assert "Due this month" in english
    assert "Line granted" in english
    before = _loans(client)
    stale = client.post(
        "/line/draw",
        data={
            "csrf": csrf(english),
            "kfs_sha256": "0" * 64,
            "amount": "500",
            "plan": "instalment",
            "term": "6",
        },
    )
    assert stale.status_code == 400
    assert _loans(client) == before


def test_staff_line_view_and_freeze(client: TestClient) -> None:
    from web.test_staff_pages import login, staff

    sign_up(client, "line.staff@example.com")
    offer_url = apply(client)
    _grant(client, "line.staff@example.com", offer_url)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        borrower_id = s.execute(
            select(UserRow.id).where(UserRow.email == "line.staff@example.com")
        ).scalar_one()
    assert client.get(f"/staff/borrowers/{borrower_id}/line").status_code == 403  # a borrower is refused
    client.get("/logout")
    staff(client, "uw.line@example.com", "underwriter")
    login(client, "uw.line@example.com")
    page = client.get(f"/staff/borrowers/{borrower_id}/line")
    assert page.status_code == 200, page.text
    assert 'id="line-events"' in page.text
    action = re.search(r'action="(/staff/lines/\d+/state)"', page.text)
    assert action
    bad = client.post(action.group(1), data={"csrf": csrf(page.text), "to": "freeze", "reason": "not a code"})
    assert bad.status_code == 400  # nothing changed: the reason is not a code
    frozen = client.post(
        action.group(1), data={"csrf": csrf(page.text), "to": "freeze", "reason": "LINE_FREEZE_CHECK"}
    )
    assert frozen.status_code == 200, frozen.text
    assert "已冻结" in frozen.text or "Frozen" in frozen.text
    with factory() as s:
        assert lines.line_of_borrower(s, borrower_id=borrower_id, today=TODAY)["state"] == "frozen"


def test_a_pending_then_failed_payout_is_shown(client: TestClient) -> None:
    """The channel times out: the loan page says the money is on its way (not active yet) and /line holds the
    amount; a payout the bank refuses says so, with its reason, in both languages."""
    from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario

    sign_up(client, "line.payout@example.com")
    offer_url = apply(client)
    _grant(client, "line.payout@example.com", offer_url)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        who = s.execute(select(UserRow.id).where(UserRow.email == "line.payout@example.com")).scalar_one()
    channel = SandboxChannel(payout_scripted={f"account:{who}": Scenario.TIMEOUT_SUCCESS})
    client.app.state.channel = channel  # type: ignore[attr-defined]

    def draw(amount: str) -> str:
        quote = client.get("/line/draw", params={"amount": amount, "plan": "instalment", "term": "6"})
        signed = client.post(
            "/line/draw",
            data={
                "csrf": csrf(quote.text),
                "kfs_sha256": hidden(quote.text, "kfs_sha256"),
                "idempotency_key": hidden(quote.text, "idempotency_key"),
                "amount": amount,
                "plan": "instalment",
                "term": "6",
            },
        )
        assert signed.status_code == 200, signed.text
        return signed.text

    page = draw("2000")
    assert 'id="disbursement" data-status="pending"' in page
    assert "放款处理中" in page
    assert 'data-state="signed"' in page
    line = client.get("/line").text
    assert re.search(r'id="line-pending-payout">2000.00', line)
    assert 'class="payout" data-status="pending"' in line
    channel.payout_scripted[f"account:{who}"] = Scenario.FROZEN
    assert client.get("/line", params={"lang": "en"}).status_code == 200  # the pages in English from here
    page = draw("1000")
    assert 'id="disbursement" data-status="failed"' in page
    assert "The payout failed" in page
    assert "the receiving card is frozen" in page
    assert 'data-state="cancelled"' in page
