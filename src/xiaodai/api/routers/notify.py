"""Notifications over the API: my inbox (what was sent to me) and my channel choices; for staff, the notices
of a day with every decision's reason codes, and the scheduler's job runs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, StrictBool

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.api.deps import DB, CurrentUser, Now
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.db.tables import UserRow
from xiaodai.jobs import runner
from xiaodai.notify import service

router = APIRouter(route_class=OneHopRoute, prefix="/api/me", tags=["notify"])
staff_router = APIRouter(route_class=OneHopRoute, prefix="/api/staff", tags=["notify"])


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sms: StrictBool | None = None
    email: StrictBool | None = None
    marketing_opt_out: StrictBool | None = None


def _borrower(user: UserRow) -> UserRow:
    if user.kind != "borrower":
        raise ForbiddenError("a borrower's own inbox", "BORROWER_ONLY")
    return user


@router.get("/inbox")
def my_inbox(session: DB, user: CurrentUser, limit: int = Query(100, ge=1, le=500)) -> list[dict[str, Any]]:
    """What was sent to me, newest first, on every channel (legal notices, reminders, offers)."""
    return service.inbox(session, borrower_id=_borrower(user).id, limit=limit)


@router.post("/inbox/read")
def read_inbox(session: DB, user: CurrentUser, at: Now) -> dict[str, int]:
    """Mark every message in my inbox read."""
    return {"marked_read": service.mark_read(session, borrower_id=_borrower(user).id, as_of=at)}


@router.get("/notice-preferences")
def my_preferences(session: DB, user: CurrentUser) -> dict[str, Any]:
    """My channels: the app inbox always; SMS and e-mail as I choose; marketing opt-out. Legally required
    notices go by app inbox and SMS whatever I choose."""
    return service.preferences_view(session, borrower_id=_borrower(user).id)


@router.put("/notice-preferences")
def set_my_preferences(body: PreferencesUpdate, session: DB, user: CurrentUser) -> dict[str, Any]:
    return service.set_preferences(
        session,
        borrower_id=_borrower(user).id,
        sms=body.sms,
        email=body.email,
        marketing_opt_out=body.marketing_opt_out,
    )


def _staff(user: UserRow, *roles: str) -> None:
    if not any(has_role(user, r) for r in roles):
        raise ForbiddenError(f"one of the roles {', '.join(roles)} required", "ROLE_REQUIRED")


@staff_router.get("/notices")
def notices(
    session: DB, user: CurrentUser, day: Annotated[date, Query(alias="date")]
) -> list[dict[str, Any]]:
    """The business date's notices and every channel decision with its reason codes."""
    _staff(user, "collector", "auditor", "admin")
    return service.notices_for(session, day=day)


@staff_router.get("/jobs")
def jobs(
    session: DB, user: CurrentUser, job: str | None = None, limit: int = Query(50, ge=1, le=500)
) -> dict[str, Any]:
    """Scheduled jobs, each one's latest business date and status, and the latest runs with their
    durations and outcomes (operations: admin; auditors read)."""
    _staff(user, "admin", "auditor")
    try:
        return runner.overview(session, job=job, limit=limit)
    except runner.JobError as exc:
        from xiaodai.journey.service import NotFoundError

        raise NotFoundError(str(exc)) from None
