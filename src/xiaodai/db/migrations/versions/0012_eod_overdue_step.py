"""end of day: steps ``penalty``, ``delinquency`` and ``write-off-candidates`` merged into ``overdue``;
indexes for it (partial ``ix_installments_unbilled`` replaces ``ix_installments_due``; the redundant
``ix_installments_loan`` goes; ``ix_loans_overpayment``); fillfactor 85 on loans and instalments (PostgreSQL)

Run it outside end of day. On PostgreSQL the index builds on ``installments`` block writes to it while
they run (about 10 s per 10^7 instalments on 2 cores): repayments wait, none fail. A downgrade keeps the
journal as it is: days closed with this version have one EOD entry per step and day (no loan of its own;
each loan's lines carry ``postings.loan_id``), which the previous version's ``ledger check`` reads the
same way.

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

MERGED = ("penalty", "delinquency", "write-off-candidates")
_INDEXES = (
    ("ix_loans_overpayment", "loans", ["id"], "overpayment_fen > 0"),
    ("ix_installments_unbilled", "installments", ["due_on"], "NOT billed AND active"),
)


def upgrade() -> None:
    bind = op.get_bind()
    # A business date on which some of the merged steps committed and others did not cannot be mapped onto
    # ``overdue`` (re-running it would charge the day's penalty twice): finish it with the previous version.
    half_done = bind.execute(
        sa.text(
            "SELECT business_date FROM eod_steps WHERE step IN ('penalty', 'delinquency', "
            "'write-off-candidates') GROUP BY business_date HAVING count(*) < 3 ORDER BY business_date"
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
    # ix_installments_due: only end of day read it, and it made every change of ``billed`` an index write;
    # ix_installments_loan (loan_id, active): the unique (loan_id, period, schedule_version) serves lookups
    op.drop_index("ix_installments_due", table_name="installments")
    op.drop_index("ix_installments_loan", table_name="installments")
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
    op.create_index("ix_installments_loan", "installments", ["loan_id", "active"])
    op.create_index("ix_installments_due", "installments", ["due_on", "billed"])
    for step in MERGED:
        bind.execute(
            sa.text(
                "INSERT INTO eod_steps (business_date, step, rows_affected, completed_at) "
                "SELECT o.business_date, CAST(:step AS VARCHAR(32)), o.rows_affected, o.completed_at "
                "FROM eod_steps o "
                "WHERE o.step = 'overdue' AND NOT EXISTS (SELECT 1 FROM eod_steps x "
                "WHERE x.business_date = o.business_date AND x.step = CAST(:step AS VARCHAR(32)))"
            ),
            {"step": step},
        )
    bind.execute(sa.text("DELETE FROM eod_steps WHERE step = 'overdue'"))
