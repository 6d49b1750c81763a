"""the scheduler reviews credit lines: a ``line_review`` job definition (``lines.review_due`` at 07:00 each
business date, after the debits so a failed debit is behaviour the review sees the next day).

Revision ID: 0029
Revises: 0027
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0027"
branch_labels = None
depends_on = None

JOB = {"name": "line_review", "handler": "lines.review_due", "run_at_local": "07:00", "day_offset": 0,
       "max_attempts": 3, "backoff_seconds": 300, "lease_seconds": 3600, "catch_up_days": 1,
       "wait_seconds": 900, "sort_order": 25}  # fmt: skip


def upgrade() -> None:
    definitions = sa.table(
        "job_definitions",
        *(sa.column(name) for name in JOB),
    )
    op.bulk_insert(definitions, [JOB])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM job_definitions WHERE name = 'line_review'"))
