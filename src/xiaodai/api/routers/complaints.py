"""Complaints API: borrower intake, status and review request; staff entry, triage override, queue, closing,
review decision and the report back to a forwarding regulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.api.deps import DB, MAX_ROW_ID, CurrentUser
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.complaints import service
from xiaodai.db.tables import ComplaintRow, UserRow
from xiaodai.journey.service import NotFoundError, own_loan

router = APIRouter(route_class=OneHopRoute, tags=["complaints"])


class ComplaintCreate(BaseModel):
    narrative: str = Field(min_length=1, max_length=5000)
    loan_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)


class StaffComplaintCreate(ComplaintCreate):
    channel: str = Field(pattern="^(phone|letter|regulator|visit)$")
    forwarded_by: str | None = Field(default=None, pattern="^(12378|PBOC|CFPB)$")
    received_at: str | None = None
    user_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    new_facts: bool = False  # the officer's judgement when this repeats an open complaint


class Reclassify(BaseModel):
    category: str
    sub_issue: str | None = None


class RegulatorFeedback(BaseModel):
    level: str | None = Field(default=None, max_length=60)
    fields: list[str] = Field(default_factory=list, max_length=40)


class Close(BaseModel):
    notice: dict[str, Any]
    remedies: list[dict[str, Any]]
    root_cause: str


def _officer(user: UserRow) -> None:
    if not (has_role(user, "complaint_officer") or has_role(user, "admin") or has_role(user, "auditor")):
        raise ForbiddenError("complaint officer, auditor or admin role required")


def _officer_writes(user: UserRow) -> None:
    """Auditors read everything and change nothing."""
    _officer(user)
    if not (has_role(user, "complaint_officer") or has_role(user, "admin")):
        raise ForbiddenError("auditors are read-only")


@router.post("/api/complaints", status_code=201)
def file(body: ComplaintCreate, session: DB, user: CurrentUser) -> dict[str, Any]:
    """File a complaint (acknowledged at once with its regulatory deadline)."""
    if body.loan_id is not None:
        own_loan(session, user, body.loan_id)
    return service.file_complaint(
        session,
        narrative=body.narrative,
        channel="api",
        user_id=user.id,
        loan_id=body.loan_id,
        received_at=datetime.now(tz=UTC),
    )


@router.get("/api/complaints")
def mine(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    """My complaints (the list the portal's complaints page shows)."""
    return my_complaints(session, user)


@router.get("/api/complaints/{public_id}")
def status(public_id: str, session: DB, user: CurrentUser) -> dict[str, Any]:
    """The complainant's own complaint, or any for the complaint roles (officer, auditor, admin); to anyone
    else — other staff included — it does not exist (its category is personal and can be sensitive)."""
    row = service.get(session, public_id)
    officer = has_role(user, "complaint_officer") or has_role(user, "auditor")  # has_role: admin too
    if row.user_id != user.id and not officer:
        raise NotFoundError("complaint not found")
    return {
        "complaint_id": row.public_id,
        "status": row.status,
        "category": row.category,
        "sla": service.sla(session, row, datetime.now(tz=UTC)),
    }


@router.get("/api/staff/complaints")
def queue(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    """Open and triage complaints, most urgent first, with their deadlines and evidence."""
    _officer(user)
    return service.queue(session, as_of=datetime.now(tz=UTC))


@router.post("/api/staff/complaints", status_code=201)
def staff_entry(body: StaffComplaintCreate, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Phone, letter or regulator-forwarded (12378, PBOC, CFPB) complaints entered by staff."""
    _officer_writes(user)
    try:
        received = datetime.fromisoformat(body.received_at) if body.received_at else datetime.now(tz=UTC)
    except ValueError:
        raise service.ComplaintError(
            "received_at must be an ISO 8601 time with a UTC offset, e.g. 2026-01-10T09:30:00+08:00"
        ) from None
    return service.file_complaint(
        session,
        narrative=body.narrative,
        channel=body.channel,
        forwarded_by=body.forwarded_by,
        user_id=body.user_id,
        loan_id=body.loan_id,
        received_at=received,
        new_facts=body.new_facts,
    )


@router.post("/api/staff/complaints/{public_id}/classification")
def reclassify(public_id: str, body: Reclassify, session: DB, user: CurrentUser) -> dict[str, Any]:
    _officer_writes(user)
    service.reclassify(
        session,
        public_id=public_id,
        category=body.category,
        sub_issue=body.sub_issue,
        officer=f"user:{user.id}",
    )
    return {"complaint_id": public_id, "category": body.category, "classified_by": "human"}


@router.post("/api/staff/complaints/{public_id}/close")
def close(public_id: str, body: Close, session: DB, user: CurrentUser) -> dict[str, Any]:
    _officer_writes(user)
    return service.close(
        session,
        public_id=public_id,
        at=datetime.now(tz=UTC),
        notice=body.notice,
        root_cause=body.root_cause,
        remedies=body.remedies,
    )


@router.post("/api/complaints/{public_id}/review")
def request_review(public_id: str, session: DB, user: CurrentUser) -> dict[str, Any]:
    """The complainant asks for a review of the decision (within 30 days of the notice)."""
    row = service.get(session, public_id)
    if row.user_id != user.id:
        raise NotFoundError("complaint not found")
    return service.request_review(session, public_id=public_id, at=datetime.now(tz=UTC))


@router.post("/api/staff/complaints/{public_id}/review-decision")
def decide_review(public_id: str, session: DB, user: CurrentUser) -> dict[str, Any]:
    """The review's decision notified to the complainant (decided within 30 days of the request)."""
    _officer_writes(user)
    return service.decide_review(
        session, public_id=public_id, at=datetime.now(tz=UTC), officer=f"user:{user.id}"
    )


@router.post("/api/staff/complaints/{public_id}/regulator-feedback")
def regulator_feedback(
    public_id: str, body: RegulatorFeedback, session: DB, user: CurrentUser
) -> dict[str, Any]:
    """The result reported back to the regulator that forwarded the complaint (within the same limit)."""
    _officer_writes(user)
    return service.report_to_regulator(
        session, public_id=public_id, at=datetime.now(tz=UTC), level=body.level, fields=body.fields
    )


def my_complaints(session: Any, user: UserRow) -> list[dict[str, Any]]:
    rows = session.execute(select(ComplaintRow).where(ComplaintRow.user_id == user.id)).scalars()
    return [{"complaint_id": r.public_id, "status": r.status, "category": r.category} for r in rows]
