"""Periodic review (behaviour + fresh bureau data), increase offers the borrower accepts, re-decision on
request."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    ApplicationRow,
    CreditLineRow,
    DecisionRow,
    InstallmentRow,
    LoanRow,
    UserRow,
)
from xiaodai.lines.events import record_change
from xiaodai.lines.granting import grade_terms, set_state
from xiaodai.lines.limit import (
    ChangeKind,
    LimitChange,
    LineError,
    LinePolicy,
    LineState,
    change_limit,
    default_policy,
)
from xiaodai.lines.review_policy import ReviewAction, ReviewFacts, review
from xiaodai.lines.store import OFFER_DAYS, LineNotFoundError, line_row, outstanding_fen, own_line, yuan
from xiaodai.lines.views import line_view
from xiaodai.money.dates import add_months

# ---------------------------------------------------------------- review, offers, re-decision


def review_facts(session: Session, line: CreditLineRow, *, on: date, bureau: dict[str, int]) -> ReviewFacts:
    outstanding = outstanding_fen(session, line.id)
    loans = session.execute(select(LoanRow.dpd).where(LoanRow.line_id == line.id)).scalars().all()
    since = add_months(on, -6)
    rows = session.execute(
        select(InstallmentRow.due_on, InstallmentRow.paid_on, InstallmentRow.billed)
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(LoanRow.line_id == line.id, InstallmentRow.active.is_(True), InstallmentRow.due_on <= on)
    ).all()
    on_time = sum(1 for due_on, paid_on, _ in rows if paid_on is not None and paid_on <= due_on)
    late = [
        ((paid_on or on) - due_on).days
        for due_on, paid_on, _ in rows
        if due_on >= since and (paid_on or on) > due_on
    ]
    months = (on.year - line.granted_on.year) * 12 + on.month - line.granted_on.month
    return ReviewFacts(
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        grade_max_fen=line.grade_max_fen,
        months_on_book=months - (1 if on.day < line.granted_on.day else 0),
        on_time_instalments=on_time,
        current_dpd=max(loans, default=0),
        max_dpd_6m=max(late, default=0),
        bureau_overdue_accounts_now=int(bureau.get("overdue_accounts_now", 0)),
        bureau_max_overdue_months=int(bureau.get("max_overdue_months", 0)),
    )


def fresh_bureau(session: Session, line: CreditLineRow, *, on: date, actor: str) -> dict[str, int]:
    """A fresh credit report under the borrower's credit_check consent (one pull per line and day)."""
    from xiaodai.features.assemble import credit_report

    _, report = credit_report(
        session,
        user_id=line.borrower_id,
        application_id=f"line-review:{line.id}:{on.isoformat()}",
        as_of=on,
        actor=actor,
    )
    return {
        "overdue_accounts_now": report.overdue_accounts_now,
        "max_overdue_months": report.max_overdue_months,
    }


def review_line(
    session: Session,
    *,
    line_id: int,
    on: date,
    actor: str,
    bureau: dict[str, int] | None = None,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    """Periodic review: behaviour on the line + fresh bureau data → offer an increase, decrease, freeze, or
    keep. Every outcome but "keep" is a line event with a notice; an increase is an offer the borrower
    accepts (``accept_increase``)."""
    chosen = policy or default_policy()
    line = line_row(session, line_id)
    if LineState(line.state) is not LineState.ACTIVE:
        raise LineError(f"a {line.state} line is not reviewed", "LINE_NOT_ACTIVE")
    data = bureau if bureau is not None else fresh_bureau(session, line, on=on, actor=actor)
    facts = review_facts(session, line, on=on, bureau=data)
    verdict = review(facts, chosen)
    line.reviewed_on = on
    if verdict.action is ReviewAction.FREEZE:
        set_state(session, line_id=line.id, to=LineState.FROZEN, reason=verdict.reason, on=on, actor=actor)
    elif verdict.action is ReviewAction.DECREASE:
        change = change_limit(
            state=LineState(line.state),
            limit_fen=line.limit_fen,
            outstanding_fen=facts.outstanding_fen,
            new_limit_fen=verdict.new_limit_fen,
            reason=verdict.reason,
            policy=chosen,
            kind=ChangeKind.DECREASE,
        )
        record_change(
            session, line, change, on=on, actor=actor, policy=chosen, outstanding=facts.outstanding_fen
        )
    elif verdict.action is ReviewAction.OFFER_INCREASE:
        line.offered_limit_fen = verdict.new_limit_fen
        line.offer_reason = verdict.reason
        line.offer_expires_on = on + timedelta(days=OFFER_DAYS)
        offer = LimitChange(
            ChangeKind.INCREASE_OFFERED,
            line.limit_fen,
            line.limit_fen,  # the limit moves only when the borrower accepts
            verdict.reason,
            LineState.ACTIVE,
            LineState.ACTIVE,
        )
        record_change(
            session,
            line,
            offer,
            on=on,
            actor=actor,
            policy=chosen,
            outstanding=facts.outstanding_fen,
            notice_limit_fen=verdict.new_limit_fen,  # the notice states the offered limit
        )
    return {
        "line_id": line.id,
        "action": verdict.action.value,
        "reason": verdict.reason,
        "new_limit": yuan(verdict.new_limit_fen),
        "policy_version": verdict.policy_version,
        "facts": {
            "months_on_book": facts.months_on_book,
            "on_time_instalments": facts.on_time_instalments,
            "current_dpd": facts.current_dpd,
            "max_dpd_6m": facts.max_dpd_6m,
            "utilisation": str(round(facts.utilisation, 4)),
            "bureau_overdue_accounts_now": facts.bureau_overdue_accounts_now,
            "bureau_max_overdue_months": facts.bureau_max_overdue_months,
        },
    }


REVIEW_EVERY_DAYS = 90  # an active line is reviewed when its last review (or grant) is this old


def review_due(session: Session, *, on: date, actor: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Review every active line whose last review (or grant) is ``REVIEW_EVERY_DAYS`` old or more, oldest
    first, at most ``limit`` (for a scheduled job: each run takes the next batch)."""
    cutoff = on - timedelta(days=REVIEW_EVERY_DAYS)
    last = func.coalesce(CreditLineRow.reviewed_on, CreditLineRow.granted_on)
    due = (
        session.execute(
            select(CreditLineRow.id)
            .where(CreditLineRow.state == LineState.ACTIVE.value, last <= cutoff)
            .order_by(last, CreditLineRow.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return [review_line(session, line_id=line_id, on=on, actor=actor) for line_id in due]


def accept_increase(
    session: Session, *, user: UserRow, on: date, policy: LinePolicy | None = None
) -> dict[str, Any]:
    chosen = policy or default_policy()
    line = own_line(session, user, lock=True)
    if line.offered_limit_fen is None or line.offer_expires_on is None or on > line.offer_expires_on:
        raise LineError("there is no increase offer to accept", "LINE_NO_OFFER")
    if LineState(line.state) is not LineState.ACTIVE:
        raise LineError("the line is not active", "LINE_NOT_ACTIVE")
    outstanding = outstanding_fen(session, line.id)
    change = change_limit(
        state=LineState.ACTIVE,
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        new_limit_fen=line.offered_limit_fen,
        reason="LINE_INCREASE_ACCEPTED",
        policy=chosen,
        kind=ChangeKind.INCREASE,
    )
    line.offered_limit_fen = line.offer_reason = line.offer_expires_on = None
    record_change(
        session, line, change, on=on, actor=f"user:{user.id}", policy=chosen, outstanding=outstanding
    )
    return line_view(session, user=user, today=on)


def redecide(
    session: Session, *, user: UserRow, application_id: str, on: date, policy: LinePolicy | None = None
) -> dict[str, Any]:
    """Re-decision on request: the borrower's new application (decided by the decision service) sets the
    line's limit, grade and price for future drawdowns; a decline leaves the line as it is, with a notice."""
    chosen = policy or default_policy()
    line = own_line(session, user, lock=True)
    app = session.execute(
        select(ApplicationRow).where(ApplicationRow.public_id == application_id)
    ).scalar_one_or_none()
    if app is None or app.user_id != user.id or app.decision_id is None:
        raise LineNotFoundError("application not found")
    if app.loan_id is not None:
        raise LineError("this application's offer was signed as a loan", "LINE_OFFER_USED")
    decision = session.get(DecisionRow, app.decision_id)
    assert decision is not None
    outstanding = outstanding_fen(session, line.id)
    if decision.outcome != "approve":
        keep = LimitChange(
            ChangeKind.REDECISION,
            line.limit_fen,
            line.limit_fen,
            "LINE_REDECISION_NO_CHANGE",
            LineState(line.state),
            LineState(line.state),
        )
        record_change(
            session, line, keep, on=on, actor=f"user:{user.id}", policy=chosen, outstanding=outstanding
        )
        return line_view(session, user=user, today=on)
    grade, grade_max, rate, limit = grade_terms(decision)
    line.grade, line.grade_max_fen, line.annual_rate, line.decision_id = (
        grade,
        grade_max,
        str(rate),
        decision.id,
    )
    line.expires_on = max(line.expires_on, chosen.expiry(on))
    change = change_limit(
        state=LineState(line.state),
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        new_limit_fen=min(limit, grade_max),
        reason="LINE_REDECISION",
        policy=chosen,
        kind=ChangeKind.REDECISION,
    )
    record_change(
        session, line, change, on=on, actor=f"user:{user.id}", policy=chosen, outstanding=outstanding
    )
    return line_view(session, user=user, today=on)
