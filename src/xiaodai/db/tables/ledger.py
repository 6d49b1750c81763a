"""Journal tables. Rows are only ever inserted: corrections are reversing entries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId, Fen


class JournalEntryRow(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        Index(  # migration 0034: what reconciliation reads of the suspense account, without the journal
            "ix_journal_entries_suspense",
            "idempotency_key",
            postgresql_where=text("event = 'suspense'"),
            sqlite_where=text("event = 'suspense'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    event: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    loan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loans.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"), unique=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PostingRow(Base):
    __tablename__ = "postings"
    __table_args__ = (Index("ix_postings_loan_account", "loan_id", "account"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    loan_id: Mapped[int | None] = mapped_column(BigId)
    amount_fen: Mapped[int] = mapped_column(Fen)  # debit > 0, credit < 0
