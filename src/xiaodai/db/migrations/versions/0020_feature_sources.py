"""feature sources: blocklist, credit-report pulls, the assembled feature vector on decisions

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "blocklist",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=True),
        sa.Column("id_number_bidx", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column(
            "added_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_blocklist_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocklist")),
    )
    with op.batch_alter_table("blocklist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocklist_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_blocklist_id_number_bidx"), ["id_number_bidx"], unique=False)
    op.create_table(
        "bureau_pulls",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("consent_id", BIG_ID, nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject_ref", sa.String(length=80), nullable=False),
        sa.Column("report_enc", sa.Text(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bureau_pulls_user_id_users")),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_bureau_pulls_consent_id_consents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_pulls")),
        sa.UniqueConstraint("application_id", name=op.f("uq_bureau_pulls_application_id")),
    )
    with op.batch_alter_table("bureau_pulls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bureau_pulls_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("features_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("features_json")
    op.drop_table("bureau_pulls")
    op.drop_table("blocklist")
