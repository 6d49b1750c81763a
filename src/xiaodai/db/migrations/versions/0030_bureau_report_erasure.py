"""credit reports are covered by erasure: ``bureau_pulls.report_enc`` may be NULL (the report was erased past
its retention floor) and ``erased_at`` says when; the pull record (who, when, under which consent) stays.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bureau_pulls") as batch:
        batch.alter_column("report_enc", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # an erased report cannot come back: its ciphertext is gone. The downgrade refuses rather than invent one.
    bind = op.get_bind()
    erased = bind.execute(sa.text("SELECT count(*) FROM bureau_pulls WHERE report_enc IS NULL")).scalar_one()
    if erased:
        raise RuntimeError(
            f"{erased} credit report(s) were erased (report_enc NULL): 0030 cannot be downgraded"
        )
    with op.batch_alter_table("bureau_pulls") as batch:
        batch.drop_column("erased_at")
        batch.alter_column("report_enc", existing_type=sa.Text(), nullable=False)
