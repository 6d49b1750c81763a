"""Borrower pages: the application form, the decision and offer (recompute, sign), the loan list.

Every form is read by ``web.forms``: what was typed is kept, each problem is shown next to its field in the
page's language, and no number is changed without saying so (the offer names what was asked for when it
differs). The loan page and the money actions (repay, prepay, cancel) are in ``web.loan_pages``.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xiaodai.db.tables import ApplicationRow
from xiaodai.features.catalogue import default_catalogue
from xiaodai.journey import service as journey
from xiaodai.underwriting.decision import ApplicationError
from xiaodai.web import forms
from xiaodai.web.errors_i18n import localise
from xiaodai.web.routes import PostedForm, _check_csrf, _lang, _login_required, _page, _run, _today, _user

router = APIRouter(include_in_schema=False)
METHODS = ("equal-installment", "equal-principal", "interest-first")


# Asked in their own inputs on the form (above and below the catalogue's other stated values).
FIXED = ("age", "monthly_income", "monthly_debt_payments", "amount", "term")


def _fields(session: Session, lang: str) -> list[dict[str, Any]]:
    """The rest of what the applicant states: the catalogue's ``application`` features, in plain words with
    units. Platform and bureau values are looked up by the decision service, never asked."""
    del session  # the form no longer depends on the active model's columns
    out = []
    for f in default_catalogue().from_source("application"):
        if f.name in FIXED:
            continue
        labels = f.choice_labels_zh if lang == "zh" else f.choice_labels_en
        unit = f.unit_label(lang)
        label = (
            f.label(lang)
            if not unit
            else (f"{f.label(lang)}（{unit}）" if lang == "zh" else f"{f.label(lang)} ({unit})")
        )
        out.append(
            {
                "name": f.name,
                "label": label,
                "kind": f.type,
                "choices": [(c, labels.get(c, c)) for c in f.choices] or None,
                "low": int(f.minimum) if f.minimum is not None else 0,
                "high": int(f.maximum) if f.maximum is not None else 100,
            }
        )
    return out


def _apply_page(request: Request, session: Session, *, status: int = 200, **context: Any) -> HTMLResponse:
    return _page(
        request,
        "apply.html",
        session,
        status=status,
        fields=_fields(session, _lang(request)),
        idempotency_key=context.pop("idempotency_key", None) or secrets.token_urlsafe(12),
        **context,
    )


@router.get("/apply", response_class=HTMLResponse)
def apply_form(request: Request) -> Response:
    def action(session: Session) -> Response:
        _login_required(request, session)
        return _apply_page(request, session, typed={"amount": "10000", "term": "12"})

    return _run(request, action, "apply.html", fields=[], idempotency_key=secrets.token_urlsafe(12))


def read_application(form: forms.Form, fields: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The application payload from the form, or None with ``form.errors`` filled in."""
    age = form.whole("age", low=18, high=100, example=35)
    income = form.amount("monthly_income", low=Decimal(0), high=Decimal(10_000_000))
    debts = form.amount("monthly_debt_payments", low=Decimal(0), high=Decimal(10_000_000), required=False)
    amount = form.amount("amount", low=forms.MIN_AMOUNT, high=forms.MAX_AMOUNT)
    term = form.whole("term", low=forms.MIN_TERM, high=forms.MAX_TERM, example=12)
    stated: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        if field["choices"]:
            value: Any = form.choice(name, {c for c, _ in field["choices"]}, required=False)
        else:  # whole numbers (years, people) within the catalogue's bounds
            value = form.whole(
                name, low=field["low"], high=field["high"], example=field["low"], required=False
            )
        if value is not None:
            stated[field["name"]] = value
    if form.typed.get("consent_credit_check") != "yes":
        form.fail("consent_credit_check", "consent")
    if form.errors:
        return None
    return {  # only what the applicant states: platform and bureau values are looked up, never sent
        "applicant": {
            "age": age,
            "monthly_income": str(income),
            "monthly_debt_payments": str(debts if debts is not None else Decimal(0)),
            **stated,
        },
        "request": {"amount": str(amount), "term": term},
    }


@router.post("/apply")
def apply(request: Request, raw: PostedForm) -> Response:
    typed = {k: str(v) for k, v in raw.items() if isinstance(v, str)}

    def action(session: Session) -> Response:
        _check_csrf(request, typed.get("csrf", ""))
        user = _login_required(request, session)
        lang = _lang(request)
        form = forms.Form(lang=lang, typed=typed)
        payload = read_application(form, _fields(session, lang))
        key = typed.get("idempotency_key", "")
        if payload is None:
            return _apply_page(
                request,
                session,
                status=400,
                typed=typed,
                errors=form.errors,
                idempotency_key=key,
                error=forms.message("form_has_errors", lang),
            )
        try:
            with session.begin_nested():
                result = journey.submit_application(
                    session,
                    user=user,
                    payload=payload,
                    idempotency_key=key,
                    credit_check_consent=True,
                    today=_today(request),
                )
        except ApplicationError as exc:
            return _apply_page(
                request,
                session,
                status=400,
                typed=typed,
                idempotency_key=key,
                error=localise(str(exc), _lang(request)),
            )
        return RedirectResponse(f"/applications/{result['application_id']}", status_code=303)

    return _run(request, action, "apply.html", fields=[], idempotency_key=secrets.token_urlsafe(12))


def _requested(session: Session, public_id: str) -> dict[str, Any]:
    from sqlalchemy import select

    row = session.execute(
        select(ApplicationRow.payload_json).where(ApplicationRow.public_id == public_id)
    ).scalar_one_or_none()
    request = json.loads(row).get("request", {}) if row else {}
    return {"amount": request.get("amount"), "term": request.get("term")}


def _offer_choice(form: forms.Form, offer: dict[str, Any]) -> tuple[journey.OfferRequest, dict[str, str]]:
    """The amount, term and method asked for on the offer page, checked against the offer's own limits."""
    if not any(form.text(k) for k in ("amount", "term", "method")):
        return journey.OfferRequest(), {}
    limit = Decimal(offer["credit_limit"])
    low, high = int(offer["allowed_terms"]["min"]), int(offer["allowed_terms"]["max"])
    amount = form.amount("amount", low=forms.MIN_AMOUNT, high=limit, required=False)
    term = form.whole("term", low=low, high=high, example=high, required=False)
    method = form.choice("method", set(METHODS), required=False)
    return journey.OfferRequest(amount, term, method), form.errors


@router.get("/applications/{public_id}", response_class=HTMLResponse)
def application(request: Request, public_id: str) -> Response:
    params = {k: str(v) for k, v in request.query_params.items()}

    def action(session: Session) -> Response:
        from xiaodai.documents.render import render_kfs_fragment

        user = _login_required(request, session)
        lang = _lang(request)
        view = journey.application_view(session, user=user, public_id=public_id)
        if view["loan_id"]:
            return RedirectResponse(f"/loans/{view['loan_id']}", status_code=303)
        context: dict[str, Any] = {"app": view, "kfs": None, "requested": _requested(session, public_id)}
        if view["outcome"] == "approve" and view["offer"]:
            form = forms.Form(lang=lang, typed={k: params.get(k, "") for k in ("amount", "term", "method")})
            choice, errors = _offer_choice(form, view["offer"])
            if errors:  # the offer as it was, the fields as typed, each problem beside its field
                choice = journey.OfferRequest()
            offer = journey.offer_kfs(
                session, user=user, public_id=public_id, request=choice, today=_today(request)
            )
            kfs = offer["kfs"]
            shown = {
                "amount": kfs["loan"]["principal"],
                "term": str(kfs["loan"]["term"]),
                "method": kfs["loan"]["method"],
            }
            requested = context["requested"]
            asked = forms.parse_amount(str(requested["amount"] or ""))
            differs = (
                choice == journey.OfferRequest()
                and asked is not None
                and (asked != Decimal(shown["amount"]) or str(requested["term"]) != shown["term"])
            )
            context.update(
                differs=differs,
                kfs=kfs,
                sha256=offer["sha256"],
                kfs_html=render_kfs_fragment(kfs, lang),
                choice=shown,
                errors=errors,
                typed=form.typed if errors else shown,
                limit=view["offer"]["credit_limit"],
                allowed_terms=view["offer"]["allowed_terms"],
                error=forms.message("form_has_errors", lang) if errors else None,
            )
        return _page(
            request, "application.html", session, status=400 if context.get("errors") else 200, **context
        )

    return _run(
        request, action, "application.html", app={"outcome": "decline", "reasons": []}, kfs=None, requested={}
    )


@router.post("/applications/{public_id}/sign")
def sign(
    request: Request,
    public_id: str,
    kfs_sha256: str = Form(""),
    amount: str = Form(""),
    term: str = Form(""),
    method: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        view = journey.application_view(session, user=user, public_id=public_id)
        if not view["offer"]:
            raise journey.JourneyError("this application has no offer")
        form = forms.Form(lang=_lang(request), typed={"amount": amount, "term": term, "method": method})
        choice, errors = _offer_choice(form, view["offer"])
        if errors:
            raise journey.JourneyError("; ".join(errors.values()))
        ip = request.client.host if request.client else "unknown"
        signed = journey.sign_offer(
            session,
            user=user,
            public_id=public_id,
            request=choice,
            seen_sha256=kfs_sha256,
            ip=ip,
            lang=_lang(request),
            today=_today(request),
            channel=request.app.state.channel,
        )
        return RedirectResponse(f"/loans/{signed['loan_id']}", status_code=303)

    return _run(
        request, action, "application.html", app={"outcome": "approve", "reasons": []}, kfs=None, requested={}
    )


def signed_apr(session: Session, loan_id: int, fallback: str) -> str:
    """The annual rate the borrower signed: the disclosure snapshot's headline (the loan's own figure only
    for a loan without one)."""
    from sqlalchemy import select

    from xiaodai.db.tables import DisclosureRow

    canonical = session.execute(
        select(DisclosureRow.canonical_json).where(DisclosureRow.loan_id == loan_id)
    ).scalar_one_or_none()
    if canonical is None:
        return fallback
    return str(json.loads(canonical)["headline"]["apr_percent"])


@router.get("/loans", response_class=HTMLResponse)
def loans(request: Request) -> Response:
    def action(session: Session) -> Response:
        user = _user(request, session)
        if user is None:
            return RedirectResponse("/login?next=%2Floans", status_code=303)
        mine = journey.my_loans(session, user=user)
        for loan in mine:
            loan["apr_signed"] = signed_apr(session, loan["id"], loan["apr_percent"])
        return _page(request, "loans.html", session, loans=mine)

    return _run(request, action, "loans.html", loans=[])
