"""Borrower portal pages. Forms carry a per-session CSRF token; every page links to complaints."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import CHINA
from xiaodai.complaints.service import ComplaintError
from xiaodai.db.tables import UserRow
from xiaodai.journey import service as journey
from xiaodai.lines.limit import LineError
from xiaodai.money.money import MoneyError
from xiaodai.money.parse import DateInputError
from xiaodai.privacy.service import PrivacyError
from xiaodai.servicing.errors import ServicingError
from xiaodai.underwriting.decision import ApplicationError
from xiaodai.underwriting.service import RegistryError
from xiaodai.web import format as fmt
from xiaodai.web import forms
from xiaodai.web.errors_i18n import localise
from xiaodai.web.forms import Form as Form_
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
    LineError,
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


def _formatters(lang: str, t: dict[str, str]) -> dict[str, Any]:
    return {
        "apr": fmt.apr,
        "when": lambda value: fmt.when(value, lang),
        "day": fmt.day,
        "label": lambda kind, code: fmt.label(t, kind, code),
        "ratio": fmt.ratio,
    }


def actor_name(session: Session, actor: object, t: dict[str, str]) -> str:
    """``"user:3"`` → the person's name and role; ``"system"`` → the system, in words."""
    text = str(actor or "")
    kind, _, ref = text.partition(":")
    if kind == "user" and ref.isdigit():
        person = session.get(UserRow, int(ref))
        if person is None:
            return t["actor_unknown"]
        roles = sorted(accounts.roles_of(person))
        role = fmt.label(t, "role", roles[0]) if roles else t["role_borrower"]
        return f"{person.name}（{role}）" if t["cny"] == "元" else f"{person.name} ({role})"
    return t.get(f"actor_{kind}") or fmt.words(text)


def _page(request: Request, name: str, session: Session, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    t = translator(lang)
    user = _user(request, session)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": t,
            "user": user,
            "roles": sorted(accounts.roles_of(user)) if user else [],
            "csrf": _csrf(request),
            "errors": {},
            "typed": {},
            **_formatters(lang, t),
            "actor_name": lambda actor: actor_name(session, actor, t),
            **context,
        },
        status_code=status,
    )


def _session(request: Request) -> Session:
    factory = request.app.state.session_factory
    session: Session = factory()
    return session


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = request.headers.get("referer", "/") or "/"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _run(
    request: Request, action: Any, page: str, *, refusal_page: str = "forbidden.html", **context: Any
) -> Response:
    """One transaction per request. A domain error re-renders ``page`` with its message and status (4xx);
    no signed-in user: redirect to sign in; a refusal: 403 with ``refusal_page``."""
    session = _session(request)
    cookie = dict(request.session)
    try:
        with session.begin():
            return action(session)  # type: ignore[no-any-return]
    except accounts.AuthError:
        _restore(request, cookie)
        return _sign_in_redirect(request)
    except HANDLED as exc:
        _restore(request, cookie)
        status = int(getattr(exc, "status", 400) or 400)
        status = status if status in {403, 404} else 400  # refused, not found, or bad input
        with session.begin():
            if isinstance(exc, accounts.ForbiddenError) and refusal_page == "forbidden.html":
                user = _user(request, session)
                return _page(
                    request,
                    "forbidden.html",
                    session,
                    status=403,
                    code=exc.code,
                    home=home_of(user) if user else "/",
                )
            message = localise(str(exc), _lang(request))
            return _page(request, page, session, status=status, error=message, **context)
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


CALC_RATES = ("0.08", "0.12", "0.16", "0.20")
CALC_METHODS = ("equal-installment", "equal-principal", "interest-first")


def _calculator(request: Request) -> dict[str, Any]:
    """The landing page's loan calculator (a GET form, no script): the schedule's first payment, the total
    interest and the all-in annual rate (IRR) for an amount, a term, a method and an example rate."""
    from xiaodai.pricing.quote import build_quote
    from xiaodai.pricing.schedule import LoanTerms, Method

    params = request.query_params
    submitted = "amount" in params
    form = Form_(
        lang=_lang(request),
        typed={k: str(params.get(k, d)) for k, d in (("amount", "10000"), ("term", "12"))},
    )
    rate = str(params.get("rate", "0.12"))
    method = str(params.get("method", "equal-installment"))
    out: dict[str, Any] = {"typed": form.typed, "rate": rate, "method": method, "result": None}
    if not submitted:
        return out
    amount = form.amount("amount", low=forms.MIN_AMOUNT, high=forms.MAX_AMOUNT)
    term = form.whole("term", low=forms.MIN_TERM, high=forms.MAX_TERM, example=12)
    if rate not in CALC_RATES:
        form.fail("rate", "choice")
    if method not in CALC_METHODS:
        form.fail("method", "choice")
    out["errors"] = form.errors
    if form.errors or amount is None or term is None:
        return out
    quote = build_quote(
        LoanTerms(
            principal=amount,
            term=term,
            method=Method.parse(method),
            annual_rate=Decimal(rate),
            start_on=_today(request),
        )
    )
    rows = quote.schedule.rows
    out["result"] = {
        "amount": f"{amount:.2f}",
        "term": term,
        "first_payment": f"{rows[0].payment:.2f}",
        "total_interest": f"{quote.total_interest:.2f}",
        "total_repayable": f"{quote.total_repayment:.2f}",
        "apr_percent": str(quote.apr_percent),
    }
    return out


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The signed-in borrower's summary (``web.home_pages``); the product page with its calculator else (and
    for a borrower who asks for the calculator: ``?calc=1`` or its fields)."""
    calculator = any(k in request.query_params for k in ("calc", "amount", "term", "rate", "method"))

    def action(session: Session) -> Response:
        user = _user(request, session)
        if user is not None and user.kind == "borrower" and not calculator:
            from xiaodai.web.home_pages import borrower_home

            home = borrower_home(session, user=user, today=_today(request))
            return _page(request, "home.html", session, home=home)
        return _page(request, "index.html", session, calc=_calculator(request), rates=_rate_choices())

    return _run(request, action, "index.html", calc={"typed": {}, "result": None}, rates=_rate_choices())


def _rate_choices() -> list[tuple[str, str]]:
    return [(rate, fmt.apr(Decimal(rate) * 100)) for rate in CALC_RATES]


@router.get("/complaints", response_class=HTMLResponse)
def complaints(request: Request) -> Response:
    def action(session: Session) -> Response:
        return _complaints_page(request, session)

    return _run(request, action, "complaints.html", loans=[], mine=[], ack=None, review=None)


def _complaints_page(request: Request, session: Session, status: int = 200, **context: Any) -> Response:
    from xiaodai.api.routers.complaints import my_complaints

    user = _user(request, session)
    loans = journey.my_loans(session, user=user) if user and user.kind == "borrower" else []
    mine = my_complaints(session, user) if user else []
    ack = request.session.pop("complaint_ack", None)
    review = request.session.pop("review_ack", None)
    return _page(
        request,
        "complaints.html",
        session,
        status=status,
        loans=loans,
        mine=mine,
        ack=ack,
        review=review,
        **context,
    )


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


MAX_NARRATIVE = 4000


@router.post("/complaints")
def file_complaint(
    request: Request, narrative: str = Form(""), loan_id: str = Form(""), csrf: str = Form("")
) -> Response:
    def action(session: Session) -> Response:
        from datetime import UTC, datetime

        from xiaodai.complaints.service import file_complaint as intake

        _check_csrf(request, csrf)
        user = _login_required(request, session)
        form = Form_(lang=_lang(request), typed={"narrative": narrative, "loan_id": loan_id})
        if not narrative.strip():
            form.fail("narrative", "required")
        elif len(narrative) > MAX_NARRATIVE:
            form.fail("narrative", "too_long", high=MAX_NARRATIVE)
        own = {str(loan["id"]) for loan in journey.my_loans(session, user=user)}
        loan = form.choice("loan_id", own, required=False)
        if form.errors:
            return _complaints_page(
                request,
                session,
                status=400,
                errors=form.errors,
                typed=form.typed,
                error=forms.message("form_has_errors", form.lang),
            )
        ack = intake(
            session,
            narrative=narrative,
            channel="portal",
            user_id=user.id,
            loan_id=int(loan) if loan else None,
            received_at=datetime.now(tz=UTC),
        )
        request.session["complaint_ack"] = {
            "complaint_id": ack["complaint_id"],
            "regulatory_deadline": ack["regulatory_deadline"],
        }
        return RedirectResponse("/complaints", status_code=303)

    return _run(request, action, "complaints.html", loans=[], mine=[], ack=None, review=None)


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
        target = request.query_params.get("next", "")
        safe = target.startswith("/") and not target.startswith("//") and "\\" not in target
        return RedirectResponse(target if safe else home_of(attempt.user), status_code=303)

    return _run(request, action, "auth.html", mode="login")


ROLE_HOMES = (
    ("admin", "/staff/admin"),
    ("underwriter", "/staff/underwriting"),
    ("risk", "/staff/models"),
    ("complaint_officer", "/staff/complaints"),
    ("collector", "/staff/worklist"),
    ("auditor", "/staff/audit"),
)


def home_of(user: UserRow) -> str:
    """Where a person lands after signing in: a borrower's loans, a staff member's first role's home."""
    if user.kind != "staff":
        return "/loans"
    roles = accounts.roles_of(user)
    return next((home for role, home in ROLE_HOMES if role in roles), "/staff")


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


async def form_data(request: Request) -> FormData:
    """The posted form, read on the event loop (only I/O); the handler that uses it is a plain ``def``, so
    its scoring, encryption and database work run in the threadpool, not on the loop."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(form_data)]


def _staff(request: Request, session: Session) -> UserRow:
    user = _login_required(request, session)
    if user.kind != "staff":
        raise accounts.ForbiddenError(code="STAFF_ONLY")
    return user


def _require(request: Request, session: Session, *roles: str) -> UserRow:
    """The signed-in staff member if they hold one of ``roles`` (admin holds every role); else 403."""
    user = _staff(request, session)
    if not any(accounts.has_role(user, role) for role in roles):
        raise accounts.ForbiddenError(code="ROLE_REQUIRED")
    return user


@router.get("/static/kfs.css")
def kfs_css() -> Response:
    """The key-facts statement's own stylesheet, shared with its PDF rendering."""
    from xiaodai.documents import document_css

    return Response(document_css(for_pdf=False, lang="zh"), media_type="text/css")


def install(app: FastAPI) -> None:
    from xiaodai.web import api_docs, risk_pages
    from xiaodai.web.borrower_pages import router as borrower_router
    from xiaodai.web.card_pages import router as card_router
    from xiaodai.web.line_pages import router as line_router
    from xiaodai.web.loan_pages import router as loan_router
    from xiaodai.web.notify_pages import router as notify_router
    from xiaodai.web.privacy_pages import router as privacy_router
    from xiaodai.web.staff_complaint_pages import router as complaint_router
    from xiaodai.web.staff_console_pages import router as console_router
    from xiaodai.web.staff_pages import router as staff_router

    api_docs.install(app)
    app.include_router(router)
    app.include_router(borrower_router)
    app.include_router(loan_router)
    app.include_router(line_router)
    app.include_router(staff_router)
    app.include_router(complaint_router)
    app.include_router(console_router)
    app.include_router(privacy_router)
    app.include_router(card_router)
    app.include_router(risk_pages.router)
    app.include_router(notify_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
