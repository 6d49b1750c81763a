"""debit_attempts: fewer index entries and foreign-key locks per attempt written by the debit batch.

- ``ix_debit_attempts_loan_id`` is dropped: no query reads the attempts by loan (the one join on
  ``loan_id``, notify's failed debits of a day, is driven by ``business_date``; loans are never deleted,
  so the foreign key needs no index either). It cost an entry on each claim and again on each outcome.
- ``ix_debit_attempts_card_id`` becomes a partial index of the pending attempts by card: its one reader
  is the unbinding check "a debit in flight on this card" (``card_id = ? AND status = 'pending'``);
  booking an outcome no longer adds an entry to it (an update that changes ``status`` is never HOT, so
  every full index of the table takes a new entry per outcome).
- The foreign keys of ``loan_id`` and ``card_id`` are dropped: each checked row took a ``FOR KEY SHARE``
  lock on its loan and its card (a write to those pages and to the WAL per attempt, 1,000,000 a day at the
  goal size). Both columns are copies made by the claim from the instalment's loan and the borrower's
  default card in the same statement, the instalment keeps its foreign key (and the instalment's
  ``loan_id`` its own), and loans and cards are never deleted (a card is unbound, a loan closed).

Kept: the foreign keys of ``installment_id`` and ``entry_id``; the primary key, ``channel_ref``
(unique: a debit is sent and posted at most once),
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
    with op.batch_alter_table("debit_attempts") as batch:
        batch.drop_constraint("fk_debit_attempts_loan_id_loans", type_="foreignkey")
        batch.drop_constraint("fk_debit_attempts_card_id_payment_cards", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("debit_attempts") as batch:
        batch.create_foreign_key("fk_debit_attempts_loan_id_loans", "loans", ["loan_id"], ["id"])
        batch.create_foreign_key(
            "fk_debit_attempts_card_id_payment_cards", "payment_cards", ["card_id"], ["id"]
        )
    op.create_index("ix_debit_attempts_loan_id", "debit_attempts", ["loan_id"])
    op.create_index("ix_debit_attempts_card_id", "debit_attempts", ["card_id"])
    op.drop_index("ix_debit_attempts_card_pending", table_name="debit_attempts")
