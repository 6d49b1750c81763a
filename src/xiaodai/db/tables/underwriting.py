"""Model registry, policy versions and decision records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class ModelRow(Base):
    __tablename__ = "models"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))
    manifest_json: Mapped[str] = mapped_column(Text)
    metrics_json: Mapped[str] = mapped_column(Text, default="{}")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DecisionRow(Base):
    """Everything needed to reproduce a decision: inputs, model and policy versions, and the result."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(100), unique=True)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    pd: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(4))
    model_version: Mapped[str] = mapped_column(String(32), ForeignKey("models.version"))
    policy_version: Mapped[str] = mapped_column(String(40), ForeignKey("policy_versions.version"))
    application_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    # the assembled feature vector: {name: {"value": ..., "source": ...}} and the catalogue version (0020)
    features_json: Mapped[str | None] = mapped_column(Text)
    loan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("loans.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
