"""Collections: per-loan case (profile, holds, assignment) and the append-only contact log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class CollectionCaseRow(Base):
    __tablename__ = "collection_cases"

    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), primary_key=True)
    profile: Mapped[str] = mapped_column(String(40), default="CN")
    assigned_to: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    context_json: Mapped[str] = mapped_column(Text, default="{}")  # borrower contact points, contacts, flags


class ContactAttemptRow(Base):
    """Every contact attempt — allowed or blocked — with the rule version and reasons. Insert-only: database
    triggers refuse UPDATE and DELETE (migration 0005)."""

    __tablename__ = "contact_attempts"
    __table_args__ = (Index("ix_contact_attempts_loan_at", "loan_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    target_type: Mapped[str] = mapped_column(String(30))
    contact_id: Mapped[str | None] = mapped_column(String(40))
    phone_id: Mapped[str | None] = mapped_column(String(40))
    email_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    initiated_by: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    reasons: Mapped[str] = mapped_column(Text)
    rule_version: Mapped[str] = mapped_column(String(40))
    profile: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(40))  # from the channel adapter, when sent


class PromiseRow(Base):
    """A promise to pay: kept when enough was paid by the date, else broken (EOD emits the event)."""

    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), index=True)
    promised_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_before_fen: Mapped[int] = mapped_column(BigInteger)  # loan.paid_total_fen when the promise was made
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | kept | broken
    made_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgencyRow(Base):
    """A collection agency: whitelisted, with its entrustment contract and impact assessment on file."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    on_whitelist: Mapped[bool] = mapped_column(Boolean, default=False)
    entrustment_contract_id: Mapped[str | None] = mapped_column(String(100))
    pia_id: Mapped[str | None] = mapped_column(String(100))


class CreditReportEventRow(Base):
    """Notices to borrowers before negative reporting, and the submissions themselves (append-only)."""

    __tablename__ = "credit_report_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # negative_record_notice | submission | submission_refused
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text, default="{}")
