"""Borrower portal pages. Forms carry a per-session CSRF token; every page links to complaints."""

from __future__ import annotations

import json
import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import CHINA, RowId
from xiaodai.complaints.service import ComplaintError
from xiaodai.db.tables import UserRow
from xiaodai.features.catalogue import default_catalogue
from xiaodai.journey import service as journey
from xiaodai.money.money import MoneyError
from xiaodai.money.parse import DateInputError, parse_amount_fen
from xiaodai.privacy.service import PrivacyError
from xiaodai.servicing import service as servicing
from xiaodai.servicing.errors import ServicingError
from xiaodai.underwriting.decision import ApplicationError
from xiaodai.underwriting.service import RegistryError
from xiaodai.web.i18n import translator

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)
HANDLED = (
    ComplaintError,
    journey.JourneyError,
    accounts.AccountError,
    ServicingError,
    RegistryError,
    ApplicationError,
    MoneyError,
    DateInputError,
    PrivacyError,
)


def _today(request: Request) -> date:
    from datetime import datetime

    return request.app.state.settings.business_date or datetime.now(tz=CHINA).date()


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in ("zh", "en"):
        request.session["lang"] = chosen
    return str(request.session.get("lang", "zh"))


def _csrf(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(24)
    return str(request.session["csrf"])


def _check_csrf(request: Request, token: str) -> None:
    if not token or not secrets.compare_digest(token, str(request.session.get("csrf", ""))):
        raise journey.JourneyError("the form expired or came from elsewhere (CSRF check): reload the page")


def _user(request: Request, session: Session) -> UserRow | None:
    """The signed-in user, if the session is still valid (no logout or lock since it began)."""
    user_id = request.session.get("user_id")
    if not user_id:
        return None
    return accounts.user_for_session(
        session, user_id=user_id, version=request.session.get("sv"), now=request.app.state.clock()
    )


def _page(request: Request, name: str, session: Session, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": translator(lang),
            "user": _user(request, session),
            "csrf": _csrf(request),
            **context,
        },
        status_code=status,
    )


def _session(request: Request) -> Session:
    factory = request.app.state.session_factory
    session: Session = factory()
    return session


def _run(request: Request, action: Any, page: str, **context: Any) -> Response:
    """One transaction per request, committed before the page is answered; a domain error re-renders the
    page with the message (4xx). Whatever fails, the signed cookie keeps what it held before: a session
    must never name a user or an object from a transaction that was rolled back."""
    session = _session(request)
    cookie = dict(request.session)
    try:
        with session.begin():
            return action(session)  # type: ignore[no-any-return]
    except HANDLED as exc:
        _restore(request, cookie)
        with session.begin():
            return _page(request, page, session, status=400, error=str(exc), **context)
    except Exception:
        _restore(request, cookie)
        raise
    finally:
        session.close()


def _restore(request: Request, cookie: dict[str, Any]) -> None:
    request.session.clear()
    request.session.update(cookie)


def _login_required(request: Request, session: Session) -> UserRow:
    user = _user(request, session)
    if user is None:
        raise accounts.AuthError("please sign in")
    return user


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    return _run(request, lambda s: _page(request, "index.html", s), "index.html")


@router.get("/complaints", response_class=HTMLResponse)
def complaints(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.api.routers.complaints import my_complaints

        user = _user(request, session)
        loans = journey.my_loans(session, user=user) if user and user.kind == "borrower" else []
        mine = my_complaints(session, user) if user else []
        ack = request.session.pop("complaint_ack", None)
        review = request.session.pop("review_ack", None)
        return _page(request, "complaints.html", session, loans=loans, mine=mine, ack=ack, review=review)

    return _run(request, action, "complaints.html", loans=[], mine=[], ack=None, review=None)


@router.post("/complaints/{public_id}/review")
def request_review(request: Request, public_id: str, csrf: str = Form("")) -> Response:
    """The complainant asks for a review of the decision (the window is the service's
    ``evaluate_review_eligibility``: 30 days from the decision notice, to 24:00 local)."""

    def action(session: Session) -> Response:
        from datetime import UTC, datetime

        from xiaodai.complaints import service as complaints_service

        _check_csrf(request, csrf)
        user = _login_required(request, session)
        if complaints_service.get(session, public_id).user_id != user.id:
            raise ComplaintError(f"complaint {public_id} not found")
        review = complaints_service.request_review(session, public_id=public_id, at=datetime.now(tz=UTC))
        request.session["review_ack"] = {
            "complaint_id": review["complaint_id"],
            "review_deadline": review["review_deadline"],
        }
        return RedirectResponse("/complaints", status_code=303)

    return _run(request, action, "complaints.html", loans=[], mine=[], ack=None, review=None)


@router.post("/complaints")
def file_complaint(
    request: Request, narrative: str = Form(), loan_id: str = Form(""), csrf: str = Form("")
) -> Response:
    def action(session: Session) -> Response:
        from datetime import UTC, datetime

        from xiaodai.complaints.service import file_complaint as intake

        _check_csrf(request, csrf)
        user = _login_required(request, session)
        loan = int(loan_id) if loan_id else None
        if loan is not None:
            journey.own_loan(session, user, loan)
        ack = intake(
            session,
            narrative=narrative,
            channel="portal",
            user_id=user.id,
            loan_id=loan,
            received_at=datetime.now(tz=UTC),
        )
        request.session["complaint_ack"] = {
            "complaint_id": ack["complaint_id"],
            "regulatory_deadline": ack["regulatory_deadline"],
        }
        return RedirectResponse("/complaints", status_code=303)

    return _run(request, action, "complaints.html", loans=[], mine=[], ack=None)


@router.get("/signup", response_class=HTMLResponse)
@router.get("/login", response_class=HTMLResponse)
def auth_form(request: Request) -> Response:
    mode = request.url.path.strip("/")
    return _run(request, lambda s: _page(request, "auth.html", s, mode=mode), "auth.html", mode=mode)


@router.post("/signup")
def signup(
    request: Request, email: str = Form(), name: str = Form(), password: str = Form(), csrf: str = Form("")
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        # The same answer whether or not the email already has an account: sign in next.
        accounts.request_sign_up(session, email=email, name=name, password=password, lang=_lang(request))
        return RedirectResponse("/login?signed_up=1", status_code=303)

    return _run(request, action, "auth.html", mode="signup")


@router.post("/login")
def login(request: Request, email: str = Form(), password: str = Form(), csrf: str = Form("")) -> Response:
    from xiaodai.api.deps import client_address
    from xiaodai.api.ratelimit import admit_login

    admission = admit_login(request)  # per client address, shared with POST /api/auth/token

    def action(session: Session) -> Response:
        t = translator(_lang(request))
        if not admission.allowed:
            seconds = admission.retry_after_seconds
            page = _page(
                request,
                "auth.html",
                session,
                status=429,
                mode="login",
                error=t["login_rate_limited"].format(seconds=seconds),
            )
            page.headers["Retry-After"] = str(seconds)
            return page
        _check_csrf(request, csrf)
        attempt = accounts.sign_in(
            session,
            email=email,
            password=password,
            now=request.app.state.clock(),
            client=client_address(request),
        )
        if attempt.user is None:  # rendered, not raised: the failure must be committed to count
            return _page(request, "auth.html", session, status=401, mode="login", error=t["login_failed"])
        lang = request.session.get("lang")
        request.session.clear()  # a fresh session (and fresh expiry clocks) for the signed-in user
        if lang:
            request.session["lang"] = lang
        request.session.update(accounts.session_claims(attempt.user))
        return RedirectResponse(_home(attempt.user), status_code=303)

    return _run(request, action, "auth.html", mode="login")


def _home(user: UserRow) -> str:
    if user.kind != "staff":
        return "/loans"
    if accounts.has_role(user, "complaint_officer") and not accounts.has_role(user, "collector"):
        return "/staff/complaints"
    return "/staff"


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    """Ends the session on the server too: the user's session version moves on, so a copy of this cookie
    (or any other web session of the same user) no longer signs anyone in."""
    if secrets.compare_digest(csrf, str(request.session.get("csrf", ""))):
        session = _session(request)
        try:
            with session.begin():
                user = _user(request, session)
                if user is not None:
                    accounts.end_sessions(session, user=user)
        finally:
            session.close()
        request.session.clear()
    return RedirectResponse("/", status_code=303)


FORM_DEFAULTS = {"amount": "10000", "term": "12", "monthly_debt_payments": "0"}


def _with_unit(label: str, unit: str, lang: str) -> str:
    if not unit:
        return label
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def _fields(lang: str) -> list[dict[str, Any]]:
    """The application form: only what the applicant states (the catalogue's ``application`` features), in
    plain words with units. Platform and bureau values are looked up, never asked."""
    return [
        {
            "name": f.name,
            "label": _with_unit(f.label(lang), f.unit_label(lang), lang),
            "kind": f.type,
            "choices": [
                (c, (f.choice_labels_zh if lang == "zh" else f.choice_labels_en).get(c, c)) for c in f.choices
            ]
            or None,
            "min": f.minimum,
            "max": f.maximum,
            "value": FORM_DEFAULTS.get(f.name, ""),
            "required": f.name not in FORM_DEFAULTS,
        }
        for f in default_catalogue().from_source("application")
    ]


@router.get("/apply", response_class=HTMLResponse)
def apply_form(request: Request) -> Response:
    def action(session: Session) -> Response:
        if _user(request, session) is None:
            return RedirectResponse("/login", status_code=303)
        return _page(
            request,
            "apply.html",
            session,
            fields=_fields(_lang(request)),
            idempotency_key=secrets.token_urlsafe(12),
        )

    return _run(request, action, "apply.html", fields=[], idempotency_key=secrets.token_urlsafe(12))


async def form_data(request: Request) -> FormData:
    """The posted form, read on the event loop (only I/O); the handler that uses it is a plain ``def``, so
    its scoring, encryption and database work run in the threadpool, not on the loop."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(form_data)]


@router.post("/apply")
def apply(request: Request, form: PostedForm) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, str(form.get("csrf", "")))
        user = _login_required(request, session)
        stated = {
            f.name: str(form.get(f.name) or "")
            for f in default_catalogue().from_source("application")
            if f.name not in ("amount", "term")
        }
        payload = {  # only stated values: platform and bureau values are looked up by the decision service
            "applicant": {name: value for name, value in stated.items() if value != ""},
            "request": {"amount": form.get("amount") or "0", "term": form.get("term") or "12"},
        }
        result = journey.submit_application(
            session,
            user=user,
            payload=payload,
            idempotency_key=str(form.get("idempotency_key", "")),
            credit_check_consent=form.get("consent_credit_check") == "yes",
            today=_today(request),
        )
        return RedirectResponse(f"/applications/{result['application_id']}", status_code=303)

    return _run(request, action, "apply.html", fields=[], idempotency_key=secrets.token_urlsafe(12))


def _choice(amount: str | None, term: str | None, method: str | None) -> journey.OfferRequest:
    chosen = Decimal(parse_amount_fen(amount)) / 100 if amount else None
    if term and not (term.isascii() and term.isdigit() and len(term) <= 3):
        raise journey.JourneyError("the term must be a whole number of months")
    return journey.OfferRequest(chosen, int(term) if term else None, method or None)


@router.get("/applications/{public_id}", response_class=HTMLResponse)
def application(
    request: Request,
    public_id: str,
    amount: str | None = None,
    term: str | None = None,
    method: str | None = None,
) -> Response:
    def action(session: Session) -> Response:
        user = _login_required(request, session)
        view = journey.application_view(session, user=user, public_id=public_id)
        context: dict[str, Any] = {"app": view, "kfs": None}
        if view["outcome"] == "approve" and view["offer"] and not view["loan_id"]:
            offer = journey.offer_kfs(
                session,
                user=user,
                public_id=public_id,
                request=_choice(amount, term, method),
                today=_today(request),
            )
            kfs = offer["kfs"]
            from xiaodai.documents.render import render_kfs_fragment

            context.update(
                kfs=kfs,
                sha256=offer["sha256"],
                kfs_html=render_kfs_fragment(kfs, _lang(request)),
                choice={
                    "amount": kfs["loan"]["principal"],
                    "term": kfs["loan"]["term"],
                    "method": kfs["loan"]["method"],
                },
            )
        elif view["loan_id"]:
            return RedirectResponse(f"/loans/{view['loan_id']}", status_code=303)
        return _page(request, "application.html", session, **context)

    return _run(request, action, "application.html", app={"outcome": "decline", "reasons": []}, kfs=None)


@router.post("/applications/{public_id}/sign")
def sign(
    request: Request,
    public_id: str,
    kfs_sha256: str = Form(),
    amount: str = Form(""),
    term: str = Form(""),
    method: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        ip = request.client.host if request.client else "unknown"
        signed = journey.sign_offer(
            session,
            user=user,
            public_id=public_id,
            request=_choice(amount, term, method),
            seen_sha256=kfs_sha256,
            ip=ip,
            lang=_lang(request),
            today=_today(request),
        )
        return RedirectResponse(f"/loans/{signed['loan_id']}", status_code=303)

    return _run(request, action, "application.html", app={"outcome": "approve", "reasons": []}, kfs=None)


@router.get("/loans", response_class=HTMLResponse)
def loans(request: Request) -> Response:
    def action(session: Session) -> Response:
        user = _user(request, session)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        return _page(request, "loans.html", session, loans=journey.my_loans(session, user=user))

    return _run(request, action, "loans.html", loans=[])


@router.get("/loans/{loan_id}", response_class=HTMLResponse)
def loan(request: Request, loan_id: RowId) -> Response:
    def action(session: Session) -> Response:
        user = _login_required(request, session)
        today = _today(request)
        detail = journey.loan_detail(session, user=user, loan_id=loan_id, today=today)
        payoff: dict[str, Any] = {}
        if detail["state"] in ("active", "overdue"):
            payoff = servicing.payoff_json(servicing.prepay_quote(session, loan_id=loan_id, on=today))
        row = journey.own_loan(session, user, loan_id)
        upcoming = next((r for r in detail["schedule"] if r["status"] != "paid"), None)
        return _page(
            request,
            "loan.html",
            session,
            loan=detail,
            payoff=payoff,
            key=secrets.token_urlsafe(12),
            next_payment=upcoming["outstanding"] if upcoming else "0.00",
            cooling_off=row.cooling_off_until is not None
            and today <= row.cooling_off_until
            and not row.paid_total_fen,
        )

    return _run(request, action, "loans.html", loans=[])


def _money_fen(text: str) -> int:
    return parse_amount_fen(text)


@router.post("/loans/{loan_id}/repay")
def repay(
    request: Request,
    loan_id: RowId,
    amount: str = Form(),
    idempotency_key: str = Form(),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        journey.repay(
            session,
            user=user,
            loan_id=loan_id,
            amount_fen=_money_fen(amount),
            on=_today(request),
            key=idempotency_key,
        )
        return RedirectResponse(f"/loans/{loan_id}", status_code=303)

    return _run(request, action, "loans.html", loans=[])


@router.post("/loans/{loan_id}/prepay")
def prepay(request: Request, loan_id: RowId, idempotency_key: str = Form(), csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        journey.own_loan(session, user, loan_id)
        servicing.prepay(
            session,
            loan_id=loan_id,
            on=_today(request),
            idempotency_key=f"u{user.id}:{idempotency_key}",
            dated_by_platform=True,
        )
        return RedirectResponse(f"/loans/{loan_id}", status_code=303)

    return _run(request, action, "loans.html", loans=[])


@router.post("/loans/{loan_id}/cancel")
def cancel(request: Request, loan_id: RowId, idempotency_key: str = Form(), csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        journey.cancel_in_cooling_off(
            session, user=user, loan_id=loan_id, on=_today(request), key=idempotency_key
        )
        return RedirectResponse(f"/loans/{loan_id}", status_code=303)

    return _run(request, action, "loans.html", loans=[])


@router.get("/loans/{loan_id}/statement.pdf")
def statement(request: Request, loan_id: RowId, lang: str = "zh") -> Response:
    def action(session: Session) -> Response:
        from xiaodai.documents.render import render_statement_pdf

        user = _login_required(request, session)
        today = _today(request)
        detail = journey.loan_detail(session, user=user, loan_id=loan_id, today=today)
        pdf = render_statement_pdf(
            {
                "loan": detail,
                "kfs_sha256": detail["disclosure"]["sha256"],
                "generated_on": today.isoformat(),
                "borrower_name": user.name,
            },
            lang,
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="statement-{loan_id}.pdf"'},
        )

    return _run(request, action, "loans.html", loans=[])


@router.get("/me/export")
def export(request: Request) -> Response:
    def action(session: Session) -> Response:
        user = _login_required(request, session)
        data = journey.export_my_data(session, user=user)

        return JSONResponse(
            json.loads(json.dumps(data, default=str)),
            headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
        )

    return _run(request, action, "loans.html", loans=[])


def _staff(request: Request, session: Session) -> UserRow:
    user = _login_required(request, session)
    if user.kind != "staff":
        raise accounts.ForbiddenError("staff only")
    return user


@router.get("/static/kfs.css")
def kfs_css() -> Response:
    """The key-facts statement's own stylesheet, shared with its PDF rendering."""
    from xiaodai.documents import document_css

    return Response(document_css(for_pdf=False, lang="zh"), media_type="text/css")


def install(app: FastAPI) -> None:
    from xiaodai.web import risk_pages
    from xiaodai.web.privacy_pages import router as privacy_router
    from xiaodai.web.staff_pages import router as staff_router

    app.include_router(router)
    app.include_router(staff_router)
    app.include_router(privacy_router)
    app.include_router(risk_pages.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
