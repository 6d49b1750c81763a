"""Credit lines, their limit and state history, borrower notices and drawdowns (migration 0025)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId, Fen


class CreditLineRow(Base):
    """A borrower's credit line (授信额度). ``limit_fen`` is the current limit; the available limit is the
    limit less the outstanding principal of the line's drawdowns (``loans.line_id``)."""

    __tablename__ = "credit_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))  # active | frozen | closed
    limit_fen: Mapped[int] = mapped_column(Fen)
    grade: Mapped[str] = mapped_column(String(8))
    grade_max_fen: Mapped[int] = mapped_column(Fen)
    annual_rate: Mapped[str] = mapped_column(String(32))  # decimal text, the grade's price
    decision_id: Mapped[int] = mapped_column(BigId, ForeignKey("decisions.id"), index=True)
    granted_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(40))
    # a pending increase offer (the borrower accepts it, or it lapses)
    offered_limit_fen: Mapped[int | None] = mapped_column(Fen)
    offer_reason: Mapped[str | None] = mapped_column(String(40))
    offer_expires_on: Mapped[date | None] = mapped_column(Date)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreditLineEventRow(Base):
    """Every change of a line's limit or state, with its reason code (append-only)."""

    __tablename__ = "credit_line_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(BigId, ForeignKey("credit_lines.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    old_limit_fen: Mapped[int] = mapped_column(Fen)
    new_limit_fen: Mapped[int] = mapped_column(Fen)
    old_state: Mapped[str] = mapped_column(String(12))
    new_state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(40))
    business_date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))  # the memo entry
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LineNoticeRow(Base):
    """What the borrower is told about a change of their line (never silent): a reason code and the limits."""

    __tablename__ = "line_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(BigId, ForeignKey("credit_lines.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("credit_line_events.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    old_limit_fen: Mapped[int] = mapped_column(Fen)
    new_limit_fen: Mapped[int] = mapped_column(Fen)
    state: Mapped[str] = mapped_column(String(12))
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DrawdownRow(Base):
    """A drawdown (借据): the loan drawn on a line, its plan (``instalment`` or ``daily``)."""

    __tablename__ = "credit_line_drawdowns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(BigId, ForeignKey("credit_lines.id"), index=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), unique=True)
    plan: Mapped[str] = mapped_column(String(12))
    principal_fen: Mapped[int] = mapped_column(Fen)
    term: Mapped[int] = mapped_column(Integer)
    drawn_on: Mapped[date] = mapped_column(Date)
    idempotency_key: Mapped[str] = mapped_column(String(140), unique=True)
