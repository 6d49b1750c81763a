"""the scheduler asks the payment channel about payouts whose callback never came: a ``payout_query`` job
definition (``payments.query_payouts`` at 08:00 each business date, after the debits and before
reconciliation; the handler itself only asks about payouts pending longer than ``payout.QUERY_AFTER``).
And ``ix_disbursements_business_date``: reconciliation reads the payouts sent on the file's date (one
disbursement per loan ever made: without it, a scan of them all per file).

Revision ID: 0038
Revises: 0036
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0036"
branch_labels = None
depends_on = None

JOB = {"name": "payout_query", "handler": "payments.query_payouts", "run_at_local": "08:00", "day_offset": 0,
       "max_attempts": 3, "backoff_seconds": 300, "lease_seconds": 1800, "catch_up_days": 1,
       "wait_seconds": 900, "sort_order": 22}  # fmt: skip


def upgrade() -> None:
    definitions = sa.table(
        "job_definitions",
        *(sa.column(name) for name in JOB),
    )
    op.bulk_insert(definitions, [JOB])
    op.create_index("ix_disbursements_business_date", "disbursements", ["business_date"])


def downgrade() -> None:
    op.drop_index("ix_disbursements_business_date", table_name="disbursements")
    op.execute(sa.text("DELETE FROM job_definitions WHERE name = 'payout_query'"))
