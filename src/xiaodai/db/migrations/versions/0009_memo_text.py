"""journal_entries.memo becomes TEXT (allocation lists of long arrears exceeded 400 characters)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce VARCHAR lengths; only PostgreSQL needs the type change.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("journal_entries", "memo", type_=sa.Text(), existing_type=sa.String(400))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("journal_entries", "memo", type_=sa.String(400), existing_type=sa.Text())
