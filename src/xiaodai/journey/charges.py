"""No hidden fees, enforced: a charge posts only if the loan's signed disclosure snapshot allows its type,
basis and amount — whoever asks (API, CLI, staff). A refusal posts nothing and leaves an audit event."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import AuditEventRow, DisclosureRow, InstallmentRow, JournalEntryRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.money.money import Money
from xiaodai.pricing.disclosure import permits_charge
from xiaodai.servicing.commands import Result, run_once
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.loans import lock_loan

PER_PERIOD_FEES = {"monthly_fee", "instalment_fee"}


def _already_charged(session: Session, loan_id: int, charge_type: str, period: int | None) -> Decimal:
    """What this fee type costs for the period already: the scheduled fee (billed now or later) plus manual
    charges. A per-instalment fee is billed by the schedule, so a manual one on top is a double charge."""
    total = Decimal(0)
    if charge_type == "upfront_fee":
        loan = session.get(LoanRow, loan_id)
        total += Money.from_minor(loan.upfront_fee_fen if loan else 0).amount
    if charge_type in PER_PERIOD_FEES and period is not None:
        row = session.execute(
            select(InstallmentRow).where(
                InstallmentRow.loan_id == loan_id,
                InstallmentRow.period == period,
                InstallmentRow.active.is_(True),
            )
        ).scalar_one_or_none()
        if row is not None:
            total += Money.from_minor(row.fee_fen).amount
    for (memo,) in session.execute(
        select(JournalEntryRow.memo).where(
            JournalEntryRow.loan_id == loan_id, JournalEntryRow.event == "charge"
        )
    ).all():
        data = json.loads(memo)
        if data["type"] == charge_type and data.get("period") == period:
            total += Decimal(data["amount"])
    return total


def _has_period(session: Session, loan_id: int, period: int | None) -> bool:
    if period is None:
        return False
    return (
        session.execute(
            select(InstallmentRow.id).where(
                InstallmentRow.loan_id == loan_id,
                InstallmentRow.period == period,
                InstallmentRow.active.is_(True),
            )
        ).first()
        is not None
    )


def post_charge(
    session: Session,
    *,
    loan_id: int,
    charge_type: str,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    period: int | None = None,
    actor: str = "system",
) -> Result:
    """Post a fee charge if and only if the snapshot allows it; otherwise record the refusal and say why."""
    if amount_fen <= 0:
        raise ServicingError("a charge must be positive")

    def action() -> Result:
        loan = lock_loan(session, loan_id)
        snapshot = session.execute(
            select(DisclosureRow).where(DisclosureRow.loan_id == loan_id)
        ).scalar_one_or_none()
        amount = Money.from_minor(amount_fen).amount
        if snapshot is None:
            reason, clause = "CHARGE_NO_DISCLOSURE", None
        else:
            kfs = json.loads(snapshot.canonical_json)
            verdict = permits_charge(kfs, charge_type=charge_type, amount=amount, period=period)
            reason, clause = verdict.reason, verdict.clause
            if (
                verdict.allowed
                and charge_type in PER_PERIOD_FEES
                and not _has_period(session, loan_id, period)
            ):
                reason = "CHARGE_PERIOD_REQUIRED"
            elif verdict.allowed and charge_type not in ("interest", "principal", "penalty"):
                disclosed = next(Decimal(f["amount"]) for f in kfs["fees"] if f["type"] == charge_type)
                if _already_charged(session, loan_id, charge_type, period) + amount > disclosed:
                    reason = "CHARGE_ALREADY_CHARGED"
            elif verdict.allowed:
                reason = "CHARGE_NOT_MANUAL"  # interest, principal, penalty: only the schedule and EOD
        base = {
            "type": charge_type,
            "amount": f"{amount:.2f}",
            "period": period,
            "actor": actor,
            "reason": reason,
            "clause": clause,
        }
        session.add(
            AuditEventRow(
                actor=actor,
                action="charge",
                subject=f"loan:{loan_id}",
                reason=reason,
                payload=json.dumps(base, ensure_ascii=False),
            )
        )
        session.flush()
        if reason != "CHARGE_PERMITTED_BY_CLAUSE":
            return {"loan_id": loan_id, "posted": False, **base}
        entry_id = ledger.post(
            session,
            entry(
                on,
                "charge",
                f"charge:{idempotency_key}",
                [(Account.LOAN_FEES, amount_fen), (Account.FEE_INCOME, -amount_fen)],
                loan_id=loan_id,
                memo=json.dumps(base),
            ),
            loan=loan,
        )
        session.flush()
        return {"loan_id": loan_id, "posted": True, "entry_id": entry_id, **base}

    return run_once(
        session,
        key=idempotency_key,
        command="charge",
        request={
            "loan_id": loan_id,
            "type": charge_type,
            "amount_fen": amount_fen,
            "period": period,
            "on": on.isoformat(),
        },
        action=action,
    )
