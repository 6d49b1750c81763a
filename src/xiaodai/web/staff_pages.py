"""Staff console: each role's home (``/staff`` sends a person to theirs) and the collector's pages — the
worklist with the next allowed contact time, one loan's contact log and contact form, the violations report.
Access rules are the API's (``api.routers.collections``); refusals are 403 pages."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xiaodai.api.deps import RowId
from xiaodai.collections.contact_facts import Attempt
from xiaodai.db.tables import LoanRow
from xiaodai.web.routes import _check_csrf, _page, _require, _run, _staff, home_of

router = APIRouter(include_in_schema=False)
CHANNELS = ("call", "sms", "app_push", "email")


@router.get("/staff", response_class=HTMLResponse)
def staff_home(request: Request) -> Response:
    def action(session: Session) -> Response:
        return RedirectResponse(home_of(_staff(request, session)), status_code=303)

    return _run(request, action, "forbidden.html")


@router.get("/staff/worklist", response_class=HTMLResponse)
def staff_worklist(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.api.routers.collections import worklist

        user = _require(request, session, "collector")
        rows = worklist(session, user, datetime.now(tz=UTC))
        return _page(request, "staff_worklist.html", session, rows=rows)

    return _run(request, action, "staff_worklist.html", rows=[])


@router.get("/staff/violations", response_class=HTMLResponse)
def staff_violations(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.collections.service import violations_report

        _require(request, session, "collector", "auditor")
        return _page(request, "staff_violations.html", session, report=violations_report(session))

    return _run(
        request, action, "staff_violations.html", report={"blocked": 0, "by_reason": {}, "recent": []}
    )


@router.get("/staff/loans/{loan_id}", response_class=HTMLResponse)
def staff_loan(request: Request, loan_id: RowId) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.api.routers.collections import _may_see
        from xiaodai.collections.service import contact_history, next_allowed, preview

        _may_see(session, _require(request, session, "collector"), loan_id)
        loan = session.get(LoanRow, loan_id)
        verdict = request.session.pop("last_verdict", None)
        call, now = Attempt("contact", "call"), datetime.now(tz=UTC)
        now_verdict = preview(session, loan_id=loan_id, attempt=call, as_of=now)
        next_at = (
            None if now_verdict.allowed else next_allowed(session, loan_id=loan_id, attempt=call, as_of=now)
        )
        return _page(
            request,
            "staff_loan.html",
            session,
            loan_id=loan_id,
            loan=loan,
            borrower_id=loan.borrower_id if loan else None,
            verdict=verdict,
            now_verdict=now_verdict,
            next_at=next_at,
            channels=CHANNELS,
            contacts=contact_history(session, loan_id=loan_id),
        )

    return _run(
        request, action, "staff_loan.html", loan_id=loan_id, contacts=[], verdict=None, channels=CHANNELS
    )


@router.post("/staff/loans/{loan_id}/contact")
def staff_contact(
    request: Request,
    loan_id: RowId,
    channel: str = Form(""),
    phone_id: str = Form(""),
    message: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.api.routers.collections import _may_see
        from xiaodai.collections.service import attempt_contact, parse_attempt

        _check_csrf(request, csrf)
        user = _require(request, session, "collector")
        _may_see(session, user, loan_id)
        result = attempt_contact(
            session,
            loan_id=loan_id,
            attempt=parse_attempt(
                {
                    "action": "contact",
                    "channel": channel,
                    "target": {"type": "borrower"},
                    "phone_id": phone_id or None,
                    "message": message or None,
                }
            ),
            as_of=datetime.now(tz=UTC),
            actor=f"user:{user.id}",
        )
        request.session["last_verdict"] = {
            "decision": result["decision"],
            "reason": result["reason"],
            "next_allowed_at": result.get("next_allowed_at"),
        }
        return RedirectResponse(f"/staff/loans/{loan_id}", status_code=303)

    return _run(
        request, action, "staff_loan.html", loan_id=loan_id, contacts=[], verdict=None, channels=CHANNELS
    )
