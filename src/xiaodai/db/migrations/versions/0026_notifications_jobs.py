"""notifications and the job runner: ``notice_preferences``, ``notices``, ``notice_outbox`` (every channel
decision; one allowed row per notice and channel), ``job_definitions`` (seeded: end of day, the debit
batch, reminders, reconciliation), ``job_claims`` (one per job and business date) and ``job_runs``.
New tables only.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The schedule as data (docs/OPERATIONS.md, "Scheduler"): local time in Asia/Shanghai on business date +
# day_offset. End of day closes yesterday at 00:30; the debit batch runs at 06:00 on the due date;
# reminders at 10:00 (after the debits, so a failed debit is notified the same day); the channel's
# settlement file for a date is reconciled from 09:00 the next morning, re-checked every 15 minutes until
# it is there.
JOBS = [
    {"name": "eod", "handler": "servicing.eod", "run_at_local": "00:30", "day_offset": 1,
     "max_attempts": 3, "backoff_seconds": 300, "lease_seconds": 3600, "catch_up_days": 2,
     "wait_seconds": 900, "sort_order": 10},
    {"name": "debits", "handler": "payments.run_debits", "run_at_local": "06:00", "day_offset": 0,
     "max_attempts": 3, "backoff_seconds": 120, "lease_seconds": 3600, "catch_up_days": 1,
     "wait_seconds": 900, "sort_order": 20},
    {"name": "reminders", "handler": "notify.reminders", "run_at_local": "10:00", "day_offset": 0,
     "max_attempts": 3, "backoff_seconds": 300, "lease_seconds": 1800, "catch_up_days": 1,
     "wait_seconds": 900, "sort_order": 30},
    {"name": "reconcile", "handler": "payments.reconcile", "run_at_local": "09:00", "day_offset": 1,
     "max_attempts": 3, "backoff_seconds": 300, "lease_seconds": 1800, "catch_up_days": 3,
     "wait_seconds": 900, "sort_order": 40},
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "notice_preferences",
        sa.Column("borrower_id", BigId, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("sms", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("email", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("marketing_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "notices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(120), nullable=False, unique=True),
        sa.Column("borrower_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("loan_id", BigId, sa.ForeignKey("loans.id")),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("category", sa.String(12), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(60)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_notices_borrower_id", "notices", ["borrower_id"])
    op.create_index("ix_notices_loan_id", "notices", ["loan_id"])
    op.create_index("ix_notices_business_date", "notices", ["business_date"])
    op.create_table(
        "notice_outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("notice_id", BigId, sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("borrower_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address_ref", sa.String(60), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("rule_version", sa.String(60), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("sender_ref", sa.String(80)),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_notice_outbox_notice_id", "notice_outbox", ["notice_id"])
    op.create_index("ix_notice_outbox_status", "notice_outbox", ["status"])
    op.create_index("ix_notice_outbox_borrower_at", "notice_outbox", ["borrower_id", "decided_at"])
    op.create_index(
        "uq_notice_outbox_allowed",
        "notice_outbox",
        ["notice_id", "channel"],
        unique=True,
        postgresql_where=sa.text("decision = 'allow'"),
        sqlite_where=sa.text("decision = 'allow'"),
    )
    definitions = op.create_table(
        "job_definitions",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("handler", sa.String(60), nullable=False),
        sa.Column("run_at_local", sa.String(5), nullable=False),
        sa.Column("day_offset", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(40), nullable=False, server_default="Asia/Shanghai"),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("backoff_seconds", sa.Integer(), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("catch_up_days", sa.Integer(), nullable=False),
        sa.Column("wait_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("sort_order", sa.Integer(), nullable=False),
    )
    op.bulk_insert(definitions, JOBS)
    op.create_table(
        "job_claims",
        sa.Column("job", sa.String(40), primary_key=True),
        sa.Column("business_date", sa.Date(), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(80)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(80), nullable=False),
        sa.Column("trigger", sa.String(12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_ms", BigId),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("summary_json", sa.Text()),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_job_runs_job", "job_runs", ["job"])
    op.create_index("ix_job_runs_business_date", "job_runs", ["business_date"])


def downgrade() -> None:
    for index, table in (
        ("ix_job_runs_business_date", "job_runs"),
        ("ix_job_runs_job", "job_runs"),
        ("uq_notice_outbox_allowed", "notice_outbox"),
        ("ix_notice_outbox_borrower_at", "notice_outbox"),
        ("ix_notice_outbox_status", "notice_outbox"),
        ("ix_notice_outbox_notice_id", "notice_outbox"),
        ("ix_notices_business_date", "notices"),
        ("ix_notices_loan_id", "notices"),
        ("ix_notices_borrower_id", "notices"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "job_runs",
        "job_claims",
        "job_definitions",
        "notice_outbox",
        "notices",
        "notice_preferences",
    ):
        op.drop_table(table)
