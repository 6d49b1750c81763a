"""Staff collections API: worklist (assigned accounts only), contact history, attempts, violations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.api.deps import DB, CurrentUser, Now, RowId
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.collections import service
from xiaodai.collections.contact_facts import Attempt
from xiaodai.db.tables import CollectionCaseRow, LoanRow, UserRow
from xiaodai.privacy.service import audit_refusal

router = APIRouter(route_class=OneHopRoute, prefix="/api/staff", tags=["collections"])


def _collector(user: UserRow) -> None:
    if not (has_role(user, "collector") or has_role(user, "admin") or has_role(user, "auditor")):
        raise ForbiddenError("collector, auditor or admin role required")


def _may_see(session: Session, user: UserRow, loan_id: int) -> CollectionCaseRow:
    """Collectors work only the accounts assigned to them: anything else is 403 and an audit entry."""
    _collector(user)
    case = session.get(CollectionCaseRow, loan_id)
    if case is None:
        from xiaodai.journey.service import NotFoundError

        raise NotFoundError("no such collection case")
    if has_role(user, "collector") and not has_role(user, "admin") and case.assigned_to != user.id:
        audit_refusal(
            session, f"user:{user.id}", "case-access-refused", f"loan:{loan_id}", "ACCESS_NOT_ASSIGNED"
        )
        raise ForbiddenError("this account is not assigned to you", "ACCESS_NOT_ASSIGNED")
    return case


def worklist(session: Session, user: UserRow, now: datetime) -> list[dict[str, Any]]:
    _collector(user)
    query = (
        select(CollectionCaseRow, LoanRow)
        .join(LoanRow, LoanRow.id == CollectionCaseRow.loan_id)
        .where(LoanRow.state == "overdue")
    )
    if has_role(user, "collector") and not has_role(user, "admin"):
        query = query.where(CollectionCaseRow.assigned_to == user.id)
    out = []
    for case, loan in session.execute(query.order_by(LoanRow.dpd.desc())).all():
        call = Attempt("contact", "call")
        verdict = service.preview(session, loan_id=loan.id, attempt=call, as_of=now)
        next_at = verdict.next_allowed_at or (
            None
            if verdict.allowed
            else service.next_allowed(session, loan_id=loan.id, attempt=call, as_of=now)
        )
        out.append(
            {
                "loan_id": loan.id,
                "dpd": loan.dpd,
                "bucket": loan.bucket,
                "profile": case.profile,
                "call_now": verdict.decision,
                "reason": verdict.reason,
                "next_allowed_at": next_at.isoformat() if next_at else None,
            }
        )
    return out


@router.get("/worklist")
def get_worklist(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    """Overdue accounts assigned to me, with whether a call is allowed now and when next."""
    return worklist(session, user, datetime.now(tz=UTC))


@router.get("/loans/{loan_id}/contacts")
def contacts(loan_id: RowId, session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    _may_see(session, user, loan_id)
    return service.contact_history(session, loan_id=loan_id)


@router.post("/loans/{loan_id}/contacts")
def attempt(loan_id: RowId, body: dict[str, Any], session: DB, user: CurrentUser, at: Now) -> JSONResponse:
    """Attempt a contact now: the engine decides first; a blocked attempt is 422 and logged.

    The moment is the server's clock, never the caller's: a collector who could name the time could call
    at 23:30 and have it judged as 10:00 (hours, frequency and holds all depend on it). ``at`` in the body
    is refused; to ask what the engine would say at another moment, use the preview (CLI ``--preview``).
    """
    _may_see(session, user, loan_id)
    if has_role(user, "auditor") and not (has_role(user, "collector") or has_role(user, "admin")):
        raise ForbiddenError("auditors are read-only")
    if body.get("at") is not None:
        raise service.ContactInputError(
            "at: the moment of a contact is the server's clock and cannot be given"
        )
    result = service.attempt_contact(
        session,
        loan_id=loan_id,
        attempt=service.parse_attempt(body),
        as_of=at,
        actor=f"user:{user.id}",
        inbound_outcome=str(body.get("outcome") or "connected_conversation"),
    )
    return JSONResponse(result, status_code=201 if result["decision"] == "allow" else 422)


@router.get("/violations")
def violations(session: DB, user: CurrentUser) -> dict[str, Any]:
    """What the engine blocked, by reason."""
    _collector(user)
    return service.violations_report(session)
