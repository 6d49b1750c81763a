"""Withdrawing reminders that are no longer owed: a reminder queued (or not yet decided) for an instalment
that is paid before it is sent is never sent. The notice becomes ``withdrawn`` with the reason code; a
channel already allowed but still ``queued`` becomes ``withdrawn`` too, the reason appended to its reason
codes (its decision is kept: it was allowed, then withdrawn). A channel already sent stays sent.

Reasons: ``INSTALMENT_PAID`` (nothing left to pay on it, or a payment made before it was billed is held
as credit that covers it), ``INSTALMENT_REPLACED`` (a reschedule replaced
it), ``LOAN_CLOSED`` (settled, cancelled or written off). ``drain`` withdraws before deciding and
``dispatch`` before sending, so the window is one statement wide. The caller commits.
"""

from __future__ import annotations

import json

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, LoanRow, NoticeOutboxRow, NoticeRow

OPEN_LOAN = ("active", "overdue")
REMAINING = (
    InstallmentRow.principal_fen
    + InstallmentRow.interest_fen
    + InstallmentRow.fee_fen
    - InstallmentRow.paid_principal_fen
    - InstallmentRow.paid_interest_fen
    - InstallmentRow.paid_fee_fen
)


def withdrawal_reason(remaining_fen: int, active: bool, loan_state: str, credit_fen: int = 0) -> str | None:
    """Why a reminder about this instalment is no longer owed (None: it still is). ``credit_fen``: what the
    loan holds from payments made before the instalment was billed, after the earlier instalments took
    theirs (it pays this one when it is billed)."""
    if loan_state not in OPEN_LOAN:
        return "LOAN_CLOSED"
    if not active:
        return "INSTALMENT_REPLACED"
    if remaining_fen <= max(credit_fen, 0):
        return "INSTALMENT_PAID"
    return None


def _credit_left(session: Session, loan: LoanRow, installment: InstallmentRow) -> int:
    """The loan's credit once the instalments due before this one have taken what they still owe."""
    earlier = session.execute(
        select(func.coalesce(func.sum(REMAINING), 0)).where(
            InstallmentRow.loan_id == loan.id,
            InstallmentRow.active,
            InstallmentRow.due_on < installment.due_on,
        )
    ).scalar_one()
    return loan.overpayment_fen - int(earlier)


def withdraw_paid_reminders(session: Session) -> int:
    """Withdraw every unsent reminder whose instalment no longer needs one; returns how many notices."""
    queued = exists().where(NoticeOutboxRow.notice_id == NoticeRow.id, NoticeOutboxRow.status == "queued")
    rows = session.execute(
        select(NoticeRow, InstallmentRow, LoanRow, REMAINING)
        .join(InstallmentRow, InstallmentRow.id == NoticeRow.installment_id)
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(
            NoticeRow.installment_id.is_not(None),
            or_(NoticeRow.status == "open", queued),
            or_(  # a necessary condition in SQL (most reminders are still owed); the exact one below
                LoanRow.overpayment_fen >= REMAINING,
                InstallmentRow.active.is_(False),
                LoanRow.state.not_in(OPEN_LOAN),
            ),
        )
    ).all()
    withdrawn = 0
    for notice, installment, loan, remaining in rows:
        credit = _credit_left(session, loan, installment) if loan.overpayment_fen else 0
        reason = withdrawal_reason(int(remaining), bool(installment.active), loan.state, credit)
        if reason is None:  # credit held, but the earlier instalments take it first
            continue
        outbox = session.execute(
            select(NoticeOutboxRow).where(NoticeOutboxRow.notice_id == notice.id).with_for_update()
        ).scalars()
        sent = False
        for row in outbox:
            if row.status == "queued":
                row.status = "withdrawn"
                row.reasons = json.dumps([*json.loads(row.reasons or "[]"), reason])
            sent = sent or row.status == "sent"
        if not sent:  # nothing went out: the notice itself is withdrawn, with its reason
            notice.status, notice.reason = "withdrawn", reason
        elif notice.status == "open":  # a channel went out before the payment: no further channel goes
            notice.status = "sent"
        withdrawn += 1
    session.flush()
    return withdrawn
