"""Notifications: the borrower's channel preferences, the notices we owe them, and the outbox of every
channel decision (migration 0026)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, false, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class NoticePreferenceRow(Base):
    """What the borrower chose: SMS and e-mail on or off, marketing opt-out. The app inbox is always on
    (it is where every sent message is kept), and legally required notices ignore the choices."""

    __tablename__ = "notice_preferences"

    borrower_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    marketing_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticeRow(Base):
    """One thing we owe a borrower a message about, once per ``dedupe_key`` (e.g. ``pre_due:T-3:<inst>``)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    borrower_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loans.id"), index=True)
    # the instalment a reminder is about (migration 0035): paid before it is sent, the reminder is withdrawn
    installment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("installments.id"))
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(12))  # servicing | legal | marketing
    business_date: Mapped[date] = mapped_column(Date, index=True)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(12))  # open | sent | blocked | suppressed | withdrawn
    reason: Mapped[str | None] = mapped_column(String(60))  # the last decision's primary reason
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticeOutboxRow(Base):
    """Every decision on one channel of one notice. A blocked or suppressed row keeps its reason codes and
    is never sent; an allowed row is ``queued`` until the sender marks it ``sent``. At most one allowed row
    per (notice, channel): the partial unique index makes a second send impossible, whoever races."""

    __tablename__ = "notice_outbox"
    __table_args__ = (
        Index(
            "uq_notice_outbox_allowed",
            "notice_id",
            "channel",
            unique=True,
            postgresql_where=text("decision = 'allow'"),
            sqlite_where=text("decision = 'allow'"),
        ),
        Index("ix_notice_outbox_status", "status"),
        Index("ix_notice_outbox_borrower_at", "borrower_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(BigId, ForeignKey("notices.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # sms | email | app_inbox
    address_ref: Mapped[str] = mapped_column(String(60))  # which contact point, never the number itself
    lang: Mapped[str] = mapped_column(String(5))
    body: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decision: Mapped[str] = mapped_column(String(10))  # allow | block | suppress
    reason: Mapped[str] = mapped_column(String(60))
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    rule_version: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12))  # blocked | suppressed | queued | sent | withdrawn
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sender_ref: Mapped[str | None] = mapped_column(String(80))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
