"""audit_chain_head(key): the audit chain's lock and head in one round trip (PostgreSQL only).

Chaining audit rows at commit took two statements on PostgreSQL: ``pg_advisory_xact_lock`` and then, in a
later statement, the head (the head must be read with a snapshot taken after the lock is granted, or a
writer that waited for the lock would read the head as it was before the previous writer committed, and
fail on the unique ``seq``). One statement cannot do both: its snapshot is taken when it starts, before it
waits. A VOLATILE function can: each query inside it takes a fresh snapshot (READ COMMITTED), so the
function takes the lock, then reads the head with a snapshot from after the lock was granted. Same
ordering, same lock, one round trip fewer per audited commit. SQLite needs nothing (its writers serialise
at ``BEGIN IMMEDIATE``). No data changes.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION audit_chain_head(lock_key bigint)
        RETURNS TABLE (seq bigint, row_hash varchar)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_key);
            -- a new query of a VOLATILE function: a new snapshot, taken after the lock was granted
            RETURN QUERY
                SELECT a.seq, a.row_hash::varchar FROM audit_events AS a ORDER BY a.seq DESC LIMIT 1;
        END $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint)")
