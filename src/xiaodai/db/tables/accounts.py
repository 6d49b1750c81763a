"""Borrower and staff accounts, API tokens and consent records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from xiaodai.db.base import Base, BigId


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # borrower | staff
    email: Mapped[str] = mapped_column(String(200), unique=True)
    # The name is personal data: encrypted (``privacy.crypto``, bound to ``users:<id>:name``) in name_enc;
    # the old clear column stays, always empty, until a later migration drops it (migration 0017).
    name_clear_legacy: Mapped[str] = mapped_column("name", String(200), default="", server_default="")
    name_enc: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200), default="")  # comma-separated staff roles
    lang: Mapped[str] = mapped_column(String(5), default="zh")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # account-wide lock
    # A signed-in web session carries the version it began under; logout (or a lock) bumps it.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def name(self) -> str:
        """The name in clear (decrypted on read; "—" once erased). Set it with ``set_name`` after the row
        has its id."""
        if self.name_enc is None:
            return "—"
        from xiaodai.privacy.crypto import aad, decrypt
        from xiaodai.privacy.keys import current_ring

        return decrypt(current_ring(), self.name_enc, aad("users", self.id, "name"))

    def set_name(self, name: str | None) -> None:
        """Encrypt ``name`` into the row (None erases it); the row must have been flushed (it has an id)."""
        if name is None:
            self.name_enc = None
            return
        if self.id is None:
            raise ValueError("flush the user before setting the name: the ciphertext is bound to the id")
        from xiaodai.privacy.crypto import aad, encrypt
        from xiaodai.privacy.keys import current_ring

        self.name_enc = encrypt(current_ring(), name, aad("users", self.id, "name"))


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: created_at + TTL


class LoginBackoffRow(Base):
    """Failed sign-ins to one account from one client address; a run of them pauses that pair only."""

    __tablename__ = "login_backoff"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentRow(Base):
    """A consent the borrower gave, to a versioned text, separately per purpose (PIPL Arts. 14, 29)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # credit_check | terms | sensitive_data | agency_sharing
    text_version: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
