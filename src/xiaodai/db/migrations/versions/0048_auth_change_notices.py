"""auth change notices: a change to a user or an API token tells every listening server process (PostgreSQL).

Why: each server process remembers bearer token -> user for a short while (``accounts.token_cache``) so an
authenticated request usually needs no look-up. A revocation (logout, revoke-all, a lock, an erasure, a
role change) reached the OTHER processes only when their memory of the token ran out, so that memory had to
be short (2 s), and with many borrowers about a third of the repayments over HTTP paid a look-up statement.
With these triggers every committed change to a ``users`` row (any column: the memory holds them all) or an
``api_tokens`` row sends ``NOTIFY xiaodai_auth, '<user id>'``, whichever path made it (the API, the CLI,
an operator's SQL); a server process listening for it (``accounts.auth_notices``) forgets that user's tokens
within milliseconds of the commit, and may remember tokens longer while it is listening.

PostgreSQL delivers a notice only when (and if) the transaction commits, once per distinct payload per
transaction. An UPDATE that changes nothing (``OLD`` not distinct from ``NEW``) sends nothing. SQLite needs
nothing (no other process listens; the memory stays short there). No data changes.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None

CHANNEL = "xiaodai_auth"  # accounts.auth_notices.CHANNEL


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE FUNCTION xiaodai_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'users' THEN
                PERFORM pg_notify('{CHANNEL}', OLD.id::text);
            ELSE
                PERFORM pg_notify('{CHANNEL}', OLD.user_id::text);
                IF TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id THEN
                    PERFORM pg_notify('{CHANNEL}', NEW.user_id::text);
                END IF;
            END IF;
            RETURN NULL;
        END $$
    """)
    for table in ("users", "api_tokens"):
        op.execute(f"""
            CREATE TRIGGER {table}_auth_changed AFTER UPDATE ON {table}
            FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xiaodai_auth_changed()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_auth_deleted AFTER DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION xiaodai_auth_changed()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("users", "api_tokens"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_deleted ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS xiaodai_auth_changed()")
