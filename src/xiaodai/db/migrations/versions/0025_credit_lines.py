"""credit lines: ``credit_lines`` (limit, grade, state, expiry, a pending increase offer),
``credit_line_events`` (every limit or state change with its reason code), ``line_notices`` (what the
borrower is told), ``credit_line_drawdowns`` (loan ↔ line, plan) and ``loans.line_id`` (nullable).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _now() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "credit_lines",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("borrower_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("grade_max_fen", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.String(32), nullable=False),
        sa.Column("decision_id", BigId, sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        sa.Column("offered_limit_fen", sa.BigInteger()),
        sa.Column("offer_reason", sa.String(40)),
        sa.Column("offer_expires_on", sa.Date()),
        sa.Column("reviewed_on", sa.Date()),
        _now(),
    )
    op.create_index("ix_credit_lines_borrower_id", "credit_lines", ["borrower_id"])
    op.create_index("ix_credit_lines_decision_id", "credit_lines", ["decision_id"])
    op.create_table(
        "credit_line_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("line_id", BigId, sa.ForeignKey("credit_lines.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("old_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("new_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("old_state", sa.String(12), nullable=False),
        sa.Column("new_state", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        sa.Column("entry_id", BigId, sa.ForeignKey("journal_entries.id")),
        _now(),
    )
    op.create_index("ix_credit_line_events_line_id", "credit_line_events", ["line_id"])
    op.create_table(
        "line_notices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("line_id", BigId, sa.ForeignKey("credit_lines.id"), nullable=False),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("event_id", BigId, sa.ForeignKey("credit_line_events.id"), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("old_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("new_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        _now(),
    )
    op.create_index("ix_line_notices_line_id", "line_notices", ["line_id"])
    op.create_index("ix_line_notices_user_id", "line_notices", ["user_id"])
    op.create_table(
        "credit_line_drawdowns",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("line_id", BigId, sa.ForeignKey("credit_lines.id"), nullable=False),
        sa.Column("loan_id", BigId, sa.ForeignKey("loans.id"), nullable=False, unique=True),
        sa.Column("plan", sa.String(12), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("drawn_on", sa.Date(), nullable=False),
        sa.Column("idempotency_key", sa.String(140), nullable=False, unique=True),
    )
    op.create_index("ix_credit_line_drawdowns_line_id", "credit_line_drawdowns", ["line_id"])
    # nullable, no default: an instant ADD COLUMN on both backends (no table rewrite)
    if op.get_bind().dialect.name == "sqlite":  # SQLite cannot add a constraint to a table in place
        op.add_column("loans", sa.Column("line_id", BigId, nullable=True))
    else:
        op.add_column("loans", sa.Column("line_id", BigId, sa.ForeignKey("credit_lines.id"), nullable=True))
    op.create_index("ix_loans_line_id", "loans", ["line_id"])


def downgrade() -> None:
    op.drop_index("ix_loans_line_id", table_name="loans")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("line_id")
    op.drop_table("credit_line_drawdowns")
    op.drop_table("line_notices")
    op.drop_table("credit_line_events")
    op.drop_table("credit_lines")
