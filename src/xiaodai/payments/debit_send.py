"""Step 2 of the debit batch: read the claimed attempts not answered yet (a primary-key range at a time),
decrypt their cards and ask the channel — outside any transaction that holds a lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables.payments import DebitAttemptRow, DebitInFlightRow, PaymentCardRow
from xiaodai.payments.channel import DebitRequest, DebitResponse, PaymentChannel
from xiaodai.privacy.crypto import KeyRing, aad, decrypt


class Claimed(NamedTuple):  # a tuple: made from the driver's rows without a Python ``__init__`` per row
    attempt_id: int
    channel_ref: str
    loan_id: int
    amount_fen: int
    business_date: date
    card_id: int
    card_enc: str
    borrower_id: int


def unanswered_span(session: Session, *, on: date) -> tuple[int, int] | None:
    """The lowest and highest id of the attempts of ``on`` not answered yet (``pending``, no reason): those in
    flight from that day (``debit_in_flight`` by date) without a reason."""
    low, high = session.execute(
        select(func.min(DebitAttemptRow.id), func.max(DebitAttemptRow.id))
        .join(DebitInFlightRow, DebitInFlightRow.attempt_id == DebitAttemptRow.id)
        .where(
            DebitInFlightRow.business_date == on,
            DebitAttemptRow.status == "pending",
            DebitAttemptRow.reason.is_(None),
        )
    ).one()
    return None if low is None else (int(low), int(high))


_UNANSWERED = """
SELECT d.id, d.channel_ref, d.loan_id, d.amount_fen, d.business_date, c.id, c.number_enc, c.borrower_id
FROM debit_attempts d JOIN payment_cards c ON c.id = d.card_id
WHERE d.business_date = %(on)s AND d.status = 'pending' AND d.reason IS NULL
  AND d.id >= %(low)s AND d.id < %(high)s
ORDER BY d.id
"""


def unanswered(session: Session, *, on: date, low: int, high: int) -> list[Claimed]:
    """Attempts of ``on`` not answered yet with ``low <= id < high`` (a primary-key range: the day's claim
    is one INSERT, so its ids are close together)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # the driver's tuples: no row objects for 20,000 rows
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(_UNANSWERED, {"on": on, "low": low, "high": high})
            return list(map(Claimed._make, cursor.fetchall()))
    rows = session.execute(
        select(
            DebitAttemptRow.id,
            DebitAttemptRow.channel_ref,
            DebitAttemptRow.loan_id,
            DebitAttemptRow.amount_fen,
            DebitAttemptRow.business_date,
            PaymentCardRow.id,
            PaymentCardRow.number_enc,
            PaymentCardRow.borrower_id,
        )
        .join(PaymentCardRow, PaymentCardRow.id == DebitAttemptRow.card_id)
        .where(
            DebitAttemptRow.business_date == on,
            DebitAttemptRow.status == "pending",
            DebitAttemptRow.reason.is_(None),
            DebitAttemptRow.id >= low,
            DebitAttemptRow.id < high,
        )
        .order_by(DebitAttemptRow.id)
    ).all()
    return list(map(Claimed._make, rows))


def send(
    channel: PaymentChannel, ring: KeyRing, claimed: Sequence[Claimed], numbers: dict[int, str]
) -> list[DebitResponse]:
    """Ask the channel for a chunk (``numbers``: card id → decrypted number, a cache across chunks)."""
    requests = []
    for c in claimed:
        number = numbers.get(c.card_id)
        if number is None:
            number = decrypt(ring, c.card_enc, aad("payment_cards", c.borrower_id, "number"))
            numbers[c.card_id] = number
        requests.append(DebitRequest(c.channel_ref, number, c.amount_fen, c.business_date))
    answers = channel.debit_batch(requests)
    if [a.channel_ref for a in answers] != [r.channel_ref for r in requests]:
        raise RuntimeError("the channel answered a batch out of order or incompletely")
    return answers
