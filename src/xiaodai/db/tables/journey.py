"""Borrower journey: applications and the frozen disclosure snapshot bound to each loan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class ApplicationRow(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload_json: Mapped[str] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("decisions.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    loan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loans.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DisclosureRow(Base):
    """Exactly the KFS the borrower saw and signed: canonical JSON and its SHA-256, immutable."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigId, ForeignKey("loans.id"), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    canonical_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(5))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signed_ip: Mapped[str] = mapped_column(String(64))
