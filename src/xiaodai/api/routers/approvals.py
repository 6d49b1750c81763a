"""Maker-checker over the API: request, list, approve (executes), reject. Rules in ``approvals.rules``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from xiaodai.api.deps import DB, CurrentUser, RowId, Today
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.approvals import service

router = APIRouter(route_class=OneHopRoute, prefix="/api/staff/approvals", tags=["approvals"])


class ApprovalCreate(BaseModel):
    operation: str = Field(
        max_length=40, description="write_off | waive | model_activate | key_rotate | backdated_repayment"
    )
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(max_length=1000)


class Rejection(BaseModel):
    reason: str = Field(max_length=1000)


@router.get("")
def listing(session: DB, user: CurrentUser, status: str | None = None) -> list[dict[str, Any]]:
    return service.listing(session, viewer=user, status=status)


@router.post("", status_code=201)
def create(body: ApprovalCreate, session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    """File a request. A back-dated repayment (params loan_id, amount "1234.56", on YYYY-MM-DD) is booked on
    ``on`` once approved: never after the business date, at most 30 days before it, not before disbursal."""
    return service.request(
        session,
        maker=user,
        operation=body.operation,
        params=body.params,
        reason=body.reason,
        business_date=today,
    )


@router.post("/{approval_id}/approve")
def approve(approval_id: RowId, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Approve and execute: never by the maker, only by a checker role."""
    return service.approve(session, checker=user, approval_id=approval_id)


@router.post("/{approval_id}/reject")
def reject(approval_id: RowId, body: Rejection, session: DB, user: CurrentUser) -> dict[str, Any]:
    return service.reject(session, checker=user, approval_id=approval_id, reason=body.reason)
