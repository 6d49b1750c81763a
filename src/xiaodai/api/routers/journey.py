"""The borrower journey: apply, decision, key-facts statement, sign, loans, repay, prepay, export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from xiaodai.api.deps import DB, SIGNED_IN, CurrentUser, Read, RowId, Today
from xiaodai.api.loan_answers import LoanDetail, LoanSummary, json_answer
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.api.schemas import ApplicationCreate, Prepayment, Repayment, SignOffer
from xiaodai.journey import my_data
from xiaodai.journey import service as journey
from xiaodai.money.parse import parse_amount_fen, parse_iso_date, within
from xiaodai.servicing import service as servicing
from xiaodai.servicing.prepayment import PrepayMode

router = APIRouter(route_class=OneHopRoute, prefix="/api", tags=["journey"])


# The two busiest reads answer with their JSON bytes (``api.loan_answers``): no response validation or second
# serialization per request; the models document the shape (and a test holds the answers to them).
# Their session, user and date come from one dependency (``deps.reading``). Declared first: matched first
# (no other route of this router matches their paths).
@router.get("/loans", response_model=list[LoanSummary], openapi_extra=SIGNED_IN)
def loans(read: Read) -> Response:  # one SELECT
    return json_answer(journey.my_loans(read.session, user=read.user))


@router.get("/loans/{loan_id}", response_model=LoanDetail, openapi_extra=SIGNED_IN)
def loan(loan_id: RowId, read: Read) -> Response:  # one SELECT
    return json_answer(journey.loan_detail(read.session, user=read.user, loan_id=loan_id, today=read.today))


QUOTE_DAYS = 366  # a payoff quote may look this far ahead of (or back from) the business date
STAFF_BACK_DAYS = 31  # a staff charge may be dated this far back, never in the future


def _amount(text: str | None) -> Decimal | None:
    """An offer amount (absent: the offer as decided)."""
    if text is None:
        return None
    return Decimal(parse_amount_fen(text)) / 100


def _day(text: object, today: date, *, days_back: int | None, days_ahead: int) -> date:
    if text is None:
        return today
    return within(
        parse_iso_date(text, what="on"), what="on", today=today, days_back=days_back, days_ahead=days_ahead
    )


@router.get("/model/form")
def model_form(session: DB) -> dict[str, Any]:
    """What an applicant states (the feature catalogue's ``application`` features, with units and choices).
    Platform and bureau values are looked up by xiaodai and refused in an application."""
    from xiaodai.features.catalogue import default_catalogue
    from xiaodai.underwriting.service import active_model

    model = active_model(session)
    catalogue = default_catalogue()
    fields = [
        {
            "name": f.name,
            "kind": f.type,
            "label_zh": f.label_zh,
            "label_en": f.label_en,
            "unit_zh": f.unit_zh,
            "unit_en": f.unit_en,
            "required": f.required,
            "min": None if f.minimum is None else str(f.minimum),
            "max": None if f.maximum is None else str(f.maximum),
            "choices": list(f.choices) or None,
            "section": "request" if f.name in ("amount", "term") else "applicant",
        }
        for f in catalogue.from_source("application")
    ]
    return {"model_version": model.version, "catalogue_version": catalogue.version, "fields": fields}


@router.post("/applications", status_code=201, response_model=dict[str, Any])
def apply(
    body: ApplicationCreate,
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> Response:
    """Submit an application (idempotent: the same Idempotency-Key returns the same application). The answer
    holds JSON values only (the stored decision's offer and reasons, read back from JSON): its bytes are
    written directly (``json_answer``), without FastAPI's validation and second serialization of a
    ``dict[str, Any]``."""
    return json_answer(
        journey.submit_application(
            session,
            user=user,
            payload=body.model_dump(),
            idempotency_key=idempotency_key,
            credit_check_consent=body.consent_credit_check,
            today=today,
            channel="api",
        ),
        status_code=201,
    )


@router.get("/applications/{public_id}")
def application(public_id: str, session: DB, user: CurrentUser) -> dict[str, Any]:
    return journey.application_view(session, user=user, public_id=public_id)


@router.get("/applications/{public_id}/kfs")
def kfs(
    public_id: str,
    session: DB,
    user: CurrentUser,
    today: Today,
    amount: str | None = None,
    term: int | None = None,
    method: str | None = None,
    product: str | None = None,
) -> dict[str, Any]:
    """The key-facts statement for the offer (recomputed for another amount, term, method or product)."""
    choice = journey.OfferRequest(_amount(amount), term, method, product)
    return journey.offer_kfs(session, user=user, public_id=public_id, request=choice, today=today)


@router.get("/applications/{public_id}/kfs.pdf")
def kfs_pdf(
    public_id: str,
    session: DB,
    user: CurrentUser,
    today: Today,
    lang: str = "zh",
    amount: str | None = None,
    term: int | None = None,
    method: str | None = None,
    product: str | None = None,
) -> Response:
    from xiaodai.documents.render import render_kfs_pdf

    if lang not in ("zh", "en"):
        raise journey.JourneyError("lang must be zh or en")
    choice = journey.OfferRequest(_amount(amount), term, method, product)
    document = journey.offer_kfs(session, user=user, public_id=public_id, request=choice, today=today)["kfs"]
    return Response(
        render_kfs_pdf(document, lang),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="kfs-{public_id[:8]}-{lang}.pdf"'},
    )


@router.post("/applications/{public_id}/sign", status_code=201)
def sign(
    public_id: str, body: SignOffer, request: Request, session: DB, user: CurrentUser, today: Today
) -> dict[str, Any]:
    """Sign exactly the key-facts statement that was shown (its SHA-256); the loan is disbursed."""
    choice = journey.OfferRequest(_amount(body.amount), body.term, body.method, body.product)
    ip = request.client.host if request.client else "unknown"
    return journey.sign_offer(
        session,
        user=user,
        public_id=public_id,
        request=choice,
        seen_sha256=body.kfs_sha256,
        ip=ip,
        lang=body.lang,
        today=today,
        channel=request.app.state.channel,  # the payout goes out through the app's payment channel
    )


@router.get("/loans/{loan_id}/disclosure")
def disclosure(loan_id: RowId, session: DB, user: CurrentUser) -> dict[str, Any]:
    journey.own_loan(session, user, loan_id)
    row = journey.disclosure_for(session, loan_id)
    import json

    return {
        "sha256": row.sha256,
        "signed_at": row.signed_at.isoformat(),
        "kfs": json.loads(row.canonical_json),
    }


@router.post("/loans/{loan_id}/repayments", status_code=201)
def repay(
    loan_id: RowId,
    body: Repayment,
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> dict[str, Any]:
    """Repay through the (simulated) payment rail, booked on the business date; a retried Idempotency-Key
    posts nothing twice."""
    fen = parse_amount_fen(body.amount)
    return journey.repay(session, user=user, loan_id=loan_id, amount_fen=fen, on=today, key=idempotency_key)


@router.get("/loans/{loan_id}/payoff")
def payoff(
    loan_id: RowId, session: DB, user: CurrentUser, today: Today, on: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    journey.own_loan(session, user, loan_id)
    day = _day(on, today, days_back=QUOTE_DAYS, days_ahead=QUOTE_DAYS)
    return servicing.payoff_json(servicing.prepay_quote(session, loan_id=loan_id, on=day))


@router.post("/loans/{loan_id}/prepay", status_code=201)
def prepay(
    loan_id: RowId,
    body: Prepayment,
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> dict[str, Any]:
    journey.own_loan(session, user, loan_id)
    try:
        mode = PrepayMode(body.mode)
    except ValueError:
        raise journey.JourneyError("mode must be shorten-term or lower-instalment") from None
    fen = parse_amount_fen(body.amount) if body.amount is not None else None
    return servicing.prepay(
        session,
        loan_id=loan_id,
        on=today,
        idempotency_key=f"u{user.id}:{idempotency_key}",
        amount_fen=fen,
        mode=mode,
        dated_by_platform=True,
    )


@router.post("/loans/{loan_id}/cancel", status_code=201)
def cancel(
    loan_id: RowId,
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> dict[str, Any]:
    """Cancel within the cooling-off window by repaying the principal only."""
    return journey.cancel_in_cooling_off(session, user=user, loan_id=loan_id, on=today, key=idempotency_key)


@router.get("/me/export")
def export(session: DB, user: CurrentUser) -> dict[str, Any]:
    """Everything the platform holds about me, as JSON (PIPL Art. 45)."""
    return my_data.export_my_data(session, user=user)


staff_router = APIRouter(route_class=OneHopRoute, prefix="/api/staff", tags=["staff"])


@staff_router.post("/loans/{loan_id}/charges", status_code=201)
def charge(
    loan_id: RowId,
    body: dict[str, Any],
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
) -> Response:
    """Post a fee charge: only what the loan's signed disclosure allows; a refusal is 422 and audited."""
    import json

    from xiaodai.accounts.service import ForbiddenError, has_role
    from xiaodai.journey.charges import post_charge

    if not (has_role(user, "admin") or has_role(user, "underwriter")):
        raise ForbiddenError("staff role underwriter or admin required")
    fen = parse_amount_fen(body.get("amount"))
    result = post_charge(
        session,
        loan_id=loan_id,
        charge_type=str(body.get("type", "")),
        amount_fen=fen,
        on=_day(body.get("on"), today, days_back=STAFF_BACK_DAYS, days_ahead=0),
        idempotency_key=idempotency_key,
        period=body.get("period"),
        actor=f"user:{user.id}",
    )
    return Response(
        json.dumps(result), status_code=201 if result["posted"] else 422, media_type="application/json"
    )
