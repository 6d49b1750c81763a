"""Indexes for the payment batches: the pending debit attempts by date; the suspense entries of the journal.

debit_attempts: the index on ``status`` becomes a partial index of the pending attempts by business date.

Every attempt is inserted ``pending`` by the debit batch's claim and updated to its outcome when booked;
the full ``status`` index took a new entry on each of those updates (1,000,000 a day at the goal size) and
served only the lookups of pending attempts (the batch's unanswered attempts of a day, reconciliation,
the staff list of pending debits of earlier days). The partial index holds the pending attempts only, so
booking an outcome adds no entry to it, and those lookups read it by date.

journal_entries: a partial index of the ``suspense`` entries (by key): reconciliation reads what the
suspense account holds per reference, which was a scan of the whole journal (millions of entries a day
at the goal size); other entries add nothing to it. No data changes.

Revision ID: 0034
Revises: 0030
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0030"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
SUSPENSE = sa.text("event = 'suspense'")


def upgrade() -> None:
    op.create_index(
        "ix_debit_attempts_pending",
        "debit_attempts",
        ["business_date"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.drop_index("ix_debit_attempts_status", table_name="debit_attempts")
    op.create_index(
        "ix_journal_entries_suspense",
        "journal_entries",
        ["idempotency_key"],
        postgresql_where=SUSPENSE,
        sqlite_where=SUSPENSE,
    )


def downgrade() -> None:
    op.drop_index("ix_journal_entries_suspense", table_name="journal_entries")
    op.create_index("ix_debit_attempts_status", "debit_attempts", ["status"])
    op.drop_index("ix_debit_attempts_pending", table_name="debit_attempts")
