"""audit_append(...): the audit chain's lock, head, hashes and insert in one function (PostgreSQL).

Why: the chain lock is held from the moment a writer appends until its COMMIT is done. With the hashes
computed by the client (``audit_append_if_head``, 0046) the lock was held across a round trip: the append's
answer went back to the Python process, which had to get its interpreter lock among the process's other
threads before it could send COMMIT. Under the HTTP benchmark's applications (2 workers, 16 connections),
11–12 backends on average waited for ``Lock:advisory`` and the applications ran at ~250–290/s: the lock
was held ~4 ms per decision. With the hashes computed here, the client sends the append and its COMMIT
together (psycopg's pipeline mode, ``db.inserts.execute_sql_and_commit``) and the lock is held only while
the server runs the append and the commit; and a writer never needs a second statement because another
process moved the head (the head is always read under the lock, here).

The hash is the one ``audit.chain.entry_hash`` computes (and ``audit verify`` checks): SHA-256 of the
canonical JSON of the record — keys sorted, no spaces, UTF-8, not ASCII-escaped — whose time is UTC ISO 8601
with microseconds and ``+00:00``. PostgreSQL's ``to_json(text)`` escapes exactly what Python's ``json.dumps``
escapes (``"``, ``\\``, ``\\b \\f \\n \\r \\t`` and other control characters as lower-case ``\\u00XX``);
``tests/integration/audit/test_audit_append_hash.py`` compares the two on generated text.

Same lock (``p_key``), same order as before: the lock is taken first, then the head is read by a new query
(a VOLATILE function's queries each take a fresh snapshot, as in ``audit_chain_head``, 0039), then the rows
(given as arrays, one per column, in chain order) are chained after it and inserted. Answers each row's
(id, seq, prev_hash, row_hash). ``audit_append_if_head`` is dropped (nothing calls it). SQLite needs nothing
(its writers serialise at ``BEGIN IMMEDIATE`` and the client chains). No data changes.

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None

ARGUMENTS = "bigint, varchar, timestamptz[], varchar[], varchar[], varchar[], varchar[], text[]"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION audit_append(
            p_key bigint,
            p_genesis varchar,
            p_occurred_at timestamptz[],
            p_actor varchar[],
            p_action varchar[],
            p_subject varchar[],
            p_reason varchar[],
            p_payload text[]
        )
        RETURNS TABLE (id bigint, seq bigint, prev_hash varchar, row_hash varchar)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            head_seq bigint;
            head_hash varchar;
            seqs bigint[] := '{}';
            prevs varchar[] := '{}';
            hashes varchar[] := '{}';
        BEGIN
            PERFORM pg_advisory_xact_lock(p_key);
            -- a new query of a VOLATILE function: a new snapshot, taken after the lock was granted
            SELECT a.seq, a.row_hash INTO head_seq, head_hash
                FROM audit_events AS a ORDER BY a.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                head_seq := 0;
                head_hash := p_genesis;
            END IF;
            FOR i IN 1 .. coalesce(array_length(p_actor, 1), 0) LOOP
                head_seq := head_seq + 1;
                seqs := seqs || head_seq;
                prevs := prevs || head_hash;
                -- audit.chain.canonical: sorted keys, no spaces, UTF-8, the time in UTC with microseconds
                head_hash := encode(sha256(convert_to(
                    '{"action":' || to_json(p_action[i])::text
                    || ',"actor":' || to_json(p_actor[i])::text
                    || ',"occurred_at":"'
                    || to_char(p_occurred_at[i] AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
                    || '+00:00"'
                    || ',"payload":' || to_json(p_payload[i])::text
                    || ',"prev_hash":' || to_json(prevs[i])::text
                    || ',"reason":' || to_json(p_reason[i])::text
                    || ',"seq":' || head_seq::text
                    || ',"subject":' || to_json(p_subject[i])::text
                    || '}', 'UTF8')), 'hex');
                hashes := hashes || head_hash;
            END LOOP;
            RETURN QUERY
                INSERT INTO audit_events AS e
                    (occurred_at, actor, action, subject, reason, payload, seq, prev_hash, row_hash)
                SELECT * FROM unnest(
                    p_occurred_at, p_actor, p_action, p_subject, p_reason, p_payload, seqs, prevs, hashes
                )
                RETURNING e.id, e.seq, e.prev_hash, e.row_hash;
        END $$""")
    op.execute(f"DROP FUNCTION IF EXISTS audit_append_if_head({_previous().ARGUMENTS})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS audit_append({ARGUMENTS})")
    _previous().upgrade()  # audit_append_if_head, as 0046 created it


def _previous() -> ModuleType:
    """Migration 0046's module (its function's arguments and body), loaded from its file."""
    path = Path(__file__).with_name("0046_audit_append_if_head_function.py")
    spec = importlib.util.spec_from_file_location("xiaodai_migration_0046", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
