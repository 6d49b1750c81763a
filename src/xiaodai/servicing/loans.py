"""Loading and locking loans; per-loan views of instalments as plain values for the pure core."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.servicing.allocation import Component, Due
from xiaodai.servicing.delinquency import bucket_for, days_past_due, parse_buckets
from xiaodai.servicing.errors import LoanNotFoundError
from xiaodai.servicing.lifecycle import LoanState, is_open, transition
from xiaodai.servicing.prepayment import PeriodView

# Built once: a statement object built per call costs more Python than the query itself (cache key).
_LOCK_LOAN = select(LoanRow).where(LoanRow.id == bindparam("loan_id")).with_for_update()


def _installments_query(*, active_only: bool, lock: bool) -> Select[InstallmentRow]:
    query = select(InstallmentRow).where(InstallmentRow.loan_id == bindparam("loan_id"))
    if lock:
        query = query.with_for_update()
    if active_only:
        query = query.where(InstallmentRow.active.is_(True))
    return query.order_by(InstallmentRow.period, InstallmentRow.schedule_version)


_INSTALLMENTS = {
    (active_only, lock): _installments_query(active_only=active_only, lock=lock)
    for active_only in (True, False)
    for lock in (True, False)
}


def lock_loan(session: Session, loan_id: int) -> LoanRow:
    """The loan row, locked for the transaction (PostgreSQL row lock; SQLite serialises writers)."""
    loan = session.execute(_LOCK_LOAN, {"loan_id": loan_id}).scalar_one_or_none()
    if loan is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    return loan


def get_loan(session: Session, loan_id: int) -> LoanRow:
    loan = session.get(LoanRow, loan_id)
    if loan is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    return loan


def installments(
    session: Session, loan_id: int, *, active_only: bool = True, lock: bool = False
) -> list[InstallmentRow]:
    """The loan's instalments; ``lock`` takes row locks (PostgreSQL) so that a concurrent end of day or
    repayment cannot bill the same instalment twice — it waits and then sees the committed state."""
    query = _INSTALLMENTS[active_only, lock]
    return list(session.execute(query, {"loan_id": loan_id}).scalars())


def unpaid(row: InstallmentRow) -> int:
    return (
        (row.principal_fen - row.paid_principal_fen)
        + (row.interest_fen - row.paid_interest_fen)
        + (row.fee_fen - row.paid_fee_fen)
    )


def dues(rows: list[InstallmentRow], penalties_fen: int) -> list[Due]:
    """Everything billed and unpaid, plus the loan's penalty balance at its oldest overdue instalment."""
    out: list[Due] = []
    billed = [r for r in rows if r.billed]
    for r in billed:
        out.append(Due(r.period, Component.PRINCIPAL, r.due_on, r.principal_fen - r.paid_principal_fen))
        out.append(Due(r.period, Component.INTEREST, r.due_on, r.interest_fen - r.paid_interest_fen))
        out.append(Due(r.period, Component.FEE, r.due_on, r.fee_fen - r.paid_fee_fen))
    if penalties_fen > 0:
        oldest = next((r for r in billed if unpaid(r) > 0), billed[0] if billed else rows[0])
        out.append(Due(oldest.period, Component.PENALTY, oldest.due_on, penalties_fen))
    return out


def period_views(rows: list[InstallmentRow]) -> list[PeriodView]:
    return [
        PeriodView(
            r.period,
            r.start_on,
            r.due_on,
            r.principal_fen,
            r.interest_fen,
            r.fee_fen,
            r.billed,
            r.paid_principal_fen,
            r.paid_interest_fen,
            r.paid_fee_fen,
        )
        for r in rows
    ]


def refresh_status(loan: LoanRow, rows: list[InstallmentRow], as_of: date) -> None:
    """DPD, bucket and state from the instalments (oldest unpaid billed instalment due before ``as_of``)."""
    state = LoanState(loan.state)
    if not is_open(state):
        return
    overdue = [r.due_on for r in rows if r.billed and r.due_on < as_of and unpaid(r) > 0]
    loan.dpd = days_past_due(min(overdue) if overdue else None, as_of)
    loan.bucket = bucket_for(loan.dpd, parse_buckets(loan.buckets))
    owed = (
        loan.principal_outstanding_fen
        + loan.interest_outstanding_fen
        + loan.fees_outstanding_fen
        + loan.penalties_outstanding_fen
    )
    if owed == 0 and all(unpaid(r) == 0 for r in rows):
        loan.state = transition(state, LoanState.SETTLED).value
        loan.closed_on = as_of
        loan.dpd = 0
        loan.bucket = bucket_for(0, parse_buckets(loan.buckets))
    elif loan.dpd > 0:
        loan.state = transition(state, LoanState.OVERDUE).value
    else:
        loan.state = transition(state, LoanState.ACTIVE).value
