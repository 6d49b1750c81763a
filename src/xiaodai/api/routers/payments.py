"""Payments API: a borrower's bank cards (绑卡), the operations side of auto-debit and reconciliation, and the
channel's callback.

- Borrower (bearer token or session): start and confirm a binding, list cards (masked only), choose the
  default, unbind (409 ``CARD_DEBIT_IN_FLIGHT`` while a debit waits). Another borrower's card is 404.
- Operations (staff ``admin``): run the debit batch for a date (``payments.batch``, set-based), reconcile
  the channel's settlement CSV for a date (``payments.reconcile_file``), and see the open breaks
  (``auditor`` too).
- The channel: ``POST /api/payments/callback`` with the body signed (HMAC-SHA256, header
  ``X-Channel-Signature``); no user. Verified first, applied once (``service.handle_callback``).

The channel is ``app.state.channel`` (the sandbox, seeded by ``XIAODAI_SANDBOX_SEED``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.api.deps import DB, CurrentUser, RowId, Today
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.db.tables import JournalEntryRow, PostingRow, UserRow
from xiaodai.db.tables.payments import DisbursementRow, PaymentCallbackRow, PaymentCardRow
from xiaodai.ledger.chart import Account
from xiaodai.money.parse import parse_iso_date
from xiaodai.payments import batch, service
from xiaodai.payments.channel import PaymentChannel
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.payout import is_payout_ref
from xiaodai.payments.reconcile_file import reconcile_file
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.payments.settlement_file import SettlementFileError
from xiaodai.privacy.keys import current_ring

router = APIRouter(route_class=OneHopRoute, prefix="/api", tags=["payments"])
staff_router = APIRouter(route_class=OneHopRoute, prefix="/api/staff", tags=["payments"])

MAX_FILE_BYTES = 200 * 2**20  # a settlement file of a few million lines
BACK_DAYS = 31  # a debit batch or a file may be run for a date this far back, never ahead


class CardStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=40, description="card number, 16-19 digits (spaces allowed)")


class CardCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=12, description="the verification code the bank sent")


class DebitRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: str | None = Field(default=None, description="business date YYYY-MM-DD (default: today)")


CHANNEL_SIGNATURE = APIKeyHeader(
    name="X-Channel-Signature",
    auto_error=False,
    scheme_name="channel_signature",
    description="hex HMAC-SHA256 of the request body under the payment channel's shared secret",
)


def _channel(request: Request) -> PaymentChannel:
    channel: PaymentChannel = request.app.state.channel
    return channel


def _borrower(user: UserRow) -> None:
    if user.kind != "borrower":
        raise ForbiddenError("cards belong to borrowers")


def _own_card(session: DB, user: UserRow, card_id: int) -> None:
    _borrower(user)
    owner = session.execute(select(PaymentCardRow.borrower_id).where(PaymentCardRow.id == card_id)).scalar()
    if owner != user.id:  # another borrower's card does not exist for this one
        raise service.CardNotFoundError(f"card {card_id} does not exist", ["CARD_UNKNOWN"])


def _ops(user: UserRow, *, read: bool = False) -> None:
    if not (has_role(user, "admin") or (read and has_role(user, "auditor"))):
        raise ForbiddenError("admin role required" if not read else "admin or auditor role required")


async def operations_role(user: CurrentUser) -> UserRow:
    """The operations role (admin) checked before the request's body is read: a caller without it is
    refused 403 whatever it sent (a dependency runs before body validation)."""
    _ops(user)
    return user


OpsUser = Annotated[UserRow, Depends(operations_role)]


def _date(text: str | None, today: date) -> date:
    if text is None:
        return today
    day = parse_iso_date(text, what="date")
    if day > today or day < today - timedelta(days=BACK_DAYS):
        raise service.PaymentError(
            f"date must be between {today - timedelta(days=BACK_DAYS)} and the business date {today}",
            ["DATE_OUT_OF_RANGE"],
        )
    return day


@router.post("/cards", status_code=201)
def start_binding(body: CardStart, request: Request, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Validate the number (Luhn, issuer BIN, length), store it encrypted and ask the channel to send a
    verification code. The sandbox channel also returns the code it "sent" (``sandbox_code``)."""
    _borrower(user)
    channel = _channel(request)
    result = service.start_binding(
        session, channel=channel, ring=current_ring(), borrower_id=user.id, number=body.number
    )
    if isinstance(channel, SandboxChannel):
        result["sandbox_code"] = channel.code_for(result["verify_ref"])
    return result


@router.post("/cards/{card_id}/confirm")
def confirm_binding(
    card_id: RowId, body: CardCode, request: Request, session: DB, user: CurrentUser
) -> dict[str, Any]:
    """The verification step; the first bound card becomes the default."""
    _own_card(session, user, card_id)
    return service.confirm_binding(session, channel=_channel(request), card_id=card_id, code=body.code)


@router.get("/cards")
def list_cards(session: DB, user: CurrentUser) -> list[dict[str, Any]]:
    """My cards, masked (first 6 / last 4), bound ones and those awaiting their code."""
    _borrower(user)
    return [c for c in service.list_cards(session, borrower_id=user.id) if c["status"] != "unbound"]


@router.post("/cards/{card_id}/default")
def set_default(card_id: RowId, session: DB, user: CurrentUser) -> dict[str, Any]:
    _own_card(session, user, card_id)
    return service.set_default(session, card_id=card_id)


@router.delete("/cards/{card_id}")
def unbind(card_id: RowId, session: DB, user: CurrentUser) -> dict[str, Any]:
    """Refused (409 ``CARD_DEBIT_IN_FLIGHT``) while a debit on the card waits for its outcome."""
    _own_card(session, user, card_id)
    return service.unbind(session, card_id=card_id)


async def raw_body(request: Request) -> bytes:
    """The request's bytes as sent (a signature is over these; a settlement file is CSV), read on the event
    loop without blocking, so the handler itself stays a plain ``def`` that runs in a worker thread."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


@router.post("/payments/callback")
def callback(
    request: Request,
    today: Today,
    body: RawBody,
    signature: Annotated[str | None, Security(CHANNEL_SIGNATURE)] = None,
) -> dict[str, Any]:
    """The channel's asynchronous outcome of a debit. 401 unless the signature verifies; a replayed event
    answers what it did the first time."""
    channel = _channel(request)
    secret: bytes = getattr(channel, "secret", b"")
    with request.app.state.session_factory() as session, session.begin():
        return service.handle_callback(session, secret=secret, body=body, signature=signature or "", on=today)


class PaymentsBusyError(service.PaymentError):
    """The database's write lock is held by another writer (SQLite: one writer at a time; e.g. the job
    worker's debit batch) for longer than the busy timeout: nothing of this run was posted, try again."""

    status = 409


def _own_transactions(session: Session) -> None:
    """End the request's own transaction before a batch opens its own sessions. On SQLite every transaction
    takes the write lock when it begins (``BEGIN IMMEDIATE``, db.session), so the request's, begun by the
    authentication's read of a token not remembered or of a web session, would hold the lock the batch's
    first transaction waits for (30 s, then "database is locked"). Nothing is pending in it: the
    authentication only reads."""
    session.commit()


def _busy(exc: OperationalError) -> PaymentsBusyError:
    if "database is locked" not in str(exc.orig):
        raise exc
    return PaymentsBusyError(
        "another run holds the database's write lock (e.g. the scheduled debit batch): nothing was posted "
        "by this one; run it again when that one is done",
        ["PAYMENTS_BUSY"],
    )


@staff_router.post("/debits/run")
def run_debits(body: DebitRun, request: Request, user: OpsUser, today: Today, session: DB) -> dict[str, Any]:
    """Run the auto-debit batch for a date (set-based: claim, call the channel outside any lock, book in
    chunks). Rerunning a date debits nothing twice. 409 ``PAYMENTS_BUSY`` when another writer keeps the
    database locked (SQLite) past the busy timeout."""
    _ops(user)
    on = _date(body.date, today)
    _own_transactions(session)
    try:
        return batch.run_debit_batch(
            request.app.state.session_factory,
            channel=_channel(request),
            ring=current_ring(),
            on=on,
            policy=default_policy(),
        )
    except OperationalError as exc:
        raise _busy(exc) from None


@staff_router.post(
    "/reconciliations",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "description": "the settlement file"}}},
        }
    },
)
def reconcile(
    request: Request,
    user: OpsUser,
    today: Today,
    session: DB,
    data: RawBody,
    date_: Annotated[str, Query(alias="date", description="the file's business date YYYY-MM-DD")],
) -> dict[str, Any]:
    """Reconcile the channel's settlement file (CSV body) for a date; breaks go to the suspense account.
    Replaying a file posts nothing more. A malformed file is refused whole (400, with the line)."""
    _ops(user)
    on = _date(date_, today)
    if len(data) > MAX_FILE_BYTES:
        raise service.PaymentError("the settlement file is too large", ["FILE_TOO_LARGE"])
    _own_transactions(session)
    try:
        return reconcile_file(request.app.state.session_factory, data, on=on)
    except (SettlementFileError, UnicodeDecodeError) as exc:
        raise service.PaymentError(f"settlement file refused: {exc}", ["FILE_MALFORMED"]) from None
    except OperationalError as exc:
        raise _busy(exc) from None


@staff_router.get("/payments/breaks")
def breaks(session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    """What is open: references holding suspense (money that moved and is not explained, or booked and not
    settled; a payout's as its debit's, their − our amount), debits and payouts still pending from before
    today, and callbacks that matched nothing or contradicted us."""
    _ops(user, read=True)
    key = JournalEntryRow.idempotency_key
    held = session.execute(
        select(key, PostingRow.amount_fen, JournalEntryRow.memo)
        .join(PostingRow, PostingRow.entry_id == JournalEntryRow.id)
        .where(JournalEntryRow.event == "suspense", PostingRow.account == Account.PAYMENT_SUSPENSE.value)
        .order_by(JournalEntryRow.id)
    ).all()
    suspense: dict[str, dict[str, Any]] = {}
    for entry_key, amount, memo in held:
        ref = entry_key.removeprefix("suspense:").rsplit(":", 1)[0]
        payout = is_payout_ref(ref)
        item = suspense.setdefault(
            ref,
            {
                "channel_ref": ref,
                "suspense_fen": 0,
                "kind": None,
                "direction": "payout" if payout else "debit",
            },
        )
        item["suspense_fen"] += amount if payout else -amount  # their − our amount (reconcile.cash_sign)
        item["kind"] = _memo_kind(memo) or item["kind"]
    pending = [
        *service.older_pending_debits(session, today=today),  # through debit_in_flight (by date)
        *session.execute(  # payouts too (the status query settles them: payout.query_pending)
            select(DisbursementRow.channel_ref, DisbursementRow.business_date, DisbursementRow.amount_fen)
            .where(DisbursementRow.status == "pending", DisbursementRow.business_date < today)
            .order_by(DisbursementRow.id)
        ),
    ]
    callbacks = session.execute(
        select(PaymentCallbackRow.event_id, PaymentCallbackRow.channel_ref, PaymentCallbackRow.outcome)
        .where(PaymentCallbackRow.outcome.in_(("unknown_ref", "conflict")))
        .order_by(PaymentCallbackRow.id)
    ).all()
    total = session.execute(
        select(func.coalesce(func.sum(PostingRow.amount_fen), 0)).where(
            PostingRow.account == Account.PAYMENT_SUSPENSE.value
        )
    ).scalar_one()
    return {
        "suspense_total_fen": -int(total),
        "suspense": [v for v in suspense.values() if v["suspense_fen"] != 0],
        "pending": [
            {"channel_ref": r, "business_date": d.isoformat(), "amount_fen": a} for r, d, a in pending
        ],
        "callbacks_unmatched": [{"event_id": e, "channel_ref": r, "outcome": o} for e, r, o in callbacks],
    }


def _memo_kind(memo: str) -> str | None:
    import json

    try:
        kind = json.loads(memo or "{}").get("break")
    except ValueError:
        return None
    return str(kind) if kind else None
