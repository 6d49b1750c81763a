"""The job runner's tables (migration 0026): job definitions as data, one claim per job and business date,
and the history of every attempt."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class JobDefinitionRow(Base):
    """A scheduled job: its handler, when it runs (local time on the day after ``day_offset`` days of its
    business date) and its retry policy. Seeded by migration 0026; operations may change the rows."""

    __tablename__ = "job_definitions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    handler: Mapped[str] = mapped_column(String(60))
    run_at_local: Mapped[str] = mapped_column(String(5))  # HH:MM
    day_offset: Mapped[int] = mapped_column(Integer, default=0)  # run on business date + this many days
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    backoff_seconds: Mapped[int] = mapped_column(Integer, default=60)  # doubles after each failure
    lease_seconds: Mapped[int] = mapped_column(Integer, default=3600)  # a crashed runner's claim expires
    catch_up_days: Mapped[int] = mapped_column(Integer, default=2)  # how many business dates back to look
    wait_seconds: Mapped[int] = mapped_column(Integer, default=900)  # re-check when the input is not there
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class JobClaimRow(Base):
    """One row per (job, business date): who runs it, how it ended, when it may be tried again. Inserting or
    conditionally updating this row is the claim: two runners can never both hold it."""

    __tablename__ = "job_claims"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(12))  # running | succeeded | failed | waiting | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JobRunRow(Base):
    """Every attempt of a job for a business date: timings, outcome, the summary or the error."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(12))  # schedule | manual
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(BigId)
    outcome: Mapped[str] = mapped_column(String(12))  # running | succeeded | failed | waiting
    summary_json: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
