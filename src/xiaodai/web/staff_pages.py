"""Staff console pages: the collector's worklist, one loan's contact log and contact form, violations, and the
complaints queue. Access rules are the API's (``api.routers.collections`` / ``complaints``)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xiaodai.api.deps import RowId
from xiaodai.db.tables import LoanRow
from xiaodai.web.routes import _check_csrf, _page, _run, _staff

router = APIRouter(include_in_schema=False)


@router.get("/staff", response_class=HTMLResponse)
def staff_worklist(request: Request) -> Response:
    def action(session: Session) -> Response:
        from datetime import UTC, datetime

        from xiaodai.api.routers.collections import worklist

        user = _staff(request, session)
        return _page(
            request, "staff_worklist.html", session, rows=worklist(session, user, datetime.now(tz=UTC))
        )

    return _run(request, action, "staff_worklist.html", rows=[])


@router.get("/staff/violations", response_class=HTMLResponse)
def staff_violations(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.api.routers.collections import _collector
        from xiaodai.collections.service import violations_report

        _collector(_staff(request, session))
        return _page(request, "staff_violations.html", session, report=violations_report(session))

    return _run(request, action, "staff_violations.html", report={"blocked": 0, "by_reason": {}})


@router.get("/staff/loans/{loan_id}", response_class=HTMLResponse)
def staff_loan(request: Request, loan_id: RowId) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.api.routers.collections import _may_see
        from xiaodai.collections.service import contact_history

        _may_see(session, _staff(request, session), loan_id)
        loan = session.get(LoanRow, loan_id)
        verdict = request.session.pop("last_verdict", None)
        return _page(
            request,
            "staff_loan.html",
            session,
            loan_id=loan_id,
            borrower_id=loan.borrower_id if loan else None,
            verdict=verdict,
            contacts=contact_history(session, loan_id=loan_id),
        )

    return _run(request, action, "staff_loan.html", loan_id=loan_id, contacts=[], verdict=None)


@router.post("/staff/loans/{loan_id}/contact")
def staff_contact(
    request: Request,
    loan_id: RowId,
    channel: str = Form(),
    phone_id: str = Form(""),
    message: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        from datetime import UTC, datetime

        from xiaodai.api.routers.collections import _may_see
        from xiaodai.collections.service import attempt_contact, parse_attempt

        _check_csrf(request, csrf)
        user = _staff(request, session)
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
        request.session["last_verdict"] = {"decision": result["decision"], "reason": result["reason"]}
        return RedirectResponse(f"/staff/loans/{loan_id}", status_code=303)

    return _run(request, action, "staff_loan.html", loan_id=loan_id, contacts=[], verdict=None)


@router.get("/staff/complaints", response_class=HTMLResponse)
def staff_complaints(request: Request) -> Response:
    def action(session: Session) -> Response:
        from datetime import UTC, datetime

        from xiaodai.api.routers.complaints import _officer
        from xiaodai.complaints.report import current_month, monthly_report
        from xiaodai.complaints.service import queue

        _officer(_staff(request, session))
        now = datetime.now(tz=UTC)
        report = monthly_report(session, month=current_month(now.date()), as_of=now)
        rates = report["per_10k_active"] or {}
        top = max((v or 0 for v in rates.values()), default=0) or 1
        bars = [
            {"label": k, "value": v, "width": int(300 * (v or 0) / top)} for k, v in sorted(rates.items())
        ]
        most = max((n for _, n in report["top_root_causes"]), default=0) or 1
        causes = [
            {"label": k, "value": n, "width": int(300 * n / most)} for k, n in report["top_root_causes"]
        ]
        return _page(
            request,
            "staff_complaints.html",
            session,
            queue=queue(session, as_of=now),
            report=report,
            bars=bars,
            causes=causes,
        )

    return _run(request, action, "staff_complaints.html", queue=[], report={}, bars=[], causes=[])
