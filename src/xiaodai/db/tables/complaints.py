"""Complaints and their event log (the regulatory clock is computed from the events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class ComplaintRow(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loans.id"), index=True)
    channel: Mapped[str] = mapped_column(String(30))  # portal | api | phone | letter | regulator
    forwarded_by: Mapped[str | None] = mapped_column(String(20))  # 12378 | PBOC | CFPB
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    narrative: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), index=True)
    sub_issue: Mapped[str | None] = mapped_column(String(60))
    classification_json: Mapped[str] = mapped_column(Text, default="{}")
    classified_by: Mapped[str] = mapped_column(String(20), default="auto")  # auto | human
    status: Mapped[str] = mapped_column(String(16), index=True)  # triage | open | closed | merged
    merged_into: Mapped[int | None] = mapped_column(BigId, ForeignKey("complaints.id"))
    assigned_to: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    evidence_json: Mapped[str] = mapped_column(Text, default="{}")
    decision_json: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(String(60))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ComplaintEventRow(Base):
    """Append-only events in the SLA engine's vocabulary (acknowledged, extension, external_appraisal,
    new_facts, decision_notified, company_response, …)."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id"), index=True)
    event_json: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confidence: Mapped[float | None] = mapped_column(Float)
