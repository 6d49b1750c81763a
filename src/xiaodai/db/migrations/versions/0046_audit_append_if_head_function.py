"""audit_append_if_head(...): the audit chain's lock, head and conditional append, one function (PostgreSQL).

At commit an audited transaction takes the chain lock, reads the head (``audit_chain_head``, 0039) and
inserts its rows chained after the head it expected, only if the head read under the lock is that head
(``audit.trail._append_if_head``). Sent as one statement (a ``WITH`` of the head, a conditional
``INSERT … SELECT … FROM (VALUES …) WHERE (SELECT … FROM h) = …`` and a ``UNION ALL`` of the answers),
PostgreSQL parsed, analysed, planned and ran it at ~0.8–1.3 ms of server CPU per decision on the
2026-12-06 machine; psycopg's automatic prepared statements do not keep it (any ROLLBACK on the
connection makes psycopg deallocate them all). A PL/pgSQL function keeps its queries' plans for the life
of the server session whatever the client does; the same work as a function call ran at ~0.5–0.8 ms.

Same lock, same order, same answers: the lock is taken first, then the head is read by a new query (a
VOLATILE function's queries each take a fresh snapshot, as in ``audit_chain_head``), then the rows
(given as arrays, one per column, in chain order) are inserted if that head is the expected one
(``p_genesis`` for an empty chain). Answers the inserted rows' (id, seq, NULL), or the head read
(NULL, seq, row_hash) and nothing inserted. SQLite needs nothing. No data changes.

Revision ID: 0046
Revises: 0044
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0046"
down_revision = "0044"
branch_labels = None
depends_on = None

ARGUMENTS = (
    "bigint, bigint, varchar, varchar, timestamptz[], varchar[], varchar[], varchar[], varchar[], text[], "
    "bigint[], varchar[], varchar[]"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION audit_append_if_head(
            p_key bigint,
            p_expected_seq bigint,
            p_expected_hash varchar,
            p_genesis varchar,
            p_occurred_at timestamptz[],
            p_actor varchar[],
            p_action varchar[],
            p_subject varchar[],
            p_reason varchar[],
            p_payload text[],
            p_seq bigint[],
            p_prev_hash varchar[],
            p_row_hash varchar[]
        )
        RETURNS TABLE (id bigint, seq bigint, row_hash varchar)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            head_seq bigint;
            head_hash varchar;
        BEGIN
            PERFORM pg_advisory_xact_lock(p_key);
            -- a new query of a VOLATILE function: a new snapshot, taken after the lock was granted
            SELECT a.seq, a.row_hash INTO head_seq, head_hash
                FROM audit_events AS a ORDER BY a.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                head_seq := 0;
                head_hash := p_genesis;
            END IF;
            IF head_seq = p_expected_seq AND head_hash = p_expected_hash THEN
                RETURN QUERY
                    INSERT INTO audit_events AS e
                        (occurred_at, actor, action, subject, reason, payload, seq, prev_hash, row_hash)
                    SELECT * FROM unnest(
                        p_occurred_at, p_actor, p_action, p_subject, p_reason, p_payload, p_seq,
                        p_prev_hash, p_row_hash
                    )
                    RETURNING e.id, e.seq, NULL::varchar;
            ELSE
                RETURN QUERY SELECT NULL::bigint, head_seq, head_hash;
            END IF;
        END $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS audit_append_if_head({ARGUMENTS})")
