"""Personal-data operations for borrowers and staff (shell): profile, masked views, audited unmasking,
lookups, consent withdrawal, correction and deletion requests.

Access is decided by ``privacy.access`` (pure) and enforced here, in the service layer, whatever the caller
(API, web page or CLI). Every staff view — allowed or refused — is written to the audit trail.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError, roles_of
from xiaodai.accounts.token_cache import TOKENS
from xiaodai.audit.trail import record
from xiaodai.db.tables import (
    ApiTokenRow,
    ApplicationRow,
    BureauPullRow,
    CollectionCaseRow,
    ComplaintRow,
    ConsentRow,
    ContactAttemptRow,
    DataRequestRow,
    LoanRow,
    PersonalDataRow,
    UserRow,
)
from xiaodai.privacy import access, masking, retention, shift_allowance, store
from xiaodai.privacy.crypto import KeyRing, aad, encrypt
from xiaodai.privacy.keys import current_ring
from xiaodai.privacy.validation import PersonalDataError, clean_profile

CONSENT_TEXTS = {
    "credit_check": "credit-check-2026.11",
    "terms": "loan-terms-2026.11",
    "sensitive_data": "sensitive-data-2026.11",
    "agency_sharing": "agency-sharing-2026.11",
}
SENSITIVE = frozenset({"id_number", "bank_card"})  # PIPL Art. 28: separate consent (Art. 29)
WITHDRAWABLE = frozenset({"credit_check", "sensitive_data", "agency_sharing"})
IN_FORCE = ("signed", "active", "overdue")
CLOSED = ("settled", "written-off", "cancelled")
BUREAU_REPORT = "bureau_report:"  # retention category of one credit report: bureau_report:<pull id>


class PrivacyError(ValueError):
    status = 400

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.status = status


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _audit(session: Session, actor: str, action: str, subject: str, reason: str, **payload: Any) -> None:
    record(session, actor=actor, action=action, subject=subject, reason=reason, payload=payload)


def audit_refusal(
    session: Session, actor: str, action: str, subject: str, reason: str, **payload: Any
) -> None:
    """Record a refusal durably: the caller raises next and the request rolls back, but the audit entry is
    committed first (access checks run before any other work of the request, so nothing else rides along)."""
    _audit(session, actor, action, subject, reason, **payload)
    session.commit()


def _actor(user: UserRow) -> str:
    return f"user:{user.id}"


# --- consent ---


def active_consent(session: Session, user_id: int, kind: str) -> ConsentRow | None:
    return session.execute(
        select(ConsentRow)
        .where(ConsentRow.user_id == user_id, ConsentRow.kind == kind, ConsentRow.withdrawn_at.is_(None))
        .order_by(ConsentRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def grant_consent(session: Session, *, user: UserRow, kind: str) -> ConsentRow:
    if kind not in CONSENT_TEXTS:
        raise PrivacyError("UNKNOWN_CONSENT", f"unknown consent {kind!r}")
    row = ConsentRow(
        user_id=user.id, kind=kind, text_version=CONSENT_TEXTS[kind], granted_at=_now(), withdrawn_at=None
    )
    session.add(row)
    session.flush()
    _audit(session, _actor(user), "consent-granted", f"user:{user.id}", "GRANTED", kind=kind)
    return row


def withdraw_consent(
    session: Session, *, user: UserRow, kind: str, as_of: date | None = None
) -> dict[str, Any]:
    """Withdrawal is as easy as granting (PIPL Art. 15) and takes effect at once; what was done before stays
    lawful. Withdrawing the sensitive-data consent erases the ID number and card we hold unless a loan is in
    force or a retention floor applies (then processing beyond storage stops)."""
    if kind not in WITHDRAWABLE:
        raise PrivacyError(
            "NOT_WITHDRAWABLE", f"{kind!r} cannot be withdrawn here (the signed contract governs it)"
        )
    rows = list(
        session.execute(
            select(ConsentRow).where(
                ConsentRow.user_id == user.id, ConsentRow.kind == kind, ConsentRow.withdrawn_at.is_(None)
            )
        ).scalars()
    )
    if not rows:
        raise PrivacyError("NO_ACTIVE_CONSENT", f"there is no active {kind} consent to withdraw", 404)
    now = _now()
    for row in rows:
        row.withdrawn_at = now
    session.flush()
    out: dict[str, Any] = {"kind": kind, "withdrawn_at": now.isoformat(), "records": len(rows)}
    if kind == "sensitive_data":
        items = retention.plan(_subject(session, user, as_of or now.date()))
        held = {i.category: i for i in items if i.category in SENSITIVE}
        erase = [c for c, i in held.items() if i.action == "delete"]
        store.erase_fields(session, user.id, erase)
        out["erased"] = sorted(erase)
        out["kept"] = [i.to_json() for c, i in sorted(held.items()) if i.action == "retain"]
    _audit(session, _actor(user), "consent-withdrawn", f"user:{user.id}", "WITHDRAWN", **out)
    return out


def consents(session: Session, *, user: UserRow) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ConsentRow).where(ConsentRow.user_id == user.id).order_by(ConsentRow.id)
    ).scalars()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "text_version": r.text_version,
            "granted_at": r.granted_at.isoformat(),
            "withdrawn_at": r.withdrawn_at.isoformat() if r.withdrawn_at else None,
        }
        for r in rows
    ]


def agency_sharing_allowed(session: Session, loan_id: int) -> bool:
    loan = session.get(LoanRow, loan_id)
    if loan is None or loan.borrower_id is None:
        return True  # loans booked outside the portal carry their consent in the paper contract
    withdrawn = session.execute(
        select(func.count()).where(
            ConsentRow.user_id == loan.borrower_id,
            ConsentRow.kind == "agency_sharing",
            ConsentRow.withdrawn_at.is_not(None),
        )
    ).scalar_one()
    return active_consent(session, loan.borrower_id, "agency_sharing") is not None or not withdrawn


# --- the borrower's own profile ---


def save_profile(
    session: Session,
    *,
    user: UserRow,
    fields: dict[str, Any],
    sensitive_consent: bool = False,
    ring: KeyRing | None = None,
) -> dict[str, Any]:
    if user.kind != "borrower":
        raise PrivacyError("BORROWERS_ONLY", "only borrowers keep a personal profile")
    try:
        clean = clean_profile(fields)
    except PersonalDataError as exc:
        raise PrivacyError(exc.code, str(exc), 422) from None
    if not clean:
        raise PrivacyError("NOTHING_TO_SAVE", "no personal-data fields given", 422)
    if clean.keys() & SENSITIVE and active_consent(session, user.id, "sensitive_data") is None:
        if not sensitive_consent:
            raise PrivacyError(
                "SENSITIVE_CONSENT_REQUIRED",
                "your ID number and bank card are sensitive personal information: give the separate "
                "consent for them (sensitive_data_consent)",
                422,
            )
        grant_consent(session, user=user, kind="sensitive_data")
    store.write_fields(session, ring or current_ring(), user.id, clean)
    _audit(session, _actor(user), "profile-updated", f"user:{user.id}", "SELF", fields=sorted(clean))
    return own_profile(session, user=user, ring=ring)


def own_profile(session: Session, *, user: UserRow, ring: KeyRing | None = None) -> dict[str, Any]:
    """What the borrower sees of themselves: masked like everywhere else (the export has it in clear)."""
    data = store.read_fields(ring or current_ring(), session.get(PersonalDataRow, user.id))
    return masking.display(data, ())


# --- staff views ---


def _assigned(session: Session, viewer: UserRow, subject_id: int) -> bool:
    stmt = (
        select(func.count())
        .select_from(CollectionCaseRow)
        .join(LoanRow, LoanRow.id == CollectionCaseRow.loan_id)
        .where(LoanRow.borrower_id == subject_id, CollectionCaseRow.assigned_to == viewer.id)
    )
    return int(session.execute(stmt).scalar_one()) > 0


def view_person(
    session: Session,
    *,
    viewer: UserRow,
    subject_id: int,
    unmask: tuple[str, ...] = (),
    justification: str = "",
    break_glass: bool = False,
    ring: KeyRing | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A person's data as this viewer may see it. Refusals raise 403 (429 past the shift's cap) and are
    audited like views. Unmasking counts against the viewer's shift allowance (``access.unmask_allowance``);
    break-glass and unmasking past the allowance raise an alert."""
    if viewer.kind != "staff":
        raise ForbiddenError("your own data is at /api/me/profile", "STAFF_ONLY")
    subject = session.get(UserRow, subject_id)
    if subject is None or subject.kind != "borrower":
        raise PrivacyError("NOT_FOUND", "no such borrower", 404)
    is_self = False
    verdict = access.decide_view(
        roles_of(viewer),
        is_self=is_self,
        assigned=_assigned(session, viewer, subject_id),
        unmask=unmask,
        justification=justification,
        break_glass=break_glass,
    )
    at = now or _now()
    if verdict.allowed and verdict.reason in UNMASKING:
        verdict = shift_allowance.within_allowance(session, viewer, subject_id, verdict, at)
    if not is_self:
        action = "pii-break-glass" if verdict.reason == "BREAK_GLASS" else "pii-view"
        (_audit_at if verdict.allowed else _refusal_at)(
            session,
            _actor(viewer),
            action if verdict.allowed else "pii-view-refused",
            f"user:{subject_id}",
            verdict.reason,
            at=at,
            unmask=list(unmask),
            justification=justification.strip(),
            roles=sorted(roles_of(viewer)),
        )
    if verdict.reason == "UNMASK_RATE_LIMITED":
        raise PrivacyError(
            verdict.reason,
            f"at most {access.MAX_UNMASKS_PER_SHIFT} unmaskings per shift ({access.SHIFT} rolling)",
            429,
        )
    if verdict.reason == "UNMASK_APPROVAL_REQUIRED":
        raise PrivacyError(
            verdict.reason,
            f"{access.FREE_UNMASKS_PER_SHIFT} unmaskings this shift already: more need a second person's "
            'approval (POST /api/staff/approvals {"operation": "unmask", "params": {"user_id", "fields"}})',
            403,
        )
    if not verdict.allowed:
        raise ForbiddenError(code=verdict.reason)
    data = store.read_fields(ring or current_ring(), session.get(PersonalDataRow, subject_id))
    return {"user_id": subject_id, "access": verdict.reason, **masking.display(data, verdict.unmask)}


UNMASKING = frozenset({"ALLOWED", "BREAK_GLASS"})  # the verdicts that show fields in clear


def _audit_at(
    session: Session, actor: str, action: str, subject: str, reason: str, *, at: datetime, **payload: Any
) -> None:
    record(session, actor=actor, action=action, subject=subject, reason=reason, payload=payload, at=at)


def _refusal_at(
    session: Session, actor: str, action: str, subject: str, reason: str, *, at: datetime, **payload: Any
) -> None:
    _audit_at(session, actor, action, subject, reason, at=at, **payload)
    session.commit()


def lookup(
    session: Session, *, viewer: UserRow, kind: str, value: str, ring: KeyRing | None = None
) -> list[int]:
    """Find borrowers by phone or ID number through the blind index (no decryption, audited)."""
    held = roles_of(viewer)
    if not held & {"underwriter", "complaint_officer", "admin"}:
        audit_refusal(session, _actor(viewer), "pii-lookup-refused", f"lookup:{kind}", "NEED_TO_KNOW")
        raise ForbiddenError(code="NEED_TO_KNOW")
    if kind not in store.INDEXED:
        raise PrivacyError("LOOKUP_KIND", "look up by phone or id_number", 422)
    found = store.find_users(session, ring or current_ring(), kind, value)
    _audit(session, _actor(viewer), "pii-lookup", f"lookup:{kind}", "ALLOWED", matches=len(found))
    return found


# --- data-subject rights ---


def export_personal_data(session: Session, *, user: UserRow, ring: KeyRing | None = None) -> dict[str, Any]:
    """The person's own data in clear, for the export-my-data file (PIPL Art. 45)."""
    data = store.read_fields(ring or current_ring(), session.get(PersonalDataRow, user.id))
    _audit(session, _actor(user), "data-export", f"user:{user.id}", "SELF")
    return data


def request_correction(
    session: Session, *, user: UserRow, changes: dict[str, Any], ring: KeyRing | None = None
) -> dict[str, Any]:
    """PIPL Art. 46: the borrower corrects their own data; applied at once, recorded with the new values
    encrypted (the evidence of what changed)."""
    chosen = ring or current_ring()
    fields = {k: v for k, v in changes.items() if k != "sensitive_data_consent"}
    save_profile(
        session,
        user=user,
        fields=fields,
        sensitive_consent=bool(changes.get("sensitive_data_consent")),
        ring=chosen,
    )
    row = DataRequestRow(
        user_id=user.id,
        kind="correction",
        status="done",
        result_json=json.dumps({"corrected": sorted(fields)}),
        created_at=_now(),
    )
    session.add(row)
    session.flush()
    row.request_enc = encrypt(
        chosen, json.dumps(fields, ensure_ascii=False), aad("data_requests", row.id, "request")
    )
    session.flush()
    return {"request_id": row.id, "status": "done", "corrected": sorted(fields)}


def _subject(session: Session, user: UserRow, as_of: date) -> retention.Subject:
    loans = list(session.execute(select(LoanRow).where(LoanRow.borrower_id == user.id)).scalars())
    in_force = [ln for ln in loans if ln.state in IN_FORCE]
    disbursed = [ln for ln in loans if ln.disbursed_on is not None]
    closed_days = [ln.closed_on for ln in disbursed if ln.state in CLOSED and ln.closed_on is not None]
    complaints = [
        c
        for c in session.execute(select(ComplaintRow).where(ComplaintRow.user_id == user.id)).scalars()
        if c.status != "merged"
    ]
    last_attempt = None
    if loans:
        last_at = session.execute(
            select(func.max(ContactAttemptRow.attempted_at)).where(
                ContactAttemptRow.loan_id.in_([ln.id for ln in loans])
            )
        ).scalar_one()
        last_attempt = last_at.date() if last_at else None
    declined = session.execute(
        select(func.count()).where(ApplicationRow.user_id == user.id, ApplicationRow.loan_id.is_(None))
    ).scalar_one()
    data = session.get(PersonalDataRow, user.id)
    reports = session.execute(
        select(BureauPullRow.id, BureauPullRow.pulled_at)
        .where(BureauPullRow.user_id == user.id, BureauPullRow.report_enc.is_not(None))
        .order_by(BureauPullRow.id)
    ).all()
    return retention.Subject(
        as_of=as_of,
        loans_in_force=len(in_force),
        relationship_ended_on=max(closed_days) if closed_days and not in_force else None,
        had_relationship=bool(disbursed),
        complaints=tuple((c.id, c.closed_at.date() if c.closed_at else None) for c in complaints),
        complaint_periods=tuple(
            (c.received_at.date(), c.closed_at.date() if c.closed_at else None) for c in complaints
        ),
        last_contact_attempt_on=last_attempt,
        has_emergency_contacts=bool(data and data.emergency_contacts_enc),
        has_bank_card=bool(data and data.bank_card_enc),
        declined_applications=int(declined),
        bureau_reports=tuple((pull_id, pulled_at.date()) for pull_id, pulled_at in reports),
    )


def deletion_plan(session: Session, *, user: UserRow, as_of: date) -> list[dict[str, Any]]:
    return [item.to_json() for item in retention.plan(_subject(session, user, as_of))]


def request_deletion(session: Session, *, user: UserRow, as_of: date) -> dict[str, Any]:
    """PIPL Art. 47: erase what no law requires us to keep; list the rest with the reason and the date."""
    items = retention.plan(_subject(session, user, as_of))
    deletable = {i.category for i in items if i.action == "delete"}
    fields = [f for f in store.ALL_FIELDS if f in deletable]
    store.erase_fields(session, user.id, fields)
    store.erase_reports(
        session,
        user.id,
        [int(c.split(":", 1)[1]) for c in deletable if c.startswith(BUREAU_REPORT)],
        at=_now(),
    )
    if "declined_applications" in deletable:
        for app in session.execute(
            select(ApplicationRow).where(ApplicationRow.user_id == user.id, ApplicationRow.loan_id.is_(None))
        ).scalars():
            app.payload_json = json.dumps({"erased": True, "on": as_of.isoformat()})
    if "account" in deletable:
        user.email = f"erased-{user.id}@erased.invalid"
        user.set_name(None)  # reads as "—"
        user.password_hash = "!erased"
        for token in session.execute(select(ApiTokenRow).where(ApiTokenRow.user_id == user.id)).scalars():
            token.revoked = True
        TOKENS.forget_user(user.id)
    retained = [i.to_json() for i in items if i.action == "retain"]
    status = "done" if not retained else ("partially_done" if deletable else "refused")
    result = {"deleted": sorted(deletable), "retained": retained}
    row = DataRequestRow(
        user_id=user.id,
        kind="deletion",
        status=status,
        result_json=json.dumps(result),
        created_at=_now(),
    )
    session.add(row)
    session.flush()
    _audit(session, _actor(user), "data-deletion", f"user:{user.id}", status.upper(), **result)
    return {"request_id": row.id, "status": status, **result}


def data_requests(session: Session, *, user: UserRow) -> list[dict[str, Any]]:
    rows = session.execute(
        select(DataRequestRow).where(DataRequestRow.user_id == user.id).order_by(DataRequestRow.id)
    ).scalars()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            **json.loads(r.result_json),
        }
        for r in rows
    ]
