"""One loan: its page (the signed rate, balances, schedule, bill, payoff) and the money actions.

Every money action (repay, pay off, cancel in the cooling-off window) is two steps: the form posts to a
confirmation page that says what will happen; its button posts again with ``confirmed=yes``; the result is
a receipt that shows where every yuan went. A repayment above the payoff amount is refused with that amount.
Money paid before an instalment falls due is held as a credit and applied on the due date; the schedule
shows it against the instalments it will cover, so schedule, payoff and statement tell the same story.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xiaodai.api.deps import RowId
from xiaodai.journey import my_data
from xiaodai.journey import service as journey
from xiaodai.money.money import Money
from xiaodai.payments import payout
from xiaodai.servicing import service as servicing
from xiaodai.web import forms
from xiaodai.web.routes import _check_csrf, _lang, _login_required, _page, _run, _today

router = APIRouter(include_in_schema=False)


def with_credit(schedule: list[dict[str, Any]], credit: str) -> list[dict[str, Any]]:
    """Each instalment with the part of the credit held that will cover it on its due date (oldest first),
    and what is left to pay after that credit."""
    left = Decimal(credit)
    out = []
    for row in schedule:
        owed = Decimal(row["outstanding"])
        used = min(left, owed) if row["status"] != "paid" else Decimal(0)
        left -= used
        out.append({**row, "credit": f"{used:.2f}", "to_pay": f"{owed - used:.2f}"})
    return out


def _loan_context(request: Request, session: Session, loan_id: int) -> dict[str, Any]:
    user = _login_required(request, session)
    today = _today(request)
    detail = journey.loan_detail(session, user=user, loan_id=loan_id, today=today)
    row = journey.own_loan(session, user, loan_id)
    payoff: dict[str, Any] = {}
    if detail["state"] in ("active", "overdue"):
        payoff = servicing.payoff_json(servicing.prepay_quote(session, loan_id=loan_id, on=today))
    schedule = with_credit(detail["schedule"], detail["balances"]["overpayment"])
    upcoming = next((r for r in schedule if Decimal(r["to_pay"]) > 0), None)
    next_payment = upcoming["to_pay"] if upcoming else "0.00"
    if payoff and Decimal(next_payment) > Decimal(payoff["total"]):
        next_payment = payoff["total"]
    return {
        "loan": {**detail, "schedule": schedule},
        "apr_signed": (detail["disclosure"] or {}).get("apr_percent", detail["apr_percent"]),
        "payoff": payoff,
        "key": secrets.token_urlsafe(12),
        "next_payment": next_payment,
        "cooling_off": row.cooling_off_until is not None
        and today <= row.cooling_off_until
        and not row.paid_total_fen
        and detail["state"] in ("active", "overdue"),
        "cooling_off_until": row.cooling_off_until.isoformat() if row.cooling_off_until else None,
        "cancelled_in_cooling_off": detail["state"] == "settled" and not detail["schedule"],
        "redated": payout.redated_view(payout.of_loan(session, loan_id), row),
    }


@router.get("/loans/{loan_id}", response_class=HTMLResponse)
def loan(request: Request, loan_id: RowId) -> Response:
    def action(session: Session) -> Response:
        return _page(request, "loan.html", session, **_loan_context(request, session, loan_id))

    return _run(request, action, "loans.html", loans=[])


def _loan_page_with_errors(
    request: Request, session: Session, loan_id: int, errors: dict[str, str], typed: dict[str, str]
) -> Response:
    context = _loan_context(request, session, loan_id)
    return _page(
        request,
        "loan.html",
        session,
        status=400,
        errors=errors,
        typed=typed,
        error=forms.message("form_has_errors", _lang(request)),
        **context,
    )


def _confirm(request: Request, session: Session, loan_id: int, **context: Any) -> Response:
    return _page(request, "loan_confirm.html", session, loan_id=loan_id, **context)


def _receipt(request: Request, loan_id: int, receipt: dict[str, Any]) -> Response:
    request.session["receipt"] = {"loan_id": loan_id, **receipt}
    return RedirectResponse(f"/loans/{loan_id}/receipt", status_code=303)


@router.post("/loans/{loan_id}/repay")
def repay(
    request: Request,
    loan_id: RowId,
    amount: str = Form(""),
    idempotency_key: str = Form(""),
    confirmed: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        lang = _lang(request)
        today = _today(request)
        journey.own_loan(session, user, loan_id)
        payoff_fen = journey.payoff_fen(session, loan_id=loan_id, on=today)
        payoff = Money.from_minor(payoff_fen).amount
        form = forms.Form(lang=lang, typed={"amount": amount})
        value = form.amount("amount", positive=True)
        if value is not None and value > payoff:
            form.fail("amount", "over_payoff", payoff=f"{payoff:.2f}")
            value = None
        if value is None:
            return _loan_page_with_errors(request, session, loan_id, form.errors, form.typed)
        if confirmed != "yes":
            return _confirm(
                request,
                session,
                loan_id,
                kind="repay",
                amount=f"{value:.2f}",
                payoff=f"{payoff:.2f}",
                idempotency_key=idempotency_key or secrets.token_urlsafe(12),
            )
        if value == payoff:  # the whole payoff: settle the loan (not a credit held against it)
            settled = servicing.prepay(
                session,
                loan_id=loan_id,
                on=today,
                idempotency_key=f"u{user.id}:{idempotency_key}",
                dated_by_platform=True,
            )
            return _receipt(request, loan_id, _prepay_receipt(settled, today.isoformat()))
        result = journey.repay(
            session,
            user=user,
            loan_id=loan_id,
            amount_fen=Money.of(value).to_minor(),
            on=today,
            key=idempotency_key,
        )
        return _receipt(
            request,
            loan_id,
            {
                "kind": "repay",
                "on": today.isoformat(),
                "amount": result["amount"],
                "allocations": result["allocations"],
                "credit": result["overpayment"],
                "state": result["state"],
            },
        )

    return _run(request, action, "loans.html", loans=[])


def _prepay_receipt(result: dict[str, Any], on: str) -> dict[str, Any]:
    return {
        "kind": "prepay",
        "on": on,
        "amount": result["paid"],
        "payoff": result["payoff"],
        "state": result["state"],
    }


@router.post("/loans/{loan_id}/prepay")
def prepay(
    request: Request,
    loan_id: RowId,
    idempotency_key: str = Form(""),
    confirmed: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        today = _today(request)
        journey.own_loan(session, user, loan_id)
        if confirmed != "yes":
            quote = servicing.payoff_json(servicing.prepay_quote(session, loan_id=loan_id, on=today))
            return _confirm(
                request,
                session,
                loan_id,
                kind="prepay",
                payoff=quote,
                amount=quote["total"],
                idempotency_key=idempotency_key or secrets.token_urlsafe(12),
            )
        result = servicing.prepay(
            session,
            loan_id=loan_id,
            on=today,
            idempotency_key=f"u{user.id}:{idempotency_key}",
            dated_by_platform=True,
        )
        return _receipt(request, loan_id, _prepay_receipt(result, today.isoformat()))

    return _run(request, action, "loans.html", loans=[])


@router.post("/loans/{loan_id}/cancel")
def cancel(
    request: Request,
    loan_id: RowId,
    idempotency_key: str = Form(""),
    confirmed: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _login_required(request, session)
        today = _today(request)
        loan = journey.own_loan(session, user, loan_id)
        if confirmed != "yes":
            net = Money.from_minor(loan.principal_fen - loan.upfront_fee_fen).to_json()
            return _confirm(
                request,
                session,
                loan_id,
                kind="cancel",
                amount=net,
                idempotency_key=idempotency_key or secrets.token_urlsafe(12),
            )
        result = journey.cancel_in_cooling_off(
            session, user=user, loan_id=loan_id, on=today, key=idempotency_key
        )
        return _receipt(
            request,
            loan_id,
            {"kind": "cancel", "on": today.isoformat(), "amount": result["repaid"], "state": result["state"]},
        )

    return _run(request, action, "loans.html", loans=[])


@router.get("/loans/{loan_id}/receipt", response_class=HTMLResponse)
def receipt(request: Request, loan_id: RowId) -> Response:
    def action(session: Session) -> Response:
        user = _login_required(request, session)
        journey.own_loan(session, user, loan_id)
        shown = request.session.get("receipt")
        if not shown or shown.get("loan_id") != loan_id:
            return RedirectResponse(f"/loans/{loan_id}", status_code=303)
        context = _loan_context(request, session, loan_id)
        return _page(request, "loan_receipt.html", session, receipt=shown, after=context)

    return _run(request, action, "loans.html", loans=[])


@router.get("/loans/{loan_id}/statement.pdf")
def statement(request: Request, loan_id: RowId, lang: str = "zh") -> Response:
    def action(session: Session) -> Response:
        from xiaodai.documents.render import render_statement_pdf

        user = _login_required(request, session)
        today = _today(request)
        detail = journey.loan_detail(session, user=user, loan_id=loan_id, today=today)
        if detail["disclosure"] is None:
            raise journey.NotFoundError("this loan has no signed disclosure: no statement can cite it")
        pdf = render_statement_pdf(
            {
                "loan": detail,
                "kfs_sha256": detail["disclosure"]["sha256"],
                "generated_on": today.isoformat(),
                "borrower_name": user.name,
            },
            lang if lang in ("zh", "en") else "zh",
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
        data = my_data.export_my_data(session, user=user)
        return JSONResponse(
            json.loads(json.dumps(data, default=str)),
            headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
        )

    return _run(request, action, "loans.html", loans=[])
