"""The two busiest reads' answers: my loans and a loan's detail.

The endpoints build their answer as plain JSON values (strings, integers, null: money as text) and send it
as bytes (``json_answer``): FastAPI neither validates it against these models nor serializes it again on
every request. The models are the documentation: they are declared as the routes' ``response_model``, so the
OpenAPI schema shows the shape, and ``tests/api/test_loan_answers.py`` checks that real answers match them
exactly (no field missing, none extra).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def json_bytes(content: Any) -> bytes:
    """``content`` (JSON values only) encoded as FastAPI's ``JSONResponse`` encodes it (``json.dumps`` with
    these options, UTF-8), by one encoder made once."""
    return _ENCODE(content).encode()


def json_answer(content: Any, status_code: int = 200) -> Response:
    """``content`` (JSON values only) as a JSON response, encoded as FastAPI's ``JSONResponse`` does."""
    return Response(json_bytes(content), status_code=status_code, media_type="application/json")


class _Exact(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class LoanSummary(_Exact):
    """One of my loans."""

    id: int
    state: str
    principal: str
    apr_percent: str
    term: int
    start_date: str


class Instalment(_Exact):
    period: int
    due_date: str
    principal: str
    interest: str
    fee: str
    payment: str
    paid: str
    outstanding: str
    status: str  # paid, overdue, due, scheduled
    days_past_due: int
    bucket: str
    paid_on: str | None


class Balances(_Exact):
    principal: str
    interest: str
    fees: str
    penalties: str
    overpayment: str


class Penalty(_Exact):
    disclosed_annual_rate: str
    effective_daily_rate_e9: int
    reason: str
    cap_profile: str | None


class BillLine(_Exact):
    """A line of the bill and the signed disclosure's clause allowing it."""

    period: int | None
    item: str  # principal, interest, fee, penalty
    amount: str
    clause: str | None


class Lender(_Exact):
    zh: str | None
    en: str | None


class SignedDisclosure(_Exact):
    sha256: str
    signed_at: str
    lang: str
    apr_percent: str | None


class Payout(_Exact):
    """The loan's payout through the payment channel (代付): pending, succeeded or failed with its reason."""

    channel_ref: str
    status: str
    reason: str | None
    destination: str  # the masked card, or the account reference
    amount: str
    sent_on: str
    settled_on: str | None


class Redated(_Exact):
    """A payout that reached the borrower days after signing: the loan starts on the day the money arrived
    (interest never runs before it; the schedule's dates moved by ``days``)."""

    signed_on: str
    paid_out_on: str
    days: int


class LoanDetail(_Exact):
    """A loan with its schedule, a bill breakdown and the signed disclosure's fee terms."""

    id: int
    state: str
    product: str
    method: str
    currency: str
    principal: str
    term: int
    annual_rate: str
    apr_percent: str
    start_date: str
    disbursed_on: str | None
    closed_on: str | None
    balances: Balances
    paid_total: str
    penalties_charged: str
    disclosed_repayment: str
    penalty: Penalty
    days_past_due: int
    bucket: str
    allocation_order: str
    schedule: list[Instalment]
    bill: list[BillLine]
    fee_terms: list[dict[str, Any]]  # as the signed disclosure states them
    lender: Lender
    disclosure: SignedDisclosure | None
    disbursement: Payout | None  # None for a loan made before payouts went through the channel
    redated: Redated | None  # None unless a late payout moved the loan's start
