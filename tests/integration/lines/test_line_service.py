"""Credit lines on the real database (SQLite and PostgreSQL): grant from a decision, draw (instalment and
daily plans) through the journey's KFS and signing, repay, freeze, review, ledger and commitment checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY, Approved, draw_on_line, granted, user
from xiaodai.db.tables import DisclosureRow, LineNoticeRow, LoanRow, PostingRow
from xiaodai.journey.service import JourneyError
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.lines import service as lines
from xiaodai.lines.limit import LineError, LineState


def _all_clean(s: Session) -> None:
    assert ledger.check(s) == []
    assert lines.check_commitments(s) == []


def test_grant_draw_repay_restores_available(factory: sessionmaker[Session], approved: Approved) -> None:
    user_id = granted(factory, approved)
    with factory() as s, s.begin():
        view = lines.line_view(s, user=user(s, user_id), today=TODAY)
        limit = view["limit"]
        assert view["available"] == limit
        assert view["rate"]["apr_percent"]  # APR first, from pricing's IRR
        drawn = draw_on_line(s, user_id, 300_000)
        assert drawn["plan"] == "instalment"
        assert drawn["term"] == 6
        loan = s.get(LoanRow, drawn["loan_id"])
        assert loan is not None
        assert loan.line_id is not None
        assert loan.principal_outstanding_fen == 300_000
        # the drawdown has its own signed disclosure, its KFS names the line
        disclosure = s.execute(select(DisclosureRow).where(DisclosureRow.loan_id == loan.id)).scalar_one()
        assert '"line"' in disclosure.canonical_json
        _all_clean(s)
    with factory() as s, s.begin():
        view = lines.line_view(s, user=user(s, user_id), today=TODAY)
        limit_fen = round(float(limit) * 100)
        assert round(float(view["available"]) * 100) == limit_fen - 300_000
        assert len(view["drawdowns"]) == 1
        assert view["next_due"] is not None
        # an idempotent retry returns the same drawdown
        again = draw_on_line(s, user_id, 300_000)
        assert again["replayed"]
        assert again["loan_id"] == drawn["loan_id"]
    with factory() as s, s.begin():  # repay part of the principal at once (随借随还: any amount, any day)
        lines.repay_drawdown(
            s,
            user=user(s, user_id),
            loan_id=drawn["loan_id"],
            amount_fen=100_000,
            on=TODAY + timedelta(days=10),
            key="r1",
        )
    with factory() as s, s.begin():
        loan = s.get(LoanRow, drawn["loan_id"])
        assert loan is not None
        assert loan.principal_outstanding_fen < 300_000
        view = lines.line_view(s, user=user(s, user_id), today=TODAY)
        assert round(float(view["available"]) * 100) == limit_fen - loan.principal_outstanding_fen
        undrawn = s.execute(
            select(func.sum(PostingRow.amount_fen)).where(
                PostingRow.account == Account.COMMITMENT_UNDRAWN.value
            )
        ).scalar_one()
        assert undrawn == limit_fen - loan.principal_outstanding_fen
        _all_clean(s)


def test_daily_plan_draw_and_payoff(factory: sessionmaker[Session], approved: Approved) -> None:
    user_id = granted(factory, approved)
    with factory() as s, s.begin():
        drawn = draw_on_line(s, user_id, 200_000, plan="daily", term=None)
        assert drawn["plan"] == "daily"
        kfs = lines.disclosure_of(s, user=user(s, user_id), loan_id=drawn["loan_id"])
        assert kfs["daily_plan"]["prepayment_fee"] == "0.00"
        assert kfs["daily_plan"]["repay_any_day"] is True
    from xiaodai.journey.service import payoff_fen

    with factory() as s, s.begin():
        on = TODAY + timedelta(days=9)
        payoff = payoff_fen(s, loan_id=drawn["loan_id"], on=on)
        assert 200_000 < payoff < 200_000 + 1_000  # 9 days of interest, no fee
        lines.repay_drawdown(
            s, user=user(s, user_id), loan_id=drawn["loan_id"], amount_fen=payoff, on=on, key="p"
        )
    with factory() as s, s.begin():
        loan = s.get(LoanRow, drawn["loan_id"])
        assert loan is not None
        assert loan.state == "settled"
        assert loan.principal_outstanding_fen == 0
        view = lines.line_view(s, user=user(s, user_id), today=TODAY)
        assert view["available"] == view["limit"]
        _all_clean(s)


def test_refusals_post_nothing(factory: sessionmaker[Session], approved: Approved) -> None:
    user_id = granted(factory, approved)
    with factory() as s, s.begin():
        view = lines.line_view(s, user=user(s, user_id), today=TODAY)
        limit_fen = round(float(view["limit"]) * 100)
        me = user(s, user_id)
        for request, reason in [
            (lines.DrawRequest(amount_fen=limit_fen + 100, term=6), "DRAW_ABOVE_AVAILABLE"),
            (lines.DrawRequest(amount_fen=5_000, term=6), "DRAW_BELOW_MINIMUM"),
            (lines.DrawRequest(amount_fen=100_000, term=36), "DRAW_BAD_TERM"),
            (lines.DrawRequest(amount_fen=100_000, plan="weekly", term=6), "DRAW_BAD_PLAN"),
        ]:
            with pytest.raises(LineError) as refused:
                lines.quote_draw(s, user=me, request=request, today=TODAY)
            assert refused.value.reason == reason
        with pytest.raises(JourneyError) as wrong:
            lines.draw(
                s,
                user=me,
                request=lines.DrawRequest(amount_fen=100_000, term=6),
                seen_sha256="0" * 64,
                ip="x",
                lang="zh",
                today=TODAY,
                key="bad",
            )
        assert "changed since it was shown" in str(wrong.value)
        assert s.execute(select(func.count()).select_from(LoanRow)).scalar_one() == 0
    with factory() as s, s.begin():  # a second line for the same borrower is refused
        with pytest.raises(LineError) as exists:
            lines.grant_line(s, user=user(s, user_id), application_id="nope", on=TODAY, actor="t")
        assert exists.value.reason == "LINE_EXISTS"


def test_freeze_blocks_draws_with_a_notice_and_close(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    user_id = granted(factory, approved)
    with factory() as s, s.begin():
        line_id = lines.line_view(s, user=user(s, user_id), today=TODAY)["line_id"]
        lines.set_state(
            s, line_id=line_id, to=LineState.FROZEN, reason="LINE_FREEZE_FRAUD_CHECK", on=TODAY, actor="staff"
        )
    with factory() as s, s.begin():
        with pytest.raises(LineError) as frozen:
            lines.quote_draw(
                s, user=user(s, user_id), request=lines.DrawRequest(100_000, term=6), today=TODAY
            )
        assert frozen.value.reason == "LINE_FROZEN"
        notices = s.execute(select(LineNoticeRow).order_by(LineNoticeRow.id)).scalars().all()
        assert [(n.kind, n.reason) for n in notices] == [
            ("grant", "LINE_GRANTED"),
            ("freeze", "LINE_FREEZE_FRAUD_CHECK"),
        ]
        with pytest.raises(LineError):
            lines.set_state(s, line_id=line_id, to=LineState.FROZEN, reason="X", on=TODAY, actor="staff")
    with factory() as s, s.begin():
        lines.set_state(
            s, line_id=line_id, to=LineState.CLOSED, reason="LINE_CLOSED_BY_BORROWER", on=TODAY, actor="staff"
        )
        _all_clean(s)


def test_review_decrease_and_increase_offer(factory: sessionmaker[Session], approved: Approved) -> None:
    user_id = granted(factory, approved)
    with factory() as s, s.begin():
        line_id = lines.line_view(s, user=user(s, user_id), today=TODAY)["line_id"]
        result = lines.review_line(
            s,
            line_id=line_id,
            on=TODAY,
            actor="review",
            bureau={"overdue_accounts_now": 0, "max_overdue_months": 2},
        )
        assert result["action"] == "decrease"
        assert result["reason"] == "LINE_DECREASE_BUREAU_HISTORY"
        _all_clean(s)
    with factory() as s, s.begin():
        view = lines.line_view(s, user=user(s, user_id), today=TODAY)
        assert view["notices"][0]["reason"] == "LINE_DECREASE_BUREAU_HISTORY"
        assert view["limit"] == result["new_limit"]
        # no offer to accept yet
        with pytest.raises(LineError):
            lines.accept_increase(s, user=user(s, user_id), on=TODAY)
    with factory() as s, s.begin():  # good behaviour: three on-time months, 30 % used
        drawn = draw_on_line(s, user_id, round(float(result["new_limit"]) * 100 * 0.5) // 100 * 100, term=12)
    loan_id = drawn["loan_id"]
    day = TODAY
    for month in range(1, 4):
        with factory() as s, s.begin():
            from xiaodai.db.tables import InstallmentRow

            due = s.execute(
                select(InstallmentRow).where(
                    InstallmentRow.loan_id == loan_id, InstallmentRow.period == month
                )
            ).scalar_one()
            day = due.due_on
            amount = due.principal_fen + due.interest_fen + due.fee_fen
            lines.repay_drawdown(
                s, user=user(s, user_id), loan_id=loan_id, amount_fen=amount, on=day, key=f"m{month}"
            )
    with factory() as s, s.begin():
        result = lines.review_line(
            s,
            line_id=line_id,
            on=day,
            actor="review",
            bureau={"overdue_accounts_now": 0, "max_overdue_months": 0},
        )
        assert result["action"] == "offer_increase", result
    with factory() as s, s.begin():
        view = lines.accept_increase(s, user=user(s, user_id), on=day)
        assert view["limit"] == result["new_limit"]
        _all_clean(s)


def test_an_offer_taken_as_a_line_is_not_also_signed_as_a_loan(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    from xiaodai.journey import service as journey

    user_id, app_id = approved("once@example.com")
    with factory() as s, s.begin():
        lines.grant_line(s, user=user(s, user_id), application_id=app_id, on=TODAY, actor="test")
    with factory() as s, s.begin():
        with pytest.raises(JourneyError, match="taken as a credit line"):
            journey.offer_kfs(
                s, user=user(s, user_id), public_id=app_id, request=journey.OfferRequest(), today=TODAY
            )
        with pytest.raises(LineError, match="already has an open credit line"):
            lines.grant_line(s, user=user(s, user_id), application_id=app_id, on=TODAY, actor="test")


def test_limit_changes_reach_the_borrower_through_the_notice_channels(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    """A freeze is a legal notice queued for the notify service, with the reason in words; the grant is not
    a notice kind (the borrower is on the page that granted it)."""
    from datetime import UTC, datetime

    from xiaodai.db.tables import NoticeRow
    from xiaodai.notify import service as notify

    user_id = granted(factory, approved)
    with factory() as s, s.begin():
        line_id = lines.line_view(s, user=user(s, user_id), today=TODAY)["line_id"]
        lines.set_state(
            s, line_id=line_id, to=LineState.FROZEN, reason="LINE_FREEZE_OVERDUE", on=TODAY, actor="staff"
        )
    with factory() as s, s.begin():
        queued = s.execute(select(NoticeRow).where(NoticeRow.borrower_id == user_id)).scalars().all()
        assert [(n.kind, n.category) for n in queued] == [("limit_freeze", "legal")]
        # decided in daytime local hours (10:00 in China is 02:00 UTC)
        at = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        counts = notify.drain(s, as_of=at)
        assert counts["sent"] >= 1
    with factory() as s, s.begin():
        texts = [m["body"] for m in notify.inbox(s, borrower_id=user_id)]
        assert texts, "the freeze notice is in the borrower's inbox"
        assert all("LINE_FREEZE_OVERDUE" not in t for t in texts)
        assert any("借款逾期30天以上" in t or "a drawdown 30+ days overdue" in t for t in texts)
