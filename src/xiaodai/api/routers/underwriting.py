"""The underwriter's referred queue over the API: list the applications waiting for review, approve or
decline one (reason codes of ``underwriting.reasons.REVIEW_DECLINE_TEXT``). Rules in
``underwriting.referrals``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.api.deps import DB, CurrentUser, RowId
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.underwriting import referrals

router = APIRouter(route_class=OneHopRoute, prefix="/api/staff/referrals", tags=["underwriting"])


class Review(BaseModel):
    verdict: str = Field(max_length=10, description="approve | decline")
    reasons: list[str] = Field(
        default_factory=list, max_length=10, description="decline reason codes (one or more for a decline)"
    )
    note: str = Field(default="", max_length=referrals.MAX_NOTE)


@router.get("")
def queue(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    """Referred applications waiting for an underwriter (newest first), with the automated reasons."""
    if not has_role(user, "underwriter"):
        raise ForbiddenError(code="ROLE_REQUIRED")
    return [
        {
            "decision_id": d.id,
            "application_id": a.public_id,
            "decided_at": d.decided_at.isoformat(),
            "grade": d.grade,
            "pd": d.pd,
            "request": json.loads(d.application_json).get("request", {}),
            "reasons": json.loads(d.result_json).get("reasons", []),
            "offer": json.loads(d.result_json).get("offer"),
        }
        for a, d in referrals.referred(session)
    ]


@router.get("/reasons")
def reason_codes(user: CurrentUser) -> list[dict[str, Any]]:
    """The decline reason codes an underwriter may give, with their zh/en text."""
    if not has_role(user, "underwriter"):
        raise ForbiddenError(code="ROLE_REQUIRED")
    return [r.to_json() for r in referrals.decline_reason_choices()]


@router.post("/{decision_id}/review")
def review(decision_id: RowId, body: Review, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Approve (the borrower sees the decision's offer) or decline with reasons (the borrower sees them)."""
    return referrals.review(
        session,
        reviewer=user,
        decision_id=decision_id,
        verdict=body.verdict,
        reasons=body.reasons,
        note=body.note,
    )
