"""disbursements through the payment channel (``disbursements``: one payout per loan, pending until the
channel answers) and the instalment a reminder is about (``notices.installment_id``, so that a reminder
queued for an instalment paid before it is sent is withdrawn). New table and a nullable column only.

Revision ID: 0035
Revises: 0030
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "disbursements",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("loan_id", BigId, sa.ForeignKey("loans.id"), nullable=False, unique=True),
        sa.Column("channel_ref", sa.String(64), nullable=False, unique=True),
        sa.Column("card_id", BigId, sa.ForeignKey("payment_cards.id")),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("settled_on", sa.Date()),
        sa.Column("entry_id", BigId, sa.ForeignKey("journal_entries.id")),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_disbursements_status", "disbursements", ["status"])
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("installment_id", BigId, sa.ForeignKey("installments.id"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("installment_id")
    op.drop_index("ix_disbursements_status", table_name="disbursements")
    op.drop_table("disbursements")
