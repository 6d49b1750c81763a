"""Granting a line from an approved decision, and staff changes of its state (freeze, unfreeze, close)
and limit."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    ApplicationRow,
    CreditLineRow,
    DecisionRow,
    UserRow,
)
from xiaodai.lines.events import record_change
from xiaodai.lines.limit import (
    LineError,
    LinePolicy,
    LineState,
    change_limit,
    change_state,
    default_policy,
    grant,
)
from xiaodai.lines.store import LineNotFoundError, line_row, open_line_of, outstanding_fen, reserved_fen
from xiaodai.lines.views import line_view, summary
from xiaodai.underwriting.policy import default_policy as credit_policy


def decision_of(session: Session, *, user: UserRow, application_id: str) -> DecisionRow:
    app = session.execute(
        select(ApplicationRow).where(ApplicationRow.public_id == application_id)
    ).scalar_one_or_none()
    if app is None or app.user_id != user.id or app.decision_id is None:
        raise LineNotFoundError("application not found")
    decision = session.get(DecisionRow, app.decision_id)
    if decision is None or decision.outcome != "approve":
        raise LineError(
            "the application was not approved: no line can be granted from it", "LINE_NOT_APPROVED"
        )
    if app.loan_id is not None:
        raise LineError("this application's offer was signed as a loan", "LINE_OFFER_USED")
    return decision


def grade_terms(decision: DecisionRow) -> tuple[str, int, Decimal, int]:
    """(grade, grade maximum limit in fen, annual rate, offered limit in fen) of an approving decision."""
    result = json.loads(decision.result_json)
    offer = result.get("offer")
    if not offer or not decision.grade:
        raise LineError("the decision has no offer", "LINE_NOT_APPROVED")
    grade = next((g for g in credit_policy().grades if g.grade == decision.grade), None)
    if grade is None or grade.annual_rate is None:
        raise LineError(f"grade {decision.grade} has no price", "LINE_NOT_APPROVED")
    limit_fen = int(Decimal(offer["credit_limit"]) * 100)
    return grade.grade, int(grade.max_limit * 100), Decimal(offer["annual_rate"]), limit_fen


def grant_line(
    session: Session,
    *,
    user: UserRow,
    application_id: str,
    on: date,
    actor: str,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    """Grant a line from the borrower's approved application: the decision's limit (≤ the grade's and
    30,000), the grade's price, expiry after the policy's months. One open line per borrower."""
    chosen = policy or default_policy()
    if user.kind != "borrower":
        raise LineError("only borrowers hold credit lines", "LINE_NOT_BORROWER")
    if open_line_of(session, user.id, lock=True) is not None:
        raise LineError("this borrower already has an open credit line", "LINE_EXISTS")
    decision = decision_of(session, user=user, application_id=application_id)
    grade, grade_max, rate, limit = grade_terms(decision)
    change = grant(limit, grade_max_fen=grade_max, policy=chosen)
    line = CreditLineRow(
        borrower_id=user.id,
        state=LineState.ACTIVE.value,
        limit_fen=0,
        grade=grade,
        grade_max_fen=grade_max,
        annual_rate=str(rate),
        decision_id=decision.id,
        granted_on=on,
        expires_on=chosen.expiry(on),
        policy_version=chosen.version,
    )
    session.add(line)
    session.flush()
    record_change(session, line, change, on=on, actor=actor, policy=chosen, outstanding=0)
    return line_view(session, user=user, today=on)


def set_state(
    session: Session,
    *,
    line_id: int,
    to: LineState,
    reason: str,
    on: date,
    actor: str,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    """Freeze, unfreeze or close a line (staff, or a review); the borrower is told the reason."""
    chosen = policy or default_policy()
    if not reason or not reason.replace("_", "").isalnum() or not reason.isupper() or len(reason) > 40:
        raise LineError("a reason code is UPPER_SNAKE_CASE, at most 40 characters", "LINE_BAD_REASON")
    line = line_row(session, line_id)
    outstanding = outstanding_fen(session, line.id)
    change = change_state(  # a payout still pending counts as drawn for what the change allows
        state=LineState(line.state),
        to=to,
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding + reserved_fen(session, line.id),
        reason=reason,
    )
    record_change(session, line, change, on=on, actor=actor, policy=chosen, outstanding=outstanding)
    return summary(session, line, today=on)


def set_limit(
    session: Session,
    *,
    line_id: int,
    new_limit_fen: int,
    reason: str,
    on: date,
    actor: str,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    chosen = policy or default_policy()
    line = line_row(session, line_id)
    outstanding = outstanding_fen(session, line.id)
    change = change_limit(  # never below what is drawn or waiting to be paid out
        state=LineState(line.state),
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding + reserved_fen(session, line.id),
        new_limit_fen=min(new_limit_fen, line.grade_max_fen),
        reason=reason,
        policy=chosen,
    )
    if change.new_limit_fen != change.old_limit_fen:
        record_change(session, line, change, on=on, actor=actor, policy=chosen, outstanding=outstanding)
    return summary(session, line, today=on)
