"""end of day: a ``collections`` step (after ``promises``) opens collection cases; days already closed stay
closed (the step is marked done for them: the first day run with this version opens a case for every loan
then overdue, so nothing is missed)

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "INSERT INTO eod_steps (business_date, step, rows_affected, completed_at) "
            "SELECT business_date, 'collections', 0, completed_at FROM eod_steps WHERE step = 'promises'"
        )
    )


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM eod_steps WHERE step = 'collections'"))
