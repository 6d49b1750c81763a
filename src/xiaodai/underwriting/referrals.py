"""An underwriter decides a referred application (shell): approve (the borrower then sees the decision's
offer) or decline with reason codes (the borrower then sees them in words).

The automated decision record stays as it was (it is what replay reproduces); the review is the audit event
``referral-review`` on ``application:<public id>`` (actor, verdict, reason codes, note, the decision it
reviews), and the application's outcome moves from ``refer`` to ``approve`` or ``decline``. One review per
application: a second one is refused (``NOT_REFERRED``). Four eyes are not required: the automated decision
was the first pair.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.audit.trail import record
from xiaodai.db.tables import ApplicationRow, AuditEventRow, DecisionRow, UserRow
from xiaodai.underwriting.reasons import REVIEW_APPROVED, REVIEW_DECLINE_TEXT, Reason, policy_reason
from xiaodai.underwriting.service import RegistryError

ACTION = "referral-review"
VERDICTS = ("approve", "decline")
MAX_NOTE = 1000


class ReviewError(RegistryError):
    """The review cannot be recorded; ``code`` says why."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.status = status


def _application(session: Session, decision_id: int) -> tuple[ApplicationRow, DecisionRow]:
    found = session.execute(
        select(ApplicationRow, DecisionRow)
        .join(DecisionRow, DecisionRow.id == ApplicationRow.decision_id)
        .where(DecisionRow.id == decision_id)
        .with_for_update(of=ApplicationRow)
    ).one_or_none()
    if found is None:
        raise ReviewError("NOT_FOUND", f"decision {decision_id} has no application", status=404)
    return found[0], found[1]


def review(
    session: Session,
    *,
    reviewer: UserRow,
    decision_id: int,
    verdict: str,
    reasons: list[str] | tuple[str, ...] = (),
    note: str = "",
) -> dict[str, Any]:
    """Record an underwriter's verdict on the referred application of ``decision_id``.

    A decline needs at least one reason code of ``REVIEW_DECLINE_TEXT``; an approval takes none (the offer is
    the automated decision's, within its limit)."""
    if not has_role(reviewer, "underwriter"):
        raise ForbiddenError(code="ROLE_REQUIRED")
    if verdict not in VERDICTS:
        raise ReviewError("UNKNOWN_VERDICT", f"verdict must be one of {', '.join(VERDICTS)}")
    codes = list(dict.fromkeys(str(code) for code in reasons))
    unknown = [code for code in codes if code not in REVIEW_DECLINE_TEXT]
    if unknown:
        raise ReviewError("UNKNOWN_REASON", f"unknown reason codes: {', '.join(unknown)}")
    if verdict == "decline" and not codes:
        raise ReviewError("REASON_REQUIRED", "a decline needs at least one reason")
    if verdict == "approve" and codes:
        raise ReviewError("REASON_NOT_ALLOWED", "an approval takes no decline reasons")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ReviewError("NOTE_TOO_LONG", f"the note is longer than {MAX_NOTE} characters")
    application, decision = _application(session, decision_id)
    if application.outcome != "refer":
        raise ReviewError("NOT_REFERRED", "this application is not waiting for review", status=409)
    result = json.loads(decision.result_json)
    if verdict == "approve" and not result.get("offer"):
        raise ReviewError("NO_OFFER", "the referred decision has no offer to approve", status=409)
    application.outcome = verdict
    session.flush()
    record(
        session,
        actor=f"user:{reviewer.id}",
        action=ACTION,
        subject=f"application:{application.public_id}",
        reason="REVIEW_APPROVED" if verdict == "approve" else codes[0],
        payload={"decision_id": decision.id, "verdict": verdict, "reasons": codes, "note": note},
        version=f"model:{decision.model_version} policy:{decision.policy_version}",
    )
    return {
        "decision_id": decision.id,
        "application_id": application.public_id,
        "outcome": verdict,
        "reasons": [r.to_json() for r in review_reasons(verdict, codes)],
        "reviewer": reviewer.id,
    }


def review_reasons(verdict: str, codes: list[str]) -> list[Reason]:
    if verdict == "approve":
        return [Reason("REVIEW_APPROVED", *REVIEW_APPROVED)]
    return [policy_reason(code) for code in codes]


def review_of(session: Session, public_id: str) -> dict[str, Any] | None:
    """The underwriter's review of an application (verdict, codes, note, who, when), if there is one."""
    row = session.execute(
        select(AuditEventRow)
        .where(AuditEventRow.subject == f"application:{public_id}", AuditEventRow.action == ACTION)
        .order_by(AuditEventRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    payload = json.loads(row.payload)
    return {
        "verdict": payload["verdict"],
        "reasons": [r.to_json() for r in review_reasons(payload["verdict"], list(payload["reasons"]))],
        "codes": list(payload["reasons"]),
        "note": payload.get("note", ""),
        "actor": row.actor,
        "at": row.occurred_at,
    }


def decline_reason_choices() -> list[Reason]:
    return [policy_reason(code) for code in REVIEW_DECLINE_TEXT]


def referred(session: Session) -> list[tuple[ApplicationRow, DecisionRow]]:
    """Applications waiting for an underwriter, newest decision first."""
    return [
        (a, d)
        for a, d in session.execute(
            select(ApplicationRow, DecisionRow)
            .join(DecisionRow, DecisionRow.id == ApplicationRow.decision_id)
            .where(ApplicationRow.outcome == "refer")
            .order_by(DecisionRow.decided_at.desc(), DecisionRow.id.desc())
        ).all()
    ]
