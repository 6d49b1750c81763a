"""sessions that end and sign-in back-off per account and client: ``users.session_version`` (a web
session carries the version it was signed in under; logout bumps it, so a copied cookie stops working),
``api_tokens.expires_at`` (a token without one expires ``created_at`` + the token lifetime), and
``login_backoff`` (failed sign-ins counted per account *and* client address); ``users.name_enc``: the
account name encrypted like the rest of the personal data (AES-GCM under the key ring, bound to
``users:<id>:name``) and the clear ``users.name`` emptied (an erased account's "—" becomes no name).

The data step needs the key ring (``XIAODAI_KEYRING`` or ``XIAODAI_KEYRING_FILE``) the application uses;
the downgrade decrypts the names back into the clear column.

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_backoff",
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("users", sa.Column("name_enc", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name FROM users WHERE name <> ''")).all()
    if rows:
        from xiaodai.privacy.crypto import aad, encrypt
        from xiaodai.privacy.keys import current_ring

        ring = current_ring()
        for user_id, name in rows:
            token = encrypt(ring, name, aad("users", user_id, "name")) if name != "—" else None
            bind.execute(
                sa.text("UPDATE users SET name_enc = :token, name = '' WHERE id = :id"),
                {"token": token, "id": user_id},
            )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name_enc FROM users WHERE name_enc IS NOT NULL")).all()
    if rows:
        from xiaodai.privacy.crypto import aad, decrypt
        from xiaodai.privacy.keys import current_ring

        ring = current_ring()
        for user_id, token in rows:
            bind.execute(
                sa.text("UPDATE users SET name = :name WHERE id = :id"),
                {"name": decrypt(ring, token, aad("users", user_id, "name")), "id": user_id},
            )
    bind.execute(sa.text("UPDATE users SET name = '—' WHERE name = ''"))
    with op.batch_alter_table("users") as batch:
        batch.drop_column("name_enc")
    op.drop_table("login_backoff")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
