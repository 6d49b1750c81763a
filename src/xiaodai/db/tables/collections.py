"""Collections: per-loan case (profile, holds, assignment) and the append-only contact log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
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
