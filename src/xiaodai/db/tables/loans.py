"""Loans and their instalments. Stored balances are a cache of the journal, verified by ``ledger check``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId, Fen


class LoanRow(Base):
    __tablename__ = "loans"
    __table_args__ = (
        Index("ix_loans_state", "state"),
        # end of day's apply-overpayment step: the few loans holding a credit (migration 0012)
        Index(
            "ix_loans_overpayment",
            "id",
            postgresql_where=text("overpayment_fen > 0"),
            sqlite_where=text("overpayment_fen > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    state: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    principal_fen: Mapped[int] = mapped_column(Fen)
    term: Mapped[int] = mapped_column(Integer)
    annual_rate: Mapped[str] = mapped_column(String(32))  # decimal text: exact on every backend
    start_on: Mapped[date] = mapped_column(Date)
    first_due_on: Mapped[date | None] = mapped_column(Date)
    odd_period_daycount: Mapped[str] = mapped_column(String(16), default="act/360")
    upfront_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    upfront_fee_timing: Mapped[str] = mapped_column(String(16), default="deducted")
    monthly_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    flat_fee_rate: Mapped[str] = mapped_column(String(32), default="0")
    # disclosure figures frozen at creation
    apr_percent: Mapped[str] = mapped_column(String(32))
    disclosed_repayment_fen: Mapped[int] = mapped_column(Fen)
    cap_profile: Mapped[str | None] = mapped_column(String(64))
    penalty_rate_disclosed: Mapped[str] = mapped_column(String(32), default="0")  # annual fraction
    penalty_rate_daily_e9: Mapped[int] = mapped_column(Fen, default=0)  # effective, after the cap
    penalty_reason: Mapped[str] = mapped_column(String(40), default="PENALTY_NONE")
    allocation_order: Mapped[str] = mapped_column(String(40), default="overdue-first")
    write_off_dpd: Mapped[int] = mapped_column(Integer, default=180)
    buckets: Mapped[str] = mapped_column(String(200), default="M0:0,M1:1,M2:31,M3:61,M4+:91")
    # stored balances (cache of the journal, verified by `ledger check`)
    principal_outstanding_fen: Mapped[int] = mapped_column(Fen, default=0)
    interest_outstanding_fen: Mapped[int] = mapped_column(Fen, default=0)
    fees_outstanding_fen: Mapped[int] = mapped_column(Fen, default=0)
    penalties_outstanding_fen: Mapped[int] = mapped_column(Fen, default=0)
    overpayment_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_total_fen: Mapped[int] = mapped_column(Fen, default=0)
    penalties_charged_fen: Mapped[int] = mapped_column(Fen, default=0)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    disbursed_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # The loan's version counter: SQLAlchemy bumps it on every ORM flush that changes the row and checks it
    # in the UPDATE's WHERE (StaleDataError when someone else changed the loan since it was read), so no
    # path can forget it. Core writers bump and check it themselves: ``servicing.loans.save`` (the
    # repayment records) and end of day's set-based UPDATEs (``servicing.eod``).
    version: Mapped[int] = mapped_column(Integer, default=1)
    borrower_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    cooling_off_until: Mapped[date | None] = mapped_column(Date)
    penalty_suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the credit line this loan was drawn on (migration 0025): its principal moves the line's commitment
    line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("credit_lines.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class InstallmentRow(Base):
    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("loan_id", "period", "schedule_version", name="uq_installments_loan_period_version"),
        # end of day's bill step (migration 0012): what is not billed yet (the future instalments), read
        # from the oldest unbilled due date of an open loan up to the business date.
        # Lookups by loan use the unique index (loan_id, period, schedule_version).
        Index(
            "ix_installments_unbilled",
            "due_on",
            postgresql_where=text("NOT billed AND active"),
            sqlite_where=text("NOT billed AND active"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"))
    period: Mapped[int] = mapped_column(Integer)
    schedule_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once superseded by a reschedule
    start_on: Mapped[date] = mapped_column(Date)  # accrual start of the period
    due_on: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    fee_fen: Mapped[int] = mapped_column(Fen)
    billed: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_principal_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_interest_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_on: Mapped[date | None] = mapped_column(Date)
