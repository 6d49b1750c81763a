"""What the borrower and staff see of a line: limit, available, rate (APR first), next due, due this
month, drawdowns, notices, events."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    CreditLineEventRow,
    CreditLineRow,
    DisclosureRow,
    DrawdownRow,
    InstallmentRow,
    LineNoticeRow,
    LoanRow,
    UserRow,
)
from xiaodai.journey import service as journey
from xiaodai.lines import daily_interest
from xiaodai.lines.limit import (
    LineState,
    available_fen,
    default_policy,
)
from xiaodai.lines.plans import plan_rates
from xiaodai.lines.store import LineNotFoundError, outstanding_fen, own_line, reserved_fen, yuan
from xiaodai.money.dates import add_months
from xiaodai.payments import payout

# ---------------------------------------------------------------- views


def _rate_json(annual_rate: Decimal, *, today: date) -> dict[str, Any]:
    """APR first: what a draw made today costs on each plan (IRR, every cost included, as each drawdown's
    KFS computes it: ``lines.plans``) — ``apr_percent`` is the highest of them, the range and each plan's
    figure beside it; the daily rate second."""
    rates = plan_rates(annual_rate, today=today, policy=default_policy())
    return {
        "apr_percent": rates["apr_max_percent"],
        **rates,
        "daily_rate_percent": str(daily_interest.daily_rate_percent(annual_rate)),
        "annual_rate": str(annual_rate),
    }


def summary(session: Session, line: CreditLineRow, *, today: date) -> dict[str, Any]:
    outstanding = outstanding_fen(session, line.id)
    reserved = reserved_fen(session, line.id)
    return {
        "line_id": line.id,
        "borrower_id": line.borrower_id,
        "state": line.state,
        "limit": yuan(line.limit_fen),
        "outstanding_principal": yuan(outstanding),
        "pending_disbursement": yuan(reserved),  # drawn, the payout waiting for the channel
        "available": yuan(
            max(0, available_fen(line.limit_fen, outstanding) - reserved) if line.state != "closed" else 0
        ),
        "can_draw": line.state == LineState.ACTIVE.value and today <= line.expires_on,
        "grade": line.grade,
        "rate": _rate_json(Decimal(line.annual_rate), today=today),
        "granted_on": line.granted_on.isoformat(),
        "expires_on": line.expires_on.isoformat(),
        "policy_version": line.policy_version,
        "increase_offer": (
            {
                "limit": yuan(line.offered_limit_fen),
                "reason": line.offer_reason,
                "expires_on": line.offer_expires_on.isoformat() if line.offer_expires_on else None,
            }
            if line.offered_limit_fen is not None and line.offer_expires_on and today <= line.offer_expires_on
            else None
        ),
    }


def _dues(session: Session, line_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(InstallmentRow, LoanRow.id)
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(LoanRow.line_id == line_id, InstallmentRow.active.is_(True))
        .order_by(InstallmentRow.due_on, LoanRow.id)
    ).all()
    dues = []
    for row, loan_id in rows:
        left = (
            row.principal_fen
            - row.paid_principal_fen
            + row.interest_fen
            - row.paid_interest_fen
            + row.fee_fen
            - row.paid_fee_fen
        )
        if left > 0:
            dues.append({"loan_id": loan_id, "period": row.period, "due_on": row.due_on, "amount_fen": left})
    return dues


def line_view(session: Session, *, user: UserRow, today: date) -> dict[str, Any]:
    """My line: limit, available, rate (APR first), next due, drawdowns, due this month, notices."""
    line = own_line(session, user)
    view = summary(session, line, today=today)
    dues = _dues(session, line.id)
    upcoming = [d for d in dues if d["due_on"] >= today] or dues
    view["next_due"] = (
        {"due_on": upcoming[0]["due_on"].isoformat(), "amount": yuan(upcoming[0]["amount_fen"])}
        if upcoming
        else None
    )
    month_end = add_months(today.replace(day=1), 1) - timedelta(days=1)
    this_month = [d for d in dues if d["due_on"] <= month_end]  # overdue ones too: they are due now
    view["due_this_month"] = {
        "through": month_end.isoformat(),
        "total": yuan(sum(d["amount_fen"] for d in this_month)),
        "items": [
            {
                "loan_id": d["loan_id"],
                "period": d["period"],
                "due_on": d["due_on"].isoformat(),
                "amount": yuan(d["amount_fen"]),
                "overdue": d["due_on"] < today,
                "state": due_state(d["due_on"], today),
            }
            for d in this_month
        ],
    }
    drawdowns = session.execute(
        select(DrawdownRow).where(DrawdownRow.line_id == line.id).order_by(DrawdownRow.id)
    ).scalars()
    view["drawdowns"] = [drawdown_json(session, d) for d in drawdowns]
    view["notices"] = notices(session, line_id=line.id)
    return view


def due_state(due_on: date, today: date) -> str:
    """What a due instalment's row says: ``overdue`` (its date has passed unpaid), ``due_today``, or
    ``upcoming`` (due later this month)."""
    if due_on < today:
        return "overdue"
    return "due_today" if due_on == today else "upcoming"


def notices(session: Session, *, line_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(LineNoticeRow).where(LineNoticeRow.line_id == line_id).order_by(LineNoticeRow.id.desc())
    ).scalars()
    return [
        {
            "kind": n.kind,
            "reason": n.reason,
            "old_limit": yuan(n.old_limit_fen),
            "new_limit": yuan(n.new_limit_fen),
            "state": n.state,
            "on": n.business_date.isoformat(),
        }
        for n in rows
    ]


def line_of_borrower(session: Session, *, borrower_id: int, today: date) -> dict[str, Any]:
    """Staff: a borrower's open line (or their latest)."""
    row = (
        session.execute(
            select(CreditLineRow)
            .where(CreditLineRow.borrower_id == borrower_id)
            .order_by(CreditLineRow.id.desc())
        )
        .scalars()
        .first()
    )
    if row is None:
        raise LineNotFoundError("this borrower has no credit line")
    view = summary(session, row, today=today)
    view["events"] = [
        {
            "kind": e.kind,
            "old_limit": yuan(e.old_limit_fen),
            "new_limit": yuan(e.new_limit_fen),
            "state": e.new_state,
            "reason": e.reason,
            "on": e.business_date.isoformat(),
            "actor": e.actor,
        }
        for e in session.execute(
            select(CreditLineEventRow)
            .where(CreditLineEventRow.line_id == row.id)
            .order_by(CreditLineEventRow.id)
        ).scalars()
    ]
    return view


def drawdown_json(session: Session, row: DrawdownRow) -> dict[str, Any]:
    loan = session.get(LoanRow, row.loan_id)
    assert loan is not None
    return {
        "drawdown_id": row.id,
        "line_id": row.line_id,
        "loan_id": row.loan_id,
        "plan": row.plan,
        "principal": yuan(row.principal_fen),
        "term": row.term,
        "drawn_on": row.drawn_on.isoformat(),
        "state": loan.state,
        "principal_outstanding": yuan(loan.principal_outstanding_fen),
        "disbursement": payout.disbursement_view(payout.of_loan(session, loan.id)),
        "apr_percent": loan.apr_percent,
    }


def disclosure_of(session: Session, *, user: UserRow, loan_id: int) -> dict[str, Any]:
    journey.own_loan(session, user, loan_id)
    row = session.execute(select(DisclosureRow).where(DisclosureRow.loan_id == loan_id)).scalar_one()
    document: dict[str, Any] = json.loads(row.canonical_json)
    return document
