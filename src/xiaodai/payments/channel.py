"""The payment-channel interface (代扣 debits, 代付 payouts): what a channel is asked and what it answers
(pure types).

A real channel and the sandbox both implement ``PaymentChannel``. Callbacks are JSON bodies signed with
HMAC-SHA256 under the channel's shared secret; ``verify_signature`` is the only way one is believed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class DebitStatus(enum.Enum):
    SUCCEEDED = "succeeded"  # the whole amount moved
    PARTIAL = "partial"  # part of it moved (settled_fen < amount_fen)
    FAILED = "failed"  # nothing moved; reason says why
    PENDING = "pending"  # timed out: the outcome comes later by callback or in the settlement file

    @property
    def moved_money(self) -> bool:
        return self in (DebitStatus.SUCCEEDED, DebitStatus.PARTIAL)

    @property
    def final(self) -> bool:
        return self is not DebitStatus.PENDING


class FailureReason(enum.Enum):
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    CARD_FROZEN = "CARD_FROZEN"
    TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, slots=True)
class DebitRequest:
    channel_ref: str  # our unique reference for this attempt (the channel's idempotency key)
    card_number: str
    amount_fen: int
    on: date

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise ValueError("a debit is for a positive amount")


@dataclass(frozen=True, slots=True)
class DebitResponse:
    channel_ref: str
    status: DebitStatus
    settled_fen: int  # 0 unless money moved
    reason: str | None = None


class PaymentChannel(Protocol):
    name: str

    def send_verification(self, *, card_number: str, phone_hint: str) -> str:
        """Ask the bank to send the card holder a verification code; returns the verification reference."""
        ...

    def confirm_verification(self, *, verify_ref: str, code: str) -> bool: ...

    def debit(self, request: DebitRequest) -> DebitResponse: ...

    def debit_batch(self, requests: Sequence[DebitRequest]) -> list[DebitResponse]:
        """Many debits in one call (a channel's batch file or bulk API): one answer per request, in order;
        idempotent per ``channel_ref`` like ``debit``."""
        ...


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """A payout (代付): ``amount_fen`` to the borrower's ``destination`` (their card number, or the account
    reference they gave), once per ``channel_ref`` (``payout:<loan id>``)."""

    channel_ref: str
    destination: str
    amount_fen: int
    on: date

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise ValueError("a payout is for a positive amount")


class PayoutChannel(Protocol):
    """The payout side of a channel. The answer is a ``DebitResponse`` read the same way: ``succeeded``
    (the whole amount went out), ``failed`` (nothing went; ``reason``) or ``pending`` (timed out: the outcome
    comes later by callback). A payout is never partial."""

    name: str

    def pay_out(self, request: PayoutRequest) -> DebitResponse: ...

    def query_payout(self, channel_ref: str) -> DebitResponse | None:
        """The status query (代付查询) for a payout whose callback has not come: its final outcome,
        ``pending`` while the bank is still processing it, or None when the channel has no payout under that
        reference (the request never reached it: nothing moved; it may be sent again under the same
        reference)."""
        ...


class PayoutReason(enum.Enum):
    ACCOUNT_INVALID = "ACCOUNT_INVALID"  # closed or unknown account: the bank refused the credit
    CARD_FROZEN = "CARD_FROZEN"
    TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, slots=True)
class Callback:
    """An asynchronous notice from the channel: the final outcome of ``channel_ref``."""

    event_id: str
    channel_ref: str
    status: DebitStatus
    settled_fen: int

    def body(self) -> bytes:
        return encode_body(
            {
                "event_id": self.event_id,
                "channel_ref": self.channel_ref,
                "status": self.status.value,
                "settled_fen": self.settled_fen,
            }
        )


class CallbackError(ValueError):
    """A callback that is not signed by the channel or is not well formed (nothing is changed)."""

    status = 400


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, given: str) -> bool:
    return hmac.compare_digest(signature(secret, body), given)


def parse_callback(body: bytes) -> Callback:
    try:
        data = json.loads(body)
        status = DebitStatus(data["status"])
        settled = data["settled_fen"]
        event_id, ref = str(data["event_id"]), str(data["channel_ref"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CallbackError(f"malformed callback: {exc}") from None
    if not isinstance(settled, int) or isinstance(settled, bool) or settled < 0:
        raise CallbackError("settled_fen must be a non-negative integer")
    if status is DebitStatus.PENDING:
        raise CallbackError("a callback carries a final outcome, not pending")
    if status.moved_money != (settled > 0):
        raise CallbackError("settled_fen must be positive exactly when money moved")
    if not event_id or not ref:
        raise CallbackError("event_id and channel_ref are required")
    return Callback(event_id, ref, status, settled)
