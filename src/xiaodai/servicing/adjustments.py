"""Schedule and balance adjustments (shell): hardship plans and remedy credits. Split from ``service.py``."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy.orm import Session

from xiaodai.db.tables import LoanEventRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.servicing.allocation import Component
from xiaodai.servicing.commands import Result, run_once
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import LoanState, is_open
from xiaodai.servicing.loans import installments, lock_loan
from xiaodai.servicing.service import _money, scheduled_row

HARDSHIP_MAX_EXTENSION_MONTHS = 3


def hardship_extension(
    session: Session,
    *,
    loan_id: int,
    months: int,
    on: date,
    idempotency_key: str,
    reason: str,
    approved_by: str,
) -> Result:
    """A hardship plan: the unpaid instalments not yet due move ``months`` later, with no extra interest or
    fee (house policy, at most HARDSHIP_MAX_EXTENSION_MONTHS); the old rows are kept as superseded."""
    if not 1 <= months <= HARDSHIP_MAX_EXTENSION_MONTHS:
        raise ServicingError(f"an extension is 1 to {HARDSHIP_MAX_EXTENSION_MONTHS} months")
    if not reason.strip() or not approved_by.strip():
        raise ServicingError("a hardship plan needs a reason and an approver")

    def action() -> Result:
        from xiaodai.money.dates import add_months

        loan = lock_loan(session, loan_id)
        if not is_open(LoanState(loan.state)):
            raise ServicingError(f"loan {loan_id} is {loan.state}")
        rows = installments(session, loan.id, lock=True)
        movable = [r for r in rows if not r.billed and r.due_on > on]
        if not movable:
            raise ServicingError("no instalment left to move")
        version = max(r.schedule_version for r in rows) + 1
        moved = []
        previous_due = None
        for row in movable:
            row.active = False
            due = add_months(row.due_on, months)
            start = previous_due or row.start_on
            session.add(
                scheduled_row(
                    loan_id=loan.id,
                    period=row.period,
                    version=version,
                    start_on=start,
                    due_on=due,
                    principal_fen=row.principal_fen,
                    interest_fen=row.interest_fen,
                    fee_fen=row.fee_fen,
                )
            )
            previous_due = due
            moved.append({"period": row.period, "from": row.due_on.isoformat(), "to": due.isoformat()})
        session.add(
            LoanEventRow(
                loan_id=loan.id,
                business_date=on,
                kind="hardship-extension",
                payload=json.dumps(
                    {"months": months, "reason": reason, "approved_by": approved_by, "moved": moved},
                    ensure_ascii=False,
                ),
            )
        )
        session.flush()
        return {"loan_id": loan.id, "months": months, "moved": moved}

    return run_once(
        session,
        key=idempotency_key,
        command="hardship-extension",
        request={"loan_id": loan_id, "months": months, "on": on.isoformat()},
        action=action,
    )


def credit_borrower(
    session: Session,
    *,
    loan_id: int,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    income: Component,
    reason: str,
) -> Result:
    """A remedy: give money back (a fee or interest already paid) — income is reversed and the amount is held
    for the borrower as overpayment, to be applied or refunded."""
    if amount_fen <= 0:
        raise ServicingError("a credit must be positive")
    account = {
        Component.FEE: Account.FEE_INCOME,
        Component.INTEREST: Account.INTEREST_INCOME,
        Component.PENALTY: Account.PENALTY_INCOME,
    }.get(income)
    if account is None:
        raise ServicingError("credits reverse fee, interest or penalty income")

    def action() -> Result:
        loan = lock_loan(session, loan_id)
        entry_id = ledger.post(
            session,
            entry(
                on,
                "remedy-credit",
                f"credit:{idempotency_key}",
                [(account, amount_fen), (Account.OVERPAYMENT, -amount_fen)],
                loan_id=loan.id,
                memo=json.dumps({"reason": reason}),
            ),
            loan=loan,
        )
        return {"loan_id": loan.id, "entry_id": entry_id, "credited": _money(amount_fen)}

    return run_once(
        session,
        key=idempotency_key,
        command="credit",
        request={"loan_id": loan_id, "amount_fen": amount_fen, "on": on.isoformat(), "income": income.value},
        action=action,
    )
