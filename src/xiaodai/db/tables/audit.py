"""Append-only audit events (who did or tried what, to which subject, and why it was allowed or refused).

The rows form a hash chain (``xiaodai.audit.chain``): ``seq`` runs 1..n without gaps, ``prev_hash`` is the
``row_hash`` of the row at ``seq - 1`` (64 zeros for the first). The chain fields are filled in by the
listener in ``xiaodai.audit.trail`` when the transaction commits; database triggers refuse UPDATE and
DELETE (migration 0011).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(100), index=True)  # e.g. "loan:42"
    reason: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
