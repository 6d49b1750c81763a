"""Personal data over the API: my profile, consents, data-subject requests; staff views (masked by default,
unmasking with a justification, break-glass), blind-index lookups. Every rule lives in ``privacy.service``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from xiaodai.api.deps import DB, CurrentUser, Now, RowId, Today
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.privacy import service as privacy

router = APIRouter(route_class=OneHopRoute, prefix="/api/me", tags=["privacy"])
staff_router = APIRouter(route_class=OneHopRoute, prefix="/api/staff/people", tags=["privacy"])


class EmergencyContact(BaseModel):
    name: str = Field(max_length=60)
    relation: str = Field(max_length=20, description="spouse, parent, child, sibling, relative, friend, …")
    phone: str = Field(max_length=20)


class ProfileUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=60)
    id_number: str | None = Field(default=None, max_length=18, description="resident ID, 18 characters")
    phone: str | None = Field(default=None, max_length=20)
    bank_card: str | None = Field(default=None, max_length=23)
    address: str | None = Field(default=None, max_length=200)
    emergency_contacts: list[EmergencyContact] | None = Field(default=None, max_length=10)
    contacts_source: str | None = Field(
        default=None, max_length=30, description="typed (only accepted value); address_book is refused"
    )
    sensitive_data_consent: bool = Field(
        default=False, description="separate consent for the ID number and bank card (PIPL Art. 29)"
    )

    def fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"sensitive_data_consent"})


class Unmask(BaseModel):
    fields: list[str] = Field(default_factory=list, max_length=6)
    justification: str = Field(default="", max_length=500)
    break_glass: bool = False


class Lookup(BaseModel):
    kind: str = Field(description="phone or id_number", max_length=20)
    value: str = Field(max_length=40)


@router.get("/profile")
def my_profile(session: DB, user: CurrentUser) -> dict[str, Any]:
    """My personal data, masked (the export has it in clear)."""
    return privacy.own_profile(session, user=user)


@router.put("/profile")
def update_profile(body: ProfileUpdate, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Set or correct my personal data; it is stored encrypted and shown masked."""
    return privacy.save_profile(
        session, user=user, fields=body.fields(), sensitive_consent=body.sensitive_data_consent
    )


@router.get("/consents")
def my_consents(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    return privacy.consents(session, user=user)


@router.post("/consents/{kind}", status_code=201)
def grant(kind: str, session: DB, user: CurrentUser) -> dict[str, Any]:
    row = privacy.grant_consent(session, user=user, kind=kind)
    return {"id": row.id, "kind": row.kind, "text_version": row.text_version}


@router.delete("/consents/{kind}")
def withdraw(kind: str, session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    """Withdraw a consent; it takes effect at once (sensitive data: what no floor keeps is erased)."""
    return privacy.withdraw_consent(session, user=user, kind=kind, as_of=today)


@router.get("/data-requests")
def my_requests(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    return privacy.data_requests(session, user=user)


@router.post("/data-requests/correction", status_code=201)
def correction(body: ProfileUpdate, session: DB, user: CurrentUser) -> dict[str, Any]:
    changes = {**body.fields(), "sensitive_data_consent": body.sensitive_data_consent}
    return privacy.request_correction(session, user=user, changes=changes)


@router.get("/data-requests/deletion-plan")
def deletion_plan(session: DB, user: CurrentUser, today: Today) -> list[dict[str, Any]]:
    """What a deletion request would erase now and what must be kept (reason, date it can go)."""
    return privacy.deletion_plan(session, user=user, as_of=today)


@router.post("/data-requests/deletion", status_code=201)
def deletion(session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    return privacy.request_deletion(session, user=user, as_of=today)


@staff_router.get("/{user_id}")
def person(user_id: RowId, session: DB, user: CurrentUser) -> dict[str, Any]:
    """A borrower's personal data, masked; audited."""
    return privacy.view_person(session, viewer=user, subject_id=user_id)


@staff_router.post("/{user_id}/unmask")
def unmask(user_id: RowId, body: Unmask, session: DB, user: CurrentUser, now: Now) -> dict[str, Any]:
    """Fields in clear, for a role that needs them, with a real justification (or break-glass); audited.
    A few per shift; more need a second person's approval (operation "unmask"); at most 25 per shift."""
    return privacy.view_person(
        session,
        viewer=user,
        subject_id=user_id,
        unmask=tuple(body.fields),
        justification=body.justification,
        break_glass=body.break_glass,
        now=now,
    )


@staff_router.post("/lookup")
def lookup(body: Lookup, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Borrowers with this phone or ID number (blind index; nothing decrypted); audited."""
    return {"user_ids": privacy.lookup(session, viewer=user, kind=body.kind, value=body.value)}
