"""end of day: partial indexes for the bill and overdue steps, fillfactor 85 on loans and instalments
(PostgreSQL), and the ``penalty`` + ``delinquency`` steps merged into ``overdue``

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_loans_overpayment", "loans", ["id"], "overpayment_fen > 0"),
    ("ix_installments_unbilled", "installments", ["due_on"], "NOT billed AND active"),
    ("ix_installments_late", "installments", ["loan_id", "due_on"], "billed AND active AND paid_on IS NULL"),
)


def upgrade() -> None:
    bind = op.get_bind()
    # A business date whose old ``penalty`` step committed but whose ``delinquency`` step did not cannot be
    # mapped onto the merged step (re-running it would charge the day's penalty twice): finish it first.
    half_done = bind.execute(
        sa.text(
            "SELECT business_date FROM eod_steps s WHERE step = 'penalty' AND NOT EXISTS ("
            "SELECT 1 FROM eod_steps d WHERE d.business_date = s.business_date AND d.step = 'delinquency')"
        )
    ).all()
    if half_done:
        days = ", ".join(str(r[0]) for r in half_done)
        raise RuntimeError(
            f"end of day is half done for {days}: run `xiaodai eod` with the previous version, then upgrade"
        )
    bind.execute(
        sa.text(
            "INSERT INTO eod_steps (business_date, step, rows_affected, completed_at) "
            "SELECT business_date, 'overdue', rows_affected, completed_at FROM eod_steps "
            "WHERE step = 'delinquency'"
        )
    )
    for name, table, columns, where in _INDEXES:
        op.create_index(name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    if bind.dialect.name == "postgresql":
        # room on each page for the daily updates of balances, DPD and paid amounts to stay on the page
        # (HOT updates: no new index entries); applies to pages written from now on
        op.execute("ALTER TABLE loans SET (fillfactor = 85)")
        op.execute("ALTER TABLE installments SET (fillfactor = 85)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE loans RESET (fillfactor)")
        op.execute("ALTER TABLE installments RESET (fillfactor)")
    for name, table, _, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    bind.execute(
        sa.text(
            "INSERT INTO eod_steps (business_date, step, rows_affected, completed_at) "
            "SELECT o.business_date, s.step, o.rows_affected, o.completed_at "
            "FROM eod_steps o CROSS JOIN (SELECT 'penalty' AS step UNION ALL SELECT 'delinquency') s "
            "WHERE o.step = 'overdue' AND NOT EXISTS (SELECT 1 FROM eod_steps x "
            "WHERE x.business_date = o.business_date AND x.step = s.step)"
        )
    )
    bind.execute(sa.text("DELETE FROM eod_steps WHERE step = 'overdue'"))
