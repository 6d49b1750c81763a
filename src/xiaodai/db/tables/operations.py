"""Idempotent commands, end-of-day progress and the event outbox for collections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class CommandRow(Base):
    """First result of every money-moving command, by idempotency key: a retry returns it."""

    __tablename__ = "commands"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    command: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EodStepRow(Base):
    """A step of end-of-day that committed for a business date (restart skips it)."""

    __tablename__ = "eod_steps"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    rows_affected: Mapped[int] = mapped_column(BigId, default=0)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LoanEventRow(Base):
    """Outbox of servicing events for collections (bucket entries, write-off candidates, ...)."""

    __tablename__ = "loan_events"
    __table_args__ = (UniqueConstraint("loan_id", "business_date", "kind", name="uq_loan_events_once"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text, default="{}")
