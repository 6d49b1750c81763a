"""Borrower pages of the credit line: my line (limit, available, APR first, next due, notices, an increase
offer), the combined "due this month" view, each drawdown's schedule, draw (amount, plan/term → the KFS →
sign) and repay a drawdown by any amount. The services are ``lines.service`` (and the journey's KFS)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xiaodai.lines import service as lines
from xiaodai.lines.limit import LineError, LineState, default_policy
from xiaodai.servicing.views import loan_view
from xiaodai.web import forms
from xiaodai.web.loan_pages import with_credit
from xiaodai.web.routes import (
    PostedForm,
    _check_csrf,
    _lang,
    _login_required,
    _page,
    _require,
    _run,
    _today,
)

router = APIRouter(include_in_schema=False)


def _schedules(session: Session, view: dict[str, Any], request: Request) -> list[dict[str, Any]]:
    out = []
    for drawdown in view["drawdowns"]:
        if drawdown["state"] in ("active", "overdue"):
            loan = loan_view(session, loan_id=drawdown["loan_id"], as_of=_today(request))
            # what is left to pay on each instalment, after any credit held: as on the loan's own page
            schedule = with_credit(loan["schedule"], loan["balances"]["overpayment"])
            out.append({"drawdown": drawdown, "schedule": schedule})
    return out


@router.get("/line", response_class=HTMLResponse)
def my_line(request: Request) -> Response:
    def action(session: Session) -> Response:
        user = _login_required(request, session)
        try:
            view = lines.line_view(session, user=user, today=_today(request))
        except lines.LineNotFoundError:
            return _page(request, "line.html", session, line=None)
        return _page(
            request,
            "line.html",
            session,
            line=view,
            schedules=_schedules(session, view, request),
            key=secrets.token_urlsafe(12),
        )

    return _run(request, action, "line.html", line=None)


def _choice(form: forms.Form, available: Decimal) -> lines.DrawRequest | None:
    policy = default_policy()
    amount = form.amount("amount", low=Decimal(policy.min_draw_fen) / 100, high=available)
    plan = form.choice("plan", {"instalment", "daily"})
    term = None
    if plan == "instalment":
        term = form.whole("term", low=policy.min_term, high=policy.max_term, example=12)
    if form.errors or amount is None or plan is None:
        return None
    return lines.DrawRequest(amount_fen=int(amount * 100), plan=plan, term=term)


@router.get("/line/draw", response_class=HTMLResponse)
def draw_form(request: Request) -> Response:
    params = {k: str(v) for k, v in request.query_params.items() if k in ("amount", "plan", "term")}

    def action(session: Session) -> Response:
        from xiaodai.documents.render import render_kfs_fragment

        user = _login_required(request, session)
        lang = _lang(request)
        view = lines.line_view(session, user=user, today=_today(request))
        context: dict[str, Any] = {"line": view, "typed": {"plan": "instalment", "term": "12", **params}}
        if params.get("amount"):
            form = forms.Form(lang=lang, typed=params)
            choice = _choice(form, Decimal(view["available"]))
            if choice is None:
                context.update(errors=form.errors, error=forms.message("form_has_errors", lang))
                return _page(request, "line_draw.html", session, status=400, **context)
            quote = lines.quote_draw(session, user=user, request=choice, today=_today(request))
            context.update(
                kfs=quote["kfs"],
                sha256=quote["sha256"],
                kfs_html=render_kfs_fragment(quote["kfs"], lang),
                choice=params,
                key=secrets.token_urlsafe(12),
            )
        return _page(request, "line_draw.html", session, **context)

    return _run(request, action, "line_draw.html", line=None)


@router.post("/line/draw")
def draw(request: Request, raw: PostedForm) -> Response:
    typed = {k: str(v) for k, v in raw.items() if isinstance(v, str)}

    def action(session: Session) -> Response:
        _check_csrf(request, typed.get("csrf", ""))
        user = _login_required(request, session)
        lang = _lang(request)
        view = lines.line_view(session, user=user, today=_today(request))
        form = forms.Form(lang=lang, typed=typed)
        choice = _choice(form, Decimal(view["available"]))
        if choice is None:
            raise LineError("; ".join(form.errors.values()), "DRAW_BAD_INPUT")
        result = lines.draw(
            session,
            user=user,
            request=choice,
            seen_sha256=typed.get("kfs_sha256", ""),
            ip=request.client.host if request.client else "unknown",
            lang=lang,
            today=_today(request),
            key=typed.get("idempotency_key", "") or secrets.token_urlsafe(12),
            channel=request.app.state.channel,
        )
        return RedirectResponse(f"/loans/{result['loan_id']}", status_code=303)

    return _run(request, action, "line_draw.html", line=None)


@router.post("/line/increase")
def accept_increase(request: Request, raw: PostedForm) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, str(raw.get("csrf", "")))
        user = _login_required(request, session)
        lines.accept_increase(session, user=user, on=_today(request))
        return RedirectResponse("/line", status_code=303)

    return _run(request, action, "line.html", line=None)


@router.post("/line/drawdowns/{loan_id}/repay")
def repay(request: Request, loan_id: int, raw: PostedForm) -> Response:
    typed = {k: str(v) for k, v in raw.items() if isinstance(v, str)}

    def action(session: Session) -> Response:
        _check_csrf(request, typed.get("csrf", ""))
        user = _login_required(request, session)
        form = forms.Form(lang=_lang(request), typed=typed)
        amount = form.amount("amount", positive=True)
        if amount is None:
            raise LineError("; ".join(form.errors.values()), "LINE_BAD_AMOUNT")
        lines.repay_drawdown(
            session,
            user=user,
            loan_id=loan_id,
            amount_fen=int(amount * 100),
            on=_today(request),
            key=typed.get("idempotency_key", "") or secrets.token_urlsafe(12),
        )
        return RedirectResponse("/line", status_code=303)

    return _run(request, action, "line.html", line=None)


# ---------------------------------------------------------------- staff


@router.get("/staff/borrowers/{borrower_id}/line", response_class=HTMLResponse)
def staff_line(request: Request, borrower_id: int) -> Response:
    """A borrower's line for underwriters: figures, every limit and state change with its reason and actor,
    and the freeze / unfreeze form."""

    def action(session: Session) -> Response:
        _require(request, session, "underwriter")
        try:
            view = lines.line_of_borrower(session, borrower_id=borrower_id, today=_today(request))
        except lines.LineNotFoundError:
            view = None
        return _page(request, "staff_line.html", session, line=view, borrower_id=borrower_id)

    return _run(request, action, "staff_line.html", line=None, borrower_id=borrower_id)


@router.post("/staff/lines/{line_id}/state")
def staff_line_state(request: Request, line_id: int, raw: PostedForm) -> Response:
    typed = {k: str(v) for k, v in raw.items() if isinstance(v, str)}

    def action(session: Session) -> Response:
        _check_csrf(request, typed.get("csrf", ""))
        staff = _require(request, session, "underwriter")
        to = {"freeze": LineState.FROZEN, "unfreeze": LineState.ACTIVE}.get(typed.get("to", ""))
        if to is None:
            raise LineError("choose freeze or unfreeze", "LINE_BAD_STATE")
        view = lines.set_state(
            session,
            line_id=line_id,
            to=to,
            reason=typed.get("reason", "").strip(),
            on=_today(request),
            actor=f"user:{staff.id}",
        )
        return RedirectResponse(f"/staff/borrowers/{view['borrower_id']}/line", status_code=303)

    return _run(request, action, "staff_line.html", line=None, borrower_id=0)
