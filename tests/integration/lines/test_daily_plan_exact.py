"""A daily-plan drawdown on the real database charges the daily rate on each day's balance in every month
(31-day, 28-day, leap February, 30-day), through servicing: drawn on a month end, repaid in part during the
first period, the first period's interest paid on its due date, paid off during the second period. The total
interest is the sum, over the intervals between repayments, of the interval's days at the daily rate (half up
to the fen per interval), and the KFS signed for it states the IRR of the plan's scheduled cash flows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import user
from xiaodai.db.tables import DisclosureRow, InstallmentRow, LoanRow
from xiaodai.journey import service as journey
from xiaodai.ledger import service as ledger
from xiaodai.lines import daily_interest as daily
from xiaodai.lines import service as lines
from xiaodai.pricing.apr import apr_cn

Approved = Callable[[str], tuple[int, str]]
PRINCIPAL = 500_000


@pytest.mark.parametrize(
    ("drawn_on", "part_after", "off_after"),
    [
        (date(2026, 1, 31), 11, 17),  # 31 Jan → 28 Feb (28 days), then March's 31
        (date(2026, 3, 10), 20, 25),  # March (31 days)
        (date(2028, 2, 10), 5, 9),  # leap February (29 days)
        (date(2026, 4, 10), 29, 30),  # April (30 days): the repayment the day before the due date
    ],
)
def test_daily_plan_charges_the_daily_rate_in_every_month(
    factory: sessionmaker[Session], approved: Approved, drawn_on: date, part_after: int, off_after: int
) -> None:
    user_id, app_id = approved(f"daily{drawn_on.isoformat()}@example.com")
    with factory() as s, s.begin():
        me = user(s, user_id)
        lines.grant_line(s, user=me, application_id=app_id, on=drawn_on, actor="test")
        request = lines.DrawRequest(amount_fen=PRINCIPAL, plan="daily")
        quote = lines.quote_draw(s, user=me, request=request, today=drawn_on)
        drawn = lines.draw(
            s,
            user=me,
            request=request,
            seen_sha256=quote["sha256"],
            ip="127.0.0.1",
            lang="zh",
            today=drawn_on,
            key="d",
        )
        loan_id = int(drawn["loan_id"])
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        rate = Decimal(loan.annual_rate)
        rows = s.execute(
            select(InstallmentRow).where(InstallmentRow.loan_id == loan_id).order_by(InstallmentRow.period)
        ).scalars()
        first_due = next(iter(rows)).due_on
        kfs = json.loads(s.execute(select(DisclosureRow.canonical_json)).scalars().all()[-1])
    # the KFS signed: each period its days at the daily rate, and the APR the IRR of those flows
    previous, flows_ok = drawn_on, True
    for row in kfs["schedule"]:
        due = date.fromisoformat(row["due_date"])
        want = Decimal(daily.interest_fen(PRINCIPAL, rate, (due - previous).days)) / 100
        flows_ok = flows_ok and Decimal(row["interest"]) == want
        previous = due
    assert flows_ok, kfs["schedule"][:3]
    part_on = drawn_on + timedelta(days=part_after)
    off_on = first_due + timedelta(days=off_after)
    assert part_on < first_due < off_on
    with factory() as s, s.begin():  # 1,500.00 during the first period
        lines.repay_drawdown(
            s, user=user(s, user_id), loan_id=loan_id, amount_fen=150_000, on=part_on, key="p"
        )
    with factory() as s, s.begin():  # what is due on the first due date
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        owed = lines.owed_today_fen(s, loan, first_due)
        lines.repay_drawdown(
            s, user=user(s, user_id), loan_id=loan_id, amount_fen=owed, on=first_due, key="d1"
        )
    with factory() as s, s.begin():  # everything, during the second period
        payoff = journey.payoff_fen(s, loan_id=loan_id, on=off_on)
        lines.repay_drawdown(
            s, user=user(s, user_id), loan_id=loan_id, amount_fen=payoff, on=off_on, key="off"
        )
    # the daily model: interest for each interval's days on the balance of that interval
    first = daily.interest_fen(PRINCIPAL, rate, part_after)
    balance = PRINCIPAL - (150_000 - first)
    second = daily.interest_fen(balance, rate, (first_due - part_on).days)
    third = daily.interest_fen(balance, rate, off_after)
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.state == "settled"
        charged = loan.paid_total_fen - loan.principal_fen
        assert owed == second  # the first due date asks exactly the running period's daily interest
        # (a part of a period is the period's exact interest pro rata: here to the fen)
        assert charged == first + second + third, (charged, first, second, third)
        assert ledger.check(s) == []
        assert lines.check_commitments(s) == []
    start = drawn_on
    flows = [(start, -PRINCIPAL)] + [
        (date.fromisoformat(r["due_date"]), int(Decimal(r["payment"]) * 100)) for r in kfs["schedule"]
    ]
    steps = daily.run_plan(PRINCIPAL, rate, start, [daily.Repayment(on, fen) for on, fen in flows[1:]])
    irr = apr_cn(daily.plan_flows(PRINCIPAL, start, steps)).apr_percent
    assert Decimal(str(kfs["headline"]["apr_percent"])) == irr.quantize(Decimal("0.01"))
