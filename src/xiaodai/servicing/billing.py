"""Per-loan billing of due instalments and application of overpayments to what falls due.

End of day bills all loans at once (``eod.py``); a repayment bills its own loan first so that its
allocation never depends on whether end of day has run yet. The ``billed`` flag makes both idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import JournalEntry, entry
from xiaodai.servicing.allocation import AllocationOrder, Component, allocate
from xiaodai.servicing.loans import InstallmentLike, LoanLike, dues

RECEIVABLE = {
    Component.PRINCIPAL: Account.LOAN_PRINCIPAL,
    Component.INTEREST: Account.LOAN_INTEREST,
    Component.FEE: Account.LOAN_FEES,
    Component.PENALTY: Account.LOAN_PENALTIES,
}


def _post(
    session: Session | None, loan: LoanLike, item: JournalEntry, journal: list[JournalEntry] | None
) -> None:
    """Post ``item`` now, or (``journal`` given) move the balances now and leave the insert to the caller
    (then ``session`` may be None: nothing is asked of the database)."""
    if journal is None:
        if session is None:
            raise ValueError("posting now needs a session; without one, pass a journal")
        ledger.post(session, item, loan=loan)
    else:
        ledger.move_balances(loan, item)
        journal.append(item)


def bill_through(
    session: Session | None,
    loan: LoanLike,
    rows: Sequence[InstallmentLike],
    on: date,
    *,
    journal: list[JournalEntry] | None = None,
) -> int:
    """Bill every active instalment due on or before ``on``: interest and fees become receivable.

    The entries are posted at once, or appended to ``journal`` for the caller to insert (``loans.save``);
    either way the loan's balances move now."""
    billed = 0
    for row in rows:
        if row.billed or row.due_on > on:
            continue
        row.billed = True
        billed += 1
        if row.interest_fen or row.fee_fen:
            _post(
                session,
                loan,
                entry(
                    row.due_on,
                    "billing",
                    f"bill:{loan.id}:{row.id}",
                    [
                        (Account.LOAN_INTEREST, row.interest_fen),
                        (Account.INTEREST_INCOME, -row.interest_fen),
                        (Account.LOAN_FEES, row.fee_fen),
                        (Account.FEE_INCOME, -row.fee_fen),
                    ],
                    loan_id=loan.id,
                ),
                journal,
            )
    if billed and loan.overpayment_fen > 0:
        apply_overpayment(session, loan, rows, on, journal=journal)
    return billed


def apply_allocations(
    rows: Sequence[InstallmentLike], allocations: list[tuple[int, Component, int]], on: date, *, sign: int = 1
) -> None:
    by_period = {r.period: r for r in rows}
    for period, component, amount in allocations:
        row = by_period.get(period)
        if row is None or component is Component.PENALTY:
            continue
        column = {
            Component.PRINCIPAL: "paid_principal_fen",
            Component.INTEREST: "paid_interest_fen",
            Component.FEE: "paid_fee_fen",
        }[component]
        setattr(row, column, getattr(row, column) + sign * amount)
        fully_paid = (
            row.paid_principal_fen == row.principal_fen
            and row.paid_interest_fen == row.interest_fen
            and row.paid_fee_fen == row.fee_fen
        )
        row.paid_on = on if fully_paid else None


def apply_overpayment(
    session: Session | None,
    loan: LoanLike,
    rows: Sequence[InstallmentLike],
    on: date,
    *,
    journal: list[JournalEntry] | None = None,
) -> int:
    """Use money held in the overpayment account for what is now due (``journal``: see ``bill_through``)."""
    allocations, _left = allocate(
        dues(rows, loan.penalties_outstanding_fen),
        loan.overpayment_fen,
        order=AllocationOrder(loan.allocation_order),
        as_of=on,
    )
    used = sum(a.amount_fen for a in allocations)
    if used == 0:
        return 0
    legs = [(Account.OVERPAYMENT, used)] + [(RECEIVABLE[a.component], -a.amount_fen) for a in allocations]
    memo = json.dumps({"allocations": [[a.period, a.component.value, a.amount_fen] for a in allocations]})
    _post(
        session,
        loan,
        entry(
            on,
            "apply-overpayment",
            f"apply-overpayment:{loan.id}:{on}:{loan.version}",
            legs,
            loan_id=loan.id,
            memo=memo,
        ),
        journal,
    )
    apply_allocations(rows, [(a.period, a.component, a.amount_fen) for a in allocations], on)
    return used
