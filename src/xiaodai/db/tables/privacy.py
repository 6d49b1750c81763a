"""Personal data at rest (field-level ciphertext + blind indexes), data-subject requests and maker-checker
approvals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class PersonalDataRow(Base):
    """A borrower's identity and contact data. Every ``*_enc`` column is AES-GCM ciphertext bound to this row
    and field (``privacy.crypto``); the ``*_bidx`` columns are keyed HMACs for exact lookups."""

    __tablename__ = "personal_data"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    key_version: Mapped[int] = mapped_column(Integer, index=True)
    name_enc: Mapped[str | None] = mapped_column(Text)
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    bank_card_enc: Mapped[str | None] = mapped_column(Text)
    address_enc: Mapped[str | None] = mapped_column(Text)
    emergency_contacts_enc: Mapped[str | None] = mapped_column(Text)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DataRequestRow(Base):
    """A data-subject request (PIPL Arts. 45-47): correction or deletion, and what was done or kept, why."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # correction | deletion
    status: Mapped[str] = mapped_column(String(20))  # done | partially_done | refused
    request_enc: Mapped[str | None] = mapped_column(Text)  # the requested changes, encrypted
    result_json: Mapped[str] = mapped_column(Text, default="{}")  # deleted / retained (reason, until)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApprovalRow(Base):
    """Maker-checker: a sensitive operation waits here until a different authorised person approves it."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    operation: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(100))
    params_json: Mapped[str] = mapped_column(Text)
    maker_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | executed | rejected | failed
    checker_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    result_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
