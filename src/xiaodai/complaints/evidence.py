"""What a complaint's file attaches about its loan (shell: reads the database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    ApplicationRow,
    ContactAttemptRow,
    DecisionRow,
    DisclosureRow,
    JournalEntryRow,
    PostingRow,
)


def _aware_iso(at: datetime) -> str:
    from datetime import UTC

    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).isoformat()


def collect_evidence(session: Session, loan_id: int | None, received_at: datetime) -> dict[str, Any]:
    """What the file attaches about the loan: its disclosure, its journal lines of the last 90 days, the
    contacts of the last 30 days and the credit decision. Journal lines are the postings that carry the
    loan: for the loan's own entries both sides; for end of day's one-entry-a-day billing and penalty, the
    loan's receivable line only (the income side is the day's total for all loans)."""
    if loan_id is None:
        return {}
    disclosure = session.execute(
        select(DisclosureRow).where(DisclosureRow.loan_id == loan_id)
    ).scalar_one_or_none()
    since = received_at - timedelta(days=90)
    ledger = session.execute(
        select(
            JournalEntryRow.id,
            JournalEntryRow.business_date,
            JournalEntryRow.event,
            PostingRow.account,
            PostingRow.amount_fen,
        )
        .join(PostingRow, PostingRow.entry_id == JournalEntryRow.id)
        # by the posting's loan: end of day posts one entry a day for all loans, each loan its own lines
        .where(PostingRow.loan_id == loan_id, JournalEntryRow.business_date >= since.date())
        .order_by(JournalEntryRow.id, PostingRow.id)
    ).all()
    contacts = (
        session.execute(
            select(ContactAttemptRow).where(
                ContactAttemptRow.loan_id == loan_id,
                ContactAttemptRow.attempted_at >= received_at - timedelta(days=30),
            )
        )
        .scalars()
        .all()
    )
    decisions = session.execute(
        select(DecisionRow.id, DecisionRow.outcome, DecisionRow.model_version, DecisionRow.policy_version)
        .join(ApplicationRow, ApplicationRow.decision_id == DecisionRow.id)
        .where(ApplicationRow.loan_id == loan_id)
    ).all()
    return {
        "disclosure": None
        if disclosure is None
        else {"sha256": disclosure.sha256, "signed_at": disclosure.signed_at.isoformat()},
        "ledger_lines": [
            {"entry": e, "date": d.isoformat(), "event": ev, "account": a, "amount_fen": amt}
            for e, d, ev, a, amt in ledger
        ],
        "contact_log": [
            {
                "id": c.id,
                "at": _aware_iso(c.attempted_at),
                "channel": c.channel,
                "decision": c.decision,
                "reason": c.reason,
            }
            for c in contacts
        ],
        "decisions": [
            {"id": i, "outcome": o, "model_version": m, "policy_version": p} for i, o, m, p in decisions
        ],
    }
