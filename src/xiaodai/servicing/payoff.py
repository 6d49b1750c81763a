"""Early repayment (shell): payoff quotes for any date, full and partial prepayment with re-amortisation.

Interest only for the days used (民法典 Art. 677); no prepayment fee. Split from ``service.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.money.daycount import DayCount
from xiaodai.pricing.schedule import Method
from xiaodai.servicing.accrual import prorated_fen
from xiaodai.servicing.allocation import AllocationOrder, allocate
from xiaodai.servicing.billing import RECEIVABLE, apply_allocations, bill_through
from xiaodai.servicing.commands import Result, run_once
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import LoanState, is_open
from xiaodai.servicing.loans import dues, get_loan, installments, lock_loan, period_views, refresh_status
from xiaodai.servicing.prepayment import PayoffQuote, PrepayMode, payoff_quote, reschedule
from xiaodai.servicing.service import _check_date, _money, scheduled_row


def prepay_quote(session: Session, *, loan_id: int, on: date) -> PayoffQuote:
    """What settles the loan on ``on``: principal, dues, interest for the days used, penalties.

    Read-only: instalments due by ``on`` are treated as billed without posting anything.
    """
    loan = get_loan(session, loan_id)
    if not is_open(LoanState(loan.state)):
        raise ServicingError(f"loan {loan_id} is {loan.state}: nothing to pay off")
    _check_date(loan, on)
    views = [
        replace(v, billed=v.billed or v.due_on <= on) for v in period_views(installments(session, loan.id))
    ]
    return payoff_quote(
        views, on=on, penalties_fen=loan.penalties_outstanding_fen, overpayment_fen=loan.overpayment_fen
    )


def payoff_json(quote: PayoffQuote) -> dict[str, Any]:
    return {
        "on": quote.on.isoformat(),
        "principal": _money(quote.principal_fen),
        "interest": _money(quote.interest_fen),
        "fees": _money(quote.fees_fen),
        "penalties": _money(quote.penalties_fen),
        "prepayment_fee": _money(quote.prepayment_fee_fen),
        "overpayment_credit": _money(quote.overpayment_credit_fen),
        "total": _money(quote.total_fen),
    }


def prepay(
    session: Session,
    *,
    loan_id: int,
    on: date,
    idempotency_key: str,
    amount_fen: int | None = None,
    mode: PrepayMode = PrepayMode.SHORTEN_TERM,
    dated_by_platform: bool = False,
) -> Result:
    """Full (``amount_fen`` None or ≥ the payoff) or partial prepayment; a partial one re-amortises.
    ``dated_by_platform``: as for ``service.repay`` (``on`` is not part of the idempotent request)."""

    return run_once(
        session,
        key=idempotency_key,
        command="prepay",
        request={
            "loan_id": loan_id,
            **({} if dated_by_platform else {"on": on.isoformat()}),
            "amount_fen": amount_fen,
            "mode": mode.value,
        },
        action=lambda: prepayment(
            session, loan_id=loan_id, on=on, key=idempotency_key, amount_fen=amount_fen, mode=mode
        ),
    )


def prepayment(
    session: Session,
    *,
    loan_id: int,
    on: date,
    key: str,
    amount_fen: int | None = None,
    mode: PrepayMode = PrepayMode.SHORTEN_TERM,
) -> Result:
    """The prepayment itself, for a command whose idempotency ``key`` the caller has claimed (``prepay``; a
    borrower's repayment of exactly the payoff, ``repayment.repay``)."""
    loan = lock_loan(session, loan_id)
    if not is_open(LoanState(loan.state)):
        raise ServicingError(f"loan {loan_id} is {loan.state}: it cannot be prepaid")
    _check_date(loan, on)
    rows = installments(session, loan.id, lock=True)
    bill_through(session, loan, rows, on)
    quote = payoff_quote(
        period_views(rows),
        on=on,
        penalties_fen=loan.penalties_outstanding_fen,
        overpayment_fen=loan.overpayment_fen,
    )
    if amount_fen is None or amount_fen >= quote.total_fen:
        return _full_prepayment(session, loan, rows, quote, on, amount_fen, key)
    return _partial_prepayment(session, loan, rows, quote, on, amount_fen, mode, key)


def _running(rows: list[InstallmentRow]) -> list[InstallmentRow]:
    return [r for r in rows if not r.billed]


def _full_prepayment(  # noqa: PLR0917
    session: Session,
    loan: LoanRow,
    rows: list[InstallmentRow],
    quote: PayoffQuote,
    on: date,
    amount_fen: int | None,
    key: str,
) -> Result:
    cash = quote.total_fen if amount_fen is None else amount_fen
    billed_interest = loan.interest_outstanding_fen
    billed_fees = loan.fees_outstanding_fen
    accrued_interest = quote.interest_fen - billed_interest
    accrued_fees = quote.fees_fen - billed_fees
    owed = (
        quote.principal_fen
        + quote.interest_fen
        + quote.fees_fen
        + quote.penalties_fen
        + quote.prepayment_fee_fen
    )
    credit_used = min(loan.overpayment_fen, owed)
    extra = cash - quote.total_fen  # paid more than the payoff: held as overpayment, to refund
    legs = [
        (Account.CASH, cash),
        (Account.OVERPAYMENT, credit_used - extra),
        (Account.LOAN_PRINCIPAL, -loan.principal_outstanding_fen),
        (Account.LOAN_INTEREST, -billed_interest),
        (Account.INTEREST_INCOME, -accrued_interest),
        (Account.LOAN_FEES, -billed_fees),
        (Account.FEE_INCOME, -accrued_fees),
        (Account.LOAN_PENALTIES, -loan.penalties_outstanding_fen),
    ]
    entry_id = ledger.post(
        session,
        entry(
            on,
            "prepayment",
            f"prepay:{key}",
            legs,
            loan_id=loan.id,
            memo=json.dumps({"payoff": payoff_json(quote), "kind": "full"}),
        ),
        loan=loan,
    )
    for row in rows:
        if row.billed:
            row.paid_principal_fen, row.paid_interest_fen, row.paid_fee_fen = (
                row.principal_fen,
                row.interest_fen,
                row.fee_fen,
            )
            row.paid_on = row.paid_on or on
    running = _running(rows)
    if running:
        first = running[0]
        principal_left = sum(r.principal_fen - r.paid_principal_fen for r in running)
        for row in running:
            row.active = False
        version = max(r.schedule_version for r in rows) + 1
        session.add(
            InstallmentRow(
                loan_id=loan.id,
                period=first.period,
                schedule_version=version,
                active=True,
                start_on=first.start_on,
                due_on=on,
                principal_fen=principal_left,
                interest_fen=accrued_interest + first.paid_interest_fen,
                fee_fen=accrued_fees + first.paid_fee_fen,
                billed=True,
                paid_principal_fen=principal_left,
                paid_interest_fen=accrued_interest + first.paid_interest_fen,
                paid_fee_fen=accrued_fees + first.paid_fee_fen,
                paid_on=on,
            )
        )
    session.flush()
    loan.paid_total_fen += cash
    refresh_status(loan, installments(session, loan.id, lock=True), on)
    return {
        "loan_id": loan.id,
        "entry_id": entry_id,
        "kind": "full",
        "payoff": payoff_json(quote),
        "paid": _money(cash),
        "overpayment": _money(loan.overpayment_fen),
        "state": loan.state,
    }


def _partial_prepayment(  # noqa: PLR0917
    session: Session,
    loan: LoanRow,
    rows: list[InstallmentRow],
    quote: PayoffQuote,
    on: date,
    amount_fen: int,
    mode: PrepayMode,
    key: str,
) -> Result:
    method = Method(loan.method)
    if method is Method.FLAT_FEE:
        raise ServicingError("partial prepayment is not offered for flat-fee products; full prepayment is")
    running = _running(rows)
    if not running:
        raise ServicingError("nothing left to re-amortise: pay the dues or prepay in full")
    first = running[0]
    accrued = 0
    if first.start_on < on:
        accrued = prorated_fen(
            first.interest_fen, (on - first.start_on).days, (first.due_on - first.start_on).days
        )
    owed_now = (
        loan.interest_outstanding_fen
        + loan.fees_outstanding_fen
        + loan.penalties_outstanding_fen
        + sum(r.principal_fen - r.paid_principal_fen for r in rows if r.billed)
        + accrued
    )
    available = amount_fen + loan.overpayment_fen
    if available <= owed_now:
        raise ServicingError(f"a partial prepayment must exceed what is due today ({_money(owed_now)})")
    allocations, left = allocate(
        dues(rows, loan.penalties_outstanding_fen),
        available,
        order=AllocationOrder(loan.allocation_order),
        as_of=on,
    )
    left -= accrued
    unbilled_principal = sum(r.principal_fen - r.paid_principal_fen for r in running)
    principal_part = min(left, unbilled_principal)
    extra = left - principal_part
    legs = [(Account.CASH, amount_fen), (Account.OVERPAYMENT, loan.overpayment_fen - extra)]
    legs += [(RECEIVABLE[a.component], -a.amount_fen) for a in allocations]
    legs += [(Account.INTEREST_INCOME, -accrued), (Account.LOAN_PRINCIPAL, -principal_part)]
    apply_allocations(rows, [(a.period, a.component, a.amount_fen) for a in allocations], on)
    balance = unbilled_principal - principal_part
    new_rows: list[InstallmentRow] = []
    version = max(r.schedule_version for r in rows) + 1
    for row in running:
        row.active = False
    if balance > 0:
        current_payment = running[0].principal_fen + running[0].interest_fen + running[0].fee_fen
        plan = reschedule(
            balance_fen=balance,
            on=on,
            next_due_on=first.due_on,
            remaining_periods=len(running),
            annual_rate=Decimal(loan.annual_rate),
            method=method,
            mode=mode,
            current_payment_fen=current_payment,
            monthly_fee_fen=loan.monthly_fee_fen,
            first_period_number=first.period,
            odd_period_daycount=DayCount(loan.odd_period_daycount),
        )
        previous = on
        for item in plan:
            new_rows.append(
                scheduled_row(
                    loan_id=loan.id,
                    period=item.period,
                    version=version,
                    start_on=previous,
                    due_on=item.due_on,
                    principal_fen=item.principal_fen,
                    interest_fen=item.interest_fen,
                    fee_fen=item.fee_fen,
                )
            )
            previous = item.due_on
    session.add_all(new_rows)
    memo = json.dumps(
        {
            "kind": "partial",
            "mode": mode.value,
            "accrued_interest": accrued,
            "principal": principal_part,
            "allocations": [[a.period, a.component.value, a.amount_fen] for a in allocations],
        }
    )
    entry_id = ledger.post(
        session, entry(on, "prepayment", f"prepay:{key}", legs, loan_id=loan.id, memo=memo), loan=loan
    )
    loan.paid_total_fen += amount_fen
    refresh_status(loan, installments(session, loan.id, lock=True), on)
    return {
        "loan_id": loan.id,
        "entry_id": entry_id,
        "kind": "partial",
        "mode": mode.value,
        "interest_for_days_used": _money(accrued),
        "principal_reduced": _money(principal_part),
        "new_schedule": [
            {
                "period": r.period,
                "due_date": r.due_on.isoformat(),
                "payment": _money(r.principal_fen + r.interest_fen + r.fee_fen),
            }
            for r in new_rows
        ],
        "state": loan.state,
    }
