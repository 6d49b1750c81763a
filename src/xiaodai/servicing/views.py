"""Read models: a loan with its schedule, each instalment's state, days past due and bucket."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.money.money import fen_json as _m
from xiaodai.servicing.delinquency import bucket_for, days_past_due, parse_buckets
from xiaodai.servicing.loans import InstallmentLike, get_loan, installments, unpaid


def loan_view(session: Session, *, loan_id: int, as_of: date | None = None) -> dict[str, Any]:
    loan = get_loan(session, loan_id)
    return view_of(loan, installments(session, loan.id), as_of=as_of)


def view_of(loan: Any, rows: Iterable[InstallmentLike], *, as_of: date | None = None) -> dict[str, Any]:
    """The view of a loan read any way: ``loan`` has the ``loans`` columns named below as attributes (an ORM
    row, or a Core row selected with those names), ``rows`` its active instalments in period order."""
    when = as_of or date.max
    buckets = parse_buckets(loan.buckets)
    schedule = []
    for r in rows:
        owed = unpaid(r)
        if owed == 0:
            status = "paid"
        elif r.billed and r.due_on < when:
            status = "overdue"
        elif r.billed:
            status = "due"
        else:
            status = "scheduled"
        dpd = days_past_due(r.due_on, as_of) if status == "overdue" and as_of else 0
        schedule.append(
            {
                "period": r.period,
                "due_date": r.due_on.isoformat(),
                "principal": _m(r.principal_fen),
                "interest": _m(r.interest_fen),
                "fee": _m(r.fee_fen),
                "payment": _m(r.principal_fen + r.interest_fen + r.fee_fen),
                "paid": _m(r.paid_principal_fen + r.paid_interest_fen + r.paid_fee_fen),
                "outstanding": _m(owed),
                "status": status,
                "days_past_due": dpd,
                "bucket": bucket_for(dpd, buckets),
                "paid_on": r.paid_on.isoformat() if r.paid_on else None,
            }
        )
    return {
        "id": loan.id,
        "state": loan.state,
        "product": loan.product,
        "method": loan.method,
        "currency": loan.currency,
        "principal": _m(loan.principal_fen),
        "term": loan.term,
        "annual_rate": loan.annual_rate,
        "apr_percent": loan.apr_percent,
        "start_date": loan.start_on.isoformat(),
        "disbursed_on": loan.disbursed_on.isoformat() if loan.disbursed_on else None,
        "closed_on": loan.closed_on.isoformat() if loan.closed_on else None,
        "balances": {
            "principal": _m(loan.principal_outstanding_fen),
            "interest": _m(loan.interest_outstanding_fen),
            "fees": _m(loan.fees_outstanding_fen),
            "penalties": _m(loan.penalties_outstanding_fen),
            "overpayment": _m(loan.overpayment_fen),
        },
        "paid_total": _m(loan.paid_total_fen),
        "penalties_charged": _m(loan.penalties_charged_fen),
        "disclosed_repayment": _m(loan.disclosed_repayment_fen),
        "penalty": {
            "disclosed_annual_rate": loan.penalty_rate_disclosed,
            "effective_daily_rate_e9": loan.penalty_rate_daily_e9,
            "reason": loan.penalty_reason,
            "cap_profile": loan.cap_profile,
        },
        "days_past_due": loan.dpd,
        "bucket": loan.bucket,
        "allocation_order": loan.allocation_order,
        "schedule": schedule,
    }
