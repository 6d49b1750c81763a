"""loans: fillfactor 60 (PostgreSQL only), so that the debit batch's loan updates stay on their page (HOT).

The batch updates ~3 of 4 loans it debits (balances, version). Most of those updates change no indexed
column (a loan that settles changes ``state``, indexed; one that overpays ``overpayment_fen``, in the
predicate of ``ix_loans_overpayment``), so they can be HOT (heap-only: no new index entries, less WAL, no
index bloat) — if the loan's page has room for the new version. At fillfactor 85 (migration 0012, for
end of day's updates) the pages were too full for a batch that updates most loans at once: at 100,000
debits 16,672 of 75,003 loan updates were HOT; with fillfactor 60, 70,184 (94 %), and the loans' indexes
grew 0.15 MB instead of 5.4 MB. The batch's PostgreSQL CPU: −0.1 to −0.4 s per 100,000 (3 pairs), −0.5 s
of ~96 s per 1,000,000 — small, within the noise of a shared machine (docs/BENCHMARKS.md, debit5). The
cost: a rewritten table takes ~85/60 the pages (after one batch both are the same size: at 85 the
updates that are not HOT write their new versions to new pages).

``ALTER TABLE … SET (fillfactor)`` changes only pages written from now on; the existing pages keep what
they hold until the table is rewritten (``VACUUM FULL loans`` or ``pg_repack``, see docs/OPERATIONS.md).
Downgrade sets 0012's 85 again (pages keep their room until rewritten). SQLite has no fillfactor.

Revision ID: 0042
Revises: 0039
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0042"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE loans SET (fillfactor = 60)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE loans SET (fillfactor = 85)")  # as migration 0012 left it
