"""debit_attempts: an index on (installment_id, attempt), for the set-based debit batch's claim (does this
instalment have this attempt, or one pending?) and for anything that looks up an instalment's debits. No
data changes.

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_debit_attempts_installment", "debit_attempts", ["installment_id", "attempt"])


def downgrade() -> None:
    op.drop_index("ix_debit_attempts_installment", table_name="debit_attempts")
