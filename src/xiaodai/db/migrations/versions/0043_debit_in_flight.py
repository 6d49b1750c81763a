"""debit_attempts: the outcome update becomes HOT; what is in flight moves to ``debit_in_flight``.

Booking an outcome changes ``status`` (and amounts, reason, entry). The two partial indexes of pending
attempts (``ix_debit_attempts_pending`` by date, migration 0034; ``ix_debit_attempts_card_pending`` by card,
0036) name ``status`` in their predicate, and on PostgreSQL an index that names a changed column keeps the
update from being HOT: every outcome wrote a new row version elsewhere and an entry into each of the
table's four full indexes (the debit batch's outcome ``UPDATE`` was ~13 of ~95 PostgreSQL CPU-seconds per
1,000,000 debits, docs/BENCHMARKS.md).

- ``debit_in_flight`` (new): one row per attempt waiting for its final outcome — primary key
  ``attempt_id`` (the batch deletes a chunk's by an id range), an index on ``card_id`` (the unbinding
  refusal "a debit in flight on this card") and one on ``business_date`` (the staff list of pending
  debits of earlier days: ``payments.service.older_pending_debits``). Written with the pending attempt
  (the claim), deleted when the attempt gets its final status. Filled here from the pending attempts.
- The two partial indexes are dropped; no index of ``debit_attempts`` names a column the outcome writes.
- ``debit_attempts`` fillfactor 45 (PostgreSQL): a claimed page keeps room for the new version of each
  of its rows, so the outcome stays on the page (the new version is a little longer than the claimed
  one: it carries the entry id or a reason; at 50, 90 % of a batch's outcomes were HOT, at 45 all). Only
  pages written from now on get the room (the attempts are written by the claim, so a new day's attempts
  have it; no rewrite is needed).

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "debit_in_flight",
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["payment_cards.id"]),
        sa.ForeignKeyConstraint(["attempt_id"], ["debit_attempts.id"]),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    op.create_index("ix_debit_in_flight_card_id", "debit_in_flight", ["card_id"])
    op.create_index("ix_debit_in_flight_business_date", "debit_in_flight", ["business_date"])
    op.execute(
        "INSERT INTO debit_in_flight (card_id, attempt_id, business_date)"
        " SELECT card_id, id, business_date FROM debit_attempts WHERE status = 'pending'"
    )
    op.drop_index("ix_debit_attempts_pending", table_name="debit_attempts")
    op.drop_index("ix_debit_attempts_card_pending", table_name="debit_attempts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE debit_attempts SET (fillfactor = 45)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE debit_attempts RESET (fillfactor)")
    op.create_index(
        "ix_debit_attempts_card_pending",
        "debit_attempts",
        ["card_id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_debit_attempts_pending",
        "debit_attempts",
        ["business_date"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.drop_index("ix_debit_in_flight_business_date", table_name="debit_in_flight")
    op.drop_index("ix_debit_in_flight_card_id", table_name="debit_in_flight")
    op.drop_table("debit_in_flight")
