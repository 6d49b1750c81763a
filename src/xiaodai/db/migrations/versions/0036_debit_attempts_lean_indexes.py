"""debit_attempts: two fewer index entries per attempt written by the debit batch.

- ``ix_debit_attempts_loan_id`` is dropped: no query reads the attempts by loan (the one join on
  ``loan_id``, notify's failed debits of a day, is driven by ``business_date``; loans are never deleted,
  so the foreign key needs no index either). It cost an entry on each claim and again on each outcome.
- ``ix_debit_attempts_card_id`` becomes a partial index of the pending attempts by card: its one reader
  is the unbinding check "a debit in flight on this card" (``card_id = ? AND status = 'pending'``);
  booking an outcome no longer adds an entry to it (an update that changes ``status`` is never HOT, so
  every full index of the table takes a new entry per outcome).

Kept: the primary key, ``channel_ref`` (unique: a debit is sent and posted at most once),
``(installment_id, attempt)`` (the claim's "this attempt exists / a debit is in flight"),
``business_date`` (a day's attempts: reconciliation, callbacks, reminders) and the partial index of the
pending attempts by date (0034). No data changes.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_debit_attempts_card_pending",
        "debit_attempts",
        ["card_id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.drop_index("ix_debit_attempts_card_id", table_name="debit_attempts")
    op.drop_index("ix_debit_attempts_loan_id", table_name="debit_attempts")


def downgrade() -> None:
    op.create_index("ix_debit_attempts_loan_id", "debit_attempts", ["loan_id"])
    op.create_index("ix_debit_attempts_card_id", "debit_attempts", ["card_id"])
    op.drop_index("ix_debit_attempts_card_pending", table_name="debit_attempts")
