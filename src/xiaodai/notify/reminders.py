"""Reminders: what a business date calls for (T−3/T−1/T0 and failed debits), draining every open notice,
and the day's run (``xiaodai notify run`` and the scheduler's job)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    InstallmentRow,
    LoanRow,
    NoticeRow,
)
from xiaodai.db.tables.payments import DebitAttemptRow
from xiaodai.notify.basics import chunks, fen_text
from xiaodai.notify.deciding import decide_notice, load_context
from xiaodai.notify.notices import day_report
from xiaodai.notify.outbox import dispatch
from xiaodai.notify.reminder_policy import (
    NoticePolicy,
    default_policy,
)
from xiaodai.notify.senders import Sender
from xiaodai.notify.withdrawal import withdraw_paid_reminders


def plan_reminders(session: Session, *, day: date, policy: NoticePolicy | None = None) -> int:
    """Enqueue the reminders ``day`` calls for: T−3/T−1/T0 (the policy's days) for every unpaid instalment
    of a loan that is not in arrears, and one after each debit that failed on ``day``. Returns how many
    notices were new. Loans in arrears are collections' (``collections.strategy``), not reminded here."""
    chosen = policy or default_policy()
    remaining = (
        InstallmentRow.principal_fen
        + InstallmentRow.interest_fen
        + InstallmentRow.fee_fen
        - InstallmentRow.paid_principal_fen
        - InstallmentRow.paid_interest_fen
        - InstallmentRow.paid_fee_fen
    )
    horizon = [day + timedelta(days=d) for d in chosen.reminder_horizon()]
    # key → (borrower, loan, kind, payload, the instalment a reminder is about)
    wanted: dict[str, tuple[int, int, str, dict[str, Any], int | None]] = {}
    for inst_id, loan_id, due_on, left, borrower_id in session.execute(
        select(
            InstallmentRow.id, InstallmentRow.loan_id, InstallmentRow.due_on, remaining, LoanRow.borrower_id
        )
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(
            InstallmentRow.active,
            InstallmentRow.due_on.in_(horizon),
            remaining > 0,
            LoanRow.state == "active",
            LoanRow.dpd == 0,
            LoanRow.borrower_id.is_not(None),
        )
        .order_by(InstallmentRow.due_on, InstallmentRow.loan_id)
    ):
        step = chosen.reminder_step(due_on, day)
        if step is not None:
            kind, name = step
            payload = {"amount": fen_text(int(left)), "due_date": due_on.isoformat(), "step": name}
            wanted[f"reminder:{name}:{inst_id}"] = (
                int(borrower_id or 0),
                int(loan_id),
                kind,
                payload,
                int(inst_id),
            )
    if chosen.remind_failed_debits:
        for attempt, borrower_id in session.execute(
            select(DebitAttemptRow, LoanRow.borrower_id)
            .join(LoanRow, LoanRow.id == DebitAttemptRow.loan_id)
            .where(
                DebitAttemptRow.business_date == day,
                DebitAttemptRow.status == "failed",
                LoanRow.borrower_id.is_not(None),
                LoanRow.state.in_(("active", "overdue")),
            )
            .order_by(DebitAttemptRow.id)
        ):
            payload = {"amount": fen_text(attempt.amount_fen), "reason": attempt.reason or "DEBIT_FAILED"}
            wanted[f"debit_failed:{attempt.channel_ref}"] = (
                int(borrower_id or 0),
                int(attempt.loan_id),
                "debit_failed",
                payload,
                None,
            )
    keys = list(wanted)
    known: set[str] = set()
    for chunk in chunks(keys):
        known.update(
            session.execute(select(NoticeRow.dedupe_key).where(NoticeRow.dedupe_key.in_(chunk))).scalars()
        )
    new = [k for k in keys if k not in known]
    for key in new:  # the rows come from our own tables: borrower and loan are known to belong together
        borrower_id, loan_id, kind, payload, installment_id = wanted[key]
        rule = chosen.kind(kind)
        session.add(
            NoticeRow(
                dedupe_key=key,
                borrower_id=borrower_id,
                loan_id=loan_id,
                installment_id=installment_id,
                kind=kind,
                category=rule.category.value,
                business_date=day,
                payload_json=json.dumps({"loan_id": loan_id, **payload}, ensure_ascii=False, sort_keys=True),
                status="open",
            )
        )
    session.flush()
    return len(new)


def drain(
    session: Session, *, as_of: datetime, sender: Sender | None = None, policy: NoticePolicy | None = None
) -> dict[str, int]:
    """Decide every open notice (new ones, and channels blocked for a passing reason), then send what is
    queued. The worker calls this on every tick."""
    chosen = policy or default_policy()
    decided: Counter[str] = Counter()
    withdraw_paid_reminders(session)  # paid since it was planned: never sent (the day's report counts them)
    notices = list(
        session.execute(select(NoticeRow).where(NoticeRow.status == "open").order_by(NoticeRow.id)).scalars()
    )
    ctx = load_context(session, notices, as_of=as_of, policy=chosen)
    for notice in notices:
        for decision in decide_notice(session, notice, as_of=as_of, policy=chosen, context=ctx):
            decided[decision["decision"]] += 1
    sent = dispatch(session, sender=sender, as_of=as_of)
    return {**{k: decided[k] for k in ("allow", "block", "suppress")}, "sent": sent}


def run_reminders(
    session: Session,
    *,
    day: date,
    as_of: datetime,
    sender: Sender | None = None,
    policy: NoticePolicy | None = None,
) -> dict[str, Any]:
    """``xiaodai notify run --date D`` and the scheduler's ``reminders`` job: plan the day's reminders,
    decide every open notice, send what is allowed. Idempotent per business date: a notice exists once
    per key and a channel is allowed at most once."""
    chosen = policy or default_policy()
    created = plan_reminders(session, day=day, policy=chosen)
    counts = drain(session, as_of=as_of, sender=sender, policy=chosen)
    return {
        "date": day.isoformat(),
        "at": as_of.isoformat(),
        "notices_created": created,
        **counts,
        **day_report(session, day=day),
    }
