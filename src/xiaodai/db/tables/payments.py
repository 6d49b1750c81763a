"""Bound bank cards, auto-debit attempts and channel callbacks (migration 0024)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, false, func, text
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId, Fen


class PaymentCardRow(Base):
    """A borrower's bank card. The number is AES-GCM ciphertext bound to ``payment_cards:<borrower>:number``
    (``privacy.crypto``); only the masked form (first 6 / last 4) is ever shown."""

    __tablename__ = "payment_cards"
    __table_args__ = (
        # one default card per borrower
        Index(
            "uq_payment_cards_default",
            "borrower_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    number_enc: Mapped[str] = mapped_column(Text)
    number_bidx: Mapped[str] = mapped_column(String(64), index=True)
    masked: Mapped[str] = mapped_column(String(32))
    bank: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))  # pending | bound | unbound
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    verify_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DebitAttemptRow(Base):
    """One debit of one instalment, one attempt: ``channel_ref`` = ``debit:<instalment id>:<attempt>``.

    No index names a column that booking an outcome writes (``status``, ``settled_fen``, ``posted_fen``,
    ``reason``, ``entry_id``), and the table leaves more than half of each page free (fillfactor 45,
    PostgreSQL): the outcome is a HOT update (migration 0043). What is in flight is listed in
    ``debit_in_flight``."""

    __tablename__ = "debit_attempts"
    __table_args__ = (Index("ix_debit_attempts_installment", "installment_id", "attempt"),)  # migration 0027

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel_ref: Mapped[str] = mapped_column(String(64), unique=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"))  # no index (migration 0036)
    installment_id: Mapped[int] = mapped_column(BigId, ForeignKey("installments.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    card_id: Mapped[int] = mapped_column(BigId, ForeignKey("payment_cards.id"))  # no index (migration 0043)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)  # asked for
    settled_fen: Mapped[int] = mapped_column(Fen, default=0)  # moved, as the channel says
    posted_fen: Mapped[int] = mapped_column(Fen, default=0)  # booked through servicing repay
    status: Mapped[str] = mapped_column(String(12))  # pending | succeeded | partial | failed
    reason: Mapped[str | None] = mapped_column(String(32))
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DebitInFlightRow(Base):
    """A debit attempt waiting for its final outcome: written with the ``pending`` attempt (the claim),
    deleted when the attempt gets a final status (batch booking, callback, settlement file). It answers
    "a debit in flight on this card" (the unbinding refusal; by card) and "pending debits of earlier days"
    (the staff list; by date) without an index on ``debit_attempts`` that names ``status``, which would
    keep the attempts' outcome update from being HOT. Keyed by attempt: the batch deletes a chunk's rows by
    an id range. Migration 0043."""

    __tablename__ = "debit_in_flight"
    __table_args__ = (
        Index("ix_debit_in_flight_card_id", "card_id"),
        Index("ix_debit_in_flight_business_date", "business_date"),
    )

    attempt_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("debit_attempts.id"), primary_key=True, autoincrement=False
    )
    card_id: Mapped[int] = mapped_column(BigId, ForeignKey("payment_cards.id"))  # the attempt's
    business_date: Mapped[date] = mapped_column(Date)  # the attempt's


class PaymentCallbackRow(Base):
    """Every verified callback, once (``event_id`` unique), with what it did: applied | duplicate |
    unknown_ref | conflict."""

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    channel_ref: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(12))
    settled_fen: Mapped[int] = mapped_column(Fen)
    outcome: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[date] = mapped_column(Date)


class DisbursementRow(Base):
    """A loan's payout (代付) through the payment channel, once per loan (``channel_ref`` =
    ``payout:<loan id>``): ``pending`` until the channel answers (a timeout waits for the callback),
    ``succeeded`` (the disbursement entry is posted, ``entry_id``) or ``failed`` (nothing posted; the loan is
    cancelled and a line's limit is free again). Migration 0035."""

    __tablename__ = "disbursements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), unique=True)
    channel_ref: Mapped[str] = mapped_column(String(64), unique=True)
    card_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payment_cards.id"))
    destination: Mapped[str] = mapped_column(String(32))  # masked card, or the account reference
    amount_fen: Mapped[int] = mapped_column(Fen)  # net of any fee kept back
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | succeeded | failed
    reason: Mapped[str | None] = mapped_column(String(32))
    # when it was sent; indexed (migration 0038): reconciliation reads a day's payouts
    business_date: Mapped[date] = mapped_column(Date, index=True)
    settled_on: Mapped[date | None] = mapped_column(Date)  # when its final outcome arrived
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
