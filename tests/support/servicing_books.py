"""Shared servicing test data: a small portfolio and a comparable snapshot of everything EOD can change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanEventRow, LoanRow, PostingRow
from xiaodai.pricing.schedule import Method
from xiaodai.servicing import service


def snapshot(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Everything EOD can change, in a comparable form (no ids, no timestamps)."""
    with factory() as s:
        loans = [
            (
                r.id,
                r.state,
                r.dpd,
                r.bucket,
                r.principal_outstanding_fen,
                r.interest_outstanding_fen,
                r.fees_outstanding_fen,
                r.penalties_outstanding_fen,
                r.overpayment_fen,
            )
            for r in s.execute(select(LoanRow).order_by(LoanRow.id)).scalars()
        ]
        inst = [
            (r.loan_id, r.period, r.billed, r.paid_principal_fen, r.paid_interest_fen)
            for r in s.execute(
                select(InstallmentRow).order_by(InstallmentRow.loan_id, InstallmentRow.period)
            ).scalars()
        ]
        journal = sorted(
            (e.idempotency_key, e.event, e.business_date)
            for e in s.execute(select(JournalEntryRow)).scalars()
        )
        postings = sorted(
            # end of day's income legs are one posting per day (loan_id NULL): sort them first
            (p.account, -1 if p.loan_id is None else p.loan_id, p.amount_fen)
            for p in s.execute(select(PostingRow)).scalars()
        )
        events = sorted(
            (e.loan_id, e.business_date, e.kind, e.payload) for e in s.execute(select(LoanEventRow)).scalars()
        )
    return {"loans": loans, "installments": inst, "journal": journal, "postings": postings, "events": events}


def book(factory: sessionmaker[Session], new_loan: Callable[..., int]) -> list[int]:
    """A small portfolio: a payer, a late payer, a non-payer, an over-payer, a flat-fee loan."""
    ids = [
        new_loan(),
        new_loan(principal="5000", term=6, rate="0.18"),
        new_loan(principal="3000", term=3),
        new_loan(principal="8000", term=6, rate="0.168", method=Method.EQUAL_PRINCIPAL),
        new_loan(principal="12000", term=12, rate="0", method=Method.FLAT_FEE, flat_fee_rate="0.006"),
    ]
    with factory() as s, s.begin():
        service.repay(s, loan_id=ids[0], amount_fen=90_258, on=date(2026, 2, 10), idempotency_key="a1")
        service.repay(s, loan_id=ids[3], amount_fen=200_000, on=date(2026, 2, 10), idempotency_key="d1")
    return ids
