"""Feature sources: the platform blocklist and the record of every credit-report pull."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class BlocklistRow(Base):
    """A person xiaodai does not lend to (fraud, identity misuse, a court order), by user id and/or ID-number
    blind index. An entry is removed by setting ``removed_at``, never deleted."""

    __tablename__ = "blocklist"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BureauPullRow(Base):
    """One credit-report pull, at most one per application, under the applicant's credit_check consent.
    ``report_enc`` is ``privacy.crypto`` ciphertext bound to ``bureau_pulls:<application_id>:report``; NULL
    once the report was erased past its retention floor (``erased_at``), the pull record itself being kept."""

    __tablename__ = "bureau_pulls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(100), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    consent_id: Mapped[int] = mapped_column(BigId, ForeignKey("consents.id"))
    provider: Mapped[str] = mapped_column(String(40))
    subject_ref: Mapped[str] = mapped_column(String(80))  # ID-number blind index, or user:<id>
    report_enc: Mapped[str | None] = mapped_column(Text)
    key_version: Mapped[int] = mapped_column(Integer)
    pulled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
