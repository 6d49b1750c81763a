"""payments: bound bank cards (``payment_cards``, number encrypted, one default per borrower), auto-debit
attempts (``debit_attempts``, one row per instalment and attempt) and channel callbacks
(``payment_callbacks``, one row per event). New tables only; the suspense account is a chart entry (no
schema).

Revision ID: 0024
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payment_cards",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("borrower_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("number_enc", sa.Text(), nullable=False),
        sa.Column("number_bidx", sa.String(64), nullable=False),
        sa.Column("masked", sa.String(32), nullable=False),
        sa.Column("bank", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("verify_ref", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_payment_cards_borrower_id", "payment_cards", ["borrower_id"])
    op.create_index("ix_payment_cards_number_bidx", "payment_cards", ["number_bidx"])
    op.create_index(
        "uq_payment_cards_default",
        "payment_cards",
        ["borrower_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    op.create_table(
        "debit_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel_ref", sa.String(64), nullable=False, unique=True),
        sa.Column("loan_id", BigId, sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("installment_id", BigId, sa.ForeignKey("installments.id"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("card_id", BigId, sa.ForeignKey("payment_cards.id"), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("settled_fen", sa.BigInteger(), nullable=False),
        sa.Column("posted_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("entry_id", BigId, sa.ForeignKey("journal_entries.id")),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_debit_attempts_loan_id", "debit_attempts", ["loan_id"])
    op.create_index("ix_debit_attempts_card_id", "debit_attempts", ["card_id"])
    op.create_index("ix_debit_attempts_business_date", "debit_attempts", ["business_date"])
    op.create_index("ix_debit_attempts_status", "debit_attempts", ["status"])
    op.create_table(
        "payment_callbacks",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False, unique=True),
        sa.Column("channel_ref", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("settled_fen", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_payment_callbacks_channel_ref", "payment_callbacks", ["channel_ref"])


def downgrade() -> None:
    op.drop_table("payment_callbacks")
    op.drop_table("debit_attempts")
    op.drop_index("uq_payment_cards_default", table_name="payment_cards")
    op.drop_table("payment_cards")
