"""Personal-data pages: the borrower's own data (profile masked, consents, correction and deletion requests)
and a staff view of one person (masked; unmasking justified or break-glass, audited).

The pages mirror ``api/routers/privacy.py``; every rule lives in ``privacy.service``. Inputs are never
prefilled with clear values, and clear values shown to staff live only in the response that shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import CHINA
from xiaodai.db.tables import UserRow
from xiaodai.privacy import access
from xiaodai.privacy import service as privacy
from xiaodai.privacy.store import ALL_FIELDS
from xiaodai.privacy.validation import MAX_EMERGENCY_CONTACTS
from xiaodai.web.i18n import translator
from xiaodai.web.routes import (
    PostedForm,
    _check_csrf,
    _lang,
    _login_required,
    _page,
    _run,
    _staff,
    _today,
    _user,
)

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = ("name", "id_number", "phone", "bank_card", "address")
RELATIONS = ("spouse", "parent", "child", "sibling", "relative", "friend", "colleague", "other")
GRANTABLE = frozenset({"agency_sharing"})  # the other consents are given where they are needed
MAX_JUSTIFICATION = 500
PersonId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# --- the borrower's own data ---


def _borrower(request: Request, session: Session) -> UserRow:
    user = _login_required(request, session)
    if user.kind != "borrower":
        raise privacy.PrivacyError("BORROWERS_ONLY", "only borrowers keep a personal profile", 403)
    return user


def _has_profile(profile: dict[str, Any]) -> bool:
    return any(field in profile for field in ALL_FIELDS)


def _plan_rows(plan: list[dict[str, Any]], t: dict[str, str]) -> list[dict[str, Any]]:
    """The deletion plan with a readable label and explanation for each category and reason code."""
    rows = []
    for item in plan:
        category = str(item["category"])
        kind, _, ref = category.partition(":")
        label = t.get(f"field_{kind}") or t.get(f"cat_{kind}") or kind
        rows.append(
            {
                **item,
                "label": f"{label} #{ref}" if ref else label,
                "explanation": t.get(f"retention_{item['reason']}", ""),
            }
        )
    return rows


def _local(stamp: str | None) -> str | None:
    """A stored UTC timestamp as Beijing time to the minute (naive values, from SQLite, are UTC)."""
    if stamp is None:
        return None
    at = datetime.fromisoformat(stamp)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _data_context(request: Request, session: Session, user: UserRow) -> dict[str, Any]:
    t = translator(_lang(request))
    profile = privacy.own_profile(session, user=user)
    consents = [
        {**c, "granted_at": _local(c["granted_at"]), "withdrawn_at": _local(c["withdrawn_at"])}
        for c in privacy.consents(session, user=user)
    ]
    active = {c["kind"] for c in consents if c["withdrawn_at"] is None}
    requests = privacy.data_requests(session, user=user)
    for row in requests:
        row["retained_rows"] = _plan_rows(row.get("retained", []), t)
        row["created_at"] = _local(row["created_at"])
    return {
        "loaded": True,
        "profile": profile,
        "has_profile": _has_profile(profile),
        "consents": consents,
        "withdrawable": sorted(privacy.WITHDRAWABLE & active),
        "grantable": sorted(GRANTABLE - active),
        "plan": _plan_rows(privacy.deletion_plan(session, user=user, as_of=_today(request)), t),
        "requests": requests,
    }


# What the page needs even when an error leaves nothing else to show (the form is never prefilled).
FORM: dict[str, Any] = {
    "loaded": False,
    "has_profile": False,
    "text_fields": TEXT_FIELDS,
    "relations": RELATIONS,
    "slots": MAX_EMERGENCY_CONTACTS,
}


def _run_me(request: Request, action: Callable[[Session], Response]) -> Response:
    return _run(request, action, "me_data.html", **FORM)


@router.get("/me/data", response_class=HTMLResponse)
def my_data(request: Request) -> Response:
    def action(session: Session) -> Response:
        user = _user(request, session)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if user.kind != "borrower":
            return RedirectResponse("/staff", status_code=303)
        ack = request.session.pop("privacy_ack", None)
        context = {**FORM, **_data_context(request, session, user)}
        return _page(request, "me_data.html", session, ack=ack, **context)

    return _run_me(request, action)


def _profile_fields(form: FormData) -> dict[str, Any]:
    """The fields typed in; an empty input means unchanged. Contacts typed in replace the current list."""
    fields: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = str(form.get(name, "")).strip()
        if value:
            fields[name] = value
    contacts = []
    for slot in range(1, MAX_EMERGENCY_CONTACTS + 1):
        contact = {
            part: str(form.get(f"contact{slot}_{part}", "")).strip() for part in ("name", "relation", "phone")
        }
        if any(contact.values()):
            contacts.append(contact)
    if contacts:
        fields["emergency_contacts"] = contacts
    return fields


@router.post("/me/data/profile")
def save_profile(request: Request, form: PostedForm) -> Response:
    """A plain ``def``: the encryption and database work run in the threadpool (the form is read by the
    ``form_data`` dependency on the loop)."""

    def action(session: Session) -> Response:
        _check_csrf(request, str(form.get("csrf", "")))
        user = _borrower(request, session)
        fields = _profile_fields(form)
        consent = form.get("sensitive_data_consent") == "yes"
        if _has_profile(privacy.own_profile(session, user=user)):
            changes = {**fields, "sensitive_data_consent": consent}
            done = privacy.request_correction(session, user=user, changes=changes)
            request.session["privacy_ack"] = {"kind": "correction", "request_id": done["request_id"]}
        else:
            privacy.save_profile(session, user=user, fields=fields, sensitive_consent=consent)
            request.session["privacy_ack"] = {"kind": "saved"}
        return RedirectResponse("/me/data", status_code=303)

    return _run_me(request, action)


@router.post("/me/data/consents/{kind}/withdraw")
def withdraw_consent(request: Request, kind: str, csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        done = privacy.withdraw_consent(
            session, user=_borrower(request, session), kind=kind, as_of=_today(request)
        )
        request.session["privacy_ack"] = {
            "kind": "withdrawn",
            "consent": kind,
            "erased": done.get("erased", []),
            "kept": [k["category"] for k in done.get("kept", [])],
        }
        return RedirectResponse("/me/data", status_code=303)

    return _run_me(request, action)


@router.post("/me/data/consents/{kind}/grant")
def grant_consent(request: Request, kind: str, csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _borrower(request, session)
        if kind not in GRANTABLE:
            raise privacy.PrivacyError("NOT_GRANTABLE_HERE", f"{kind!r} is given where it is needed")
        privacy.grant_consent(session, user=user, kind=kind)
        request.session["privacy_ack"] = {"kind": "granted", "consent": kind}
        return RedirectResponse("/me/data", status_code=303)

    return _run_me(request, action)


@router.post("/me/data/deletion")
def request_deletion(request: Request, confirm: str = Form(""), csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _borrower(request, session)
        if confirm != "yes":
            t = translator(_lang(request))
            raise privacy.PrivacyError("CONFIRMATION_REQUIRED", t["pd_confirm_required"])
        result = privacy.request_deletion(session, user=user, as_of=_today(request))
        if "account" not in result["deleted"]:
            request.session["privacy_ack"] = {
                "kind": "deletion",
                "request_id": result["request_id"],
                "status": result["status"],
            }
            return RedirectResponse("/me/data", status_code=303)
        lang = request.session.get("lang")
        request.session.clear()  # the account is gone: so is its sign-in
        if lang:
            request.session["lang"] = lang
        return _page(request, "me_data.html", session, erased=result, **FORM)

    return _run_me(request, action)


# --- staff: one person's data ---


def _run_staff(request: Request, subject_id: int, action: Callable[[Session], Response]) -> Response:
    """``routes._run`` for the staff view, answering an error with its own status (403 refused, 404 no such
    borrower) and a refusal with its reason code (the service audits the refusal before it raises)."""
    refusal: dict[str, Any] = {}

    def guarded(session: Session) -> Response:
        try:
            return action(session)
        except (accounts.AccountError, privacy.PrivacyError) as exc:
            code = exc.code if isinstance(exc, accounts.ForbiddenError) else None
            refusal.update(status=exc.status, reason=code)
            raise

    response = _run(
        request,
        guarded,
        "staff_person.html",
        subject_id=subject_id,
        person=None,
        refusal=refusal,
        fields=access.FIELDS,
    )
    if refusal:
        response.status_code = int(refusal["status"])
    response.headers["Cache-Control"] = "no-store"
    return response


def _person_page(request: Request, session: Session, person: dict[str, Any], subject_id: int) -> Response:
    return _page(
        request,
        "staff_person.html",
        session,
        subject_id=subject_id,
        person=person,
        refusal={},
        fields=access.FIELDS,
    )


@router.get("/staff/people/{user_id}", response_class=HTMLResponse)
def staff_person(request: Request, user_id: PersonId) -> Response:
    def action(session: Session) -> Response:
        viewer = _staff(request, session)
        person = privacy.view_person(session, viewer=viewer, subject_id=user_id)
        return _person_page(request, session, person, user_id)

    return _run_staff(request, user_id, action)


@router.post("/staff/people/{user_id}", response_class=HTMLResponse)
def staff_person_unmask(
    request: Request,
    user_id: PersonId,
    fields: Annotated[list[str] | None, Form()] = None,
    justification: str = Form(""),
    break_glass: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        viewer = _staff(request, session)
        if len(justification) > MAX_JUSTIFICATION:
            raise privacy.PrivacyError(
                "JUSTIFICATION_TOO_LONG", f"at most {MAX_JUSTIFICATION} characters of justification"
            )
        person = privacy.view_person(
            session,
            viewer=viewer,
            subject_id=user_id,
            unmask=tuple(fields or ()),
            justification=justification,
            break_glass=break_glass == "yes",
        )
        return _person_page(request, session, person, user_id)

    return _run_staff(request, user_id, action)
