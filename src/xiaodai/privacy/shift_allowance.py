"""Unmasking per staff member per shift (shell over ``privacy.access.unmask_allowance``): counted from the
audit trail, a second person's approval looked up in ``approvals`` (operation "unmask"), and an alert —
audit event ``pii-unmask-alert``, a log warning and the ``xiaodai_pii_unmask_alerts_total`` metric — for
every break-glass and every unmasking past the allowance."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.db.tables import ApprovalRow, AuditEventRow, UserRow
from xiaodai.metrics import UNMASK_ALERTS
from xiaodai.privacy import access

log = logging.getLogger(__name__)


def unmasks_this_shift(session: Session, viewer: UserRow, at: datetime) -> int:
    """How many times this viewer saw someone's fields in clear in the shift window ending at ``at``."""
    actor = f"user:{viewer.id}"
    stmt = (
        select(func.count())
        .select_from(AuditEventRow)
        .where(
            AuditEventRow.actor == actor,
            AuditEventRow.occurred_at > at - access.SHIFT,
            or_(
                and_(AuditEventRow.action == "pii-view", AuditEventRow.reason == "ALLOWED"),
                AuditEventRow.action == "pii-break-glass",
            ),
        )
    )
    with session.no_autoflush:
        return int(session.execute(stmt).scalar_one())


def _approved_unmask(
    session: Session, viewer: UserRow, subject_id: int, fields: tuple[str, ...], at: datetime
) -> bool:
    """Did a second person approve unmasking these fields of this borrower for this viewer, this shift?"""
    stmt = select(ApprovalRow).where(
        ApprovalRow.operation == "unmask",
        ApprovalRow.status == "executed",
        ApprovalRow.maker_id == viewer.id,
        ApprovalRow.subject == f"user:{subject_id}",
    )
    with session.no_autoflush:
        rows = list(session.execute(stmt).scalars())
    for row in rows:
        decided = row.decided_at
        if decided is None:
            continue
        decided = decided if decided.tzinfo else decided.replace(tzinfo=UTC)
        if decided > at - access.SHIFT and set(fields) <= set(json.loads(row.params_json).get("fields", [])):
            return True
    return False


def within_allowance(
    session: Session, viewer: UserRow, subject_id: int, verdict: access.AccessVerdict, at: datetime
) -> access.AccessVerdict:
    """The shift allowance on top of the role rules; break-glass and anything past the allowance alert."""
    done = unmasks_this_shift(session, viewer, at)
    approved = done >= access.FREE_UNMASKS_PER_SHIFT and _approved_unmask(
        session, viewer, subject_id, verdict.unmask, at
    )
    allowance = access.unmask_allowance(done, approved=approved)
    if allowance != "ALLOWED":
        alert = allowance
    elif verdict.reason == "BREAK_GLASS":
        alert = "BREAK_GLASS"
    elif approved:
        alert = "UNMASK_PAST_ALLOWANCE_APPROVED"
    else:
        alert = ""
    if alert:
        _alert(session, viewer, subject_id, reason=alert, done=done, at=at)
    return verdict if allowance == "ALLOWED" else access.AccessVerdict(False, allowance)


def _alert(
    session: Session, viewer: UserRow, subject_id: int, *, reason: str, done: int, at: datetime
) -> None:
    """An unmasking someone should look at: audit event, log warning, metric."""
    record(
        session,
        actor=f"user:{viewer.id}",
        action="pii-unmask-alert",
        subject=f"user:{subject_id}",
        reason=reason,
        payload={"unmasked_this_shift": done, "free_per_shift": access.FREE_UNMASKS_PER_SHIFT},
        at=at,
    )
    log.warning(
        "unmask alert %s: staff user %s, borrower %s, %d unmaskings this shift",
        reason,
        viewer.id,
        subject_id,
        done,
    )
    UNMASK_ALERTS.labels(reason=reason).inc()
