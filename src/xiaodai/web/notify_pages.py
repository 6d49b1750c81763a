"""The borrower's message inbox (what was sent, on every channel) with their channel choices, and the
staff page of scheduled job runs. Rules are the services' (``notify.service``, ``jobs.runner``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError
from xiaodai.notify import service
from xiaodai.web.routes import _check_csrf, _login_required, _page, _require, _run

router = APIRouter(include_in_schema=False)


def _borrower_id(request: Request, session: Session) -> int:
    user = _login_required(request, session)
    if user.kind != "borrower":
        raise ForbiddenError(code="BORROWER_ONLY")
    return user.id


def _inbox_page(request: Request, session: Session, borrower_id: int, **context: Any) -> HTMLResponse:
    messages = service.inbox(session, borrower_id=borrower_id)
    prefs = service.preferences_view(session, borrower_id=borrower_id)
    page = _page(request, "inbox.html", session, messages=messages, prefs=prefs, **context)
    service.mark_read(session, borrower_id=borrower_id, as_of=datetime.now(tz=UTC))  # shown: now read
    return page


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request) -> Response:
    def action(session: Session) -> Response:
        return _inbox_page(
            request, session, _borrower_id(request, session), saved=request.query_params.get("saved")
        )

    return _run(request, action, "inbox.html", messages=[], prefs=None)


@router.post("/inbox/preferences")
def save_preferences(
    request: Request,
    csrf: str = Form(""),
    sms: str = Form(""),
    email: str = Form(""),
    marketing: str = Form(""),
) -> Response:
    """Checkboxes: an unticked box is not posted, so absent means off."""

    def action(session: Session) -> Response:
        borrower_id = _borrower_id(request, session)
        _check_csrf(request, csrf)
        service.set_preferences(
            session,
            borrower_id=borrower_id,
            sms=sms == "on",
            email=email == "on",
            marketing_opt_out=marketing != "on",
        )
        return RedirectResponse("/inbox?saved=1", status_code=303)

    return _run(request, action, "inbox.html", messages=[], prefs=None)


@router.get("/staff/jobs", response_class=HTMLResponse)
def staff_jobs(request: Request) -> Response:
    def action(session: Session) -> Response:

        _require(request, session, "admin", "auditor")
        return _page(request, "staff_jobs.html", session, **_jobs_context(request, session))

    return _run(request, action, "staff_jobs.html", data={"jobs": [], "runs": []}, payouts=[])


def _jobs_context(request: Request, session: Session) -> dict[str, Any]:
    from xiaodai.jobs.runner import overview
    from xiaodai.payments import payout

    queried = request.session.pop("payouts_queried", None)
    return {
        "data": overview(session, limit=100),
        "payouts": payout.pending(session),
        "query_minutes": int(payout.QUERY_AFTER.total_seconds() // 60),
        "queried": queried,
    }


@router.post("/staff/payouts/query")
def staff_query_payouts(request: Request, csrf: str = Form("")) -> Response:
    """Operations ask the channel now about every pending payout (the ``payout_query`` job asks each
    business date about those pending longer than the policy interval; a person asking does not wait)."""

    def action(session: Session) -> Response:
        from xiaodai.payments import payout
        from xiaodai.web.routes import _today

        _check_csrf(request, csrf)
        _require(request, session, "admin")
        result = payout.query_pending(
            session,
            channel=request.app.state.channel,
            on=_today(request),
            as_of=datetime.now(tz=UTC),
            older_than=timedelta(0),
        )
        request.session["payouts_queried"] = {"asked": result["asked"], **result["counts"]}
        return RedirectResponse("/staff/jobs#payouts", status_code=303)

    return _run(request, action, "staff_jobs.html", data={"jobs": [], "runs": []}, payouts=[])


@router.get("/staff/notices", response_class=HTMLResponse)
def staff_notices(request: Request) -> Response:
    """The day's notices (``?date=``, default the business date) and every channel decision."""

    def action(session: Session) -> Response:
        from xiaodai.money.parse import parse_iso_date
        from xiaodai.web.routes import _today

        _require(request, session, "collector", "auditor")
        text = request.query_params.get("date")
        day = parse_iso_date(text, what="date") if text else _today(request)
        return _page(
            request,
            "staff_notices.html",
            session,
            day=day.isoformat(),
            notices=service.notices_for(session, day=day),
        )

    return _run(request, action, "staff_notices.html", day="", notices=[])
