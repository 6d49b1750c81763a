"""Sign-up, login and bearer tokens (shell). Passwords are argon2 hashes; tokens are stored as SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import ApiTokenRow, UserRow

HASHER = PasswordHasher()
STAFF_ROLES = frozenset({"underwriter", "collector", "complaint_officer", "risk", "auditor", "admin"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    status = 400


class AuthError(AccountError):
    status = 401


class ForbiddenError(AccountError):
    status = 403


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_up(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    kind: str = "borrower",
    roles: tuple[str, ...] = (),
    lang: str = "zh",
) -> UserRow:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise AccountError("a valid email address is required")
    if len(password) < 10:
        raise AccountError("the password must have at least 10 characters")
    if not name.strip():
        raise AccountError("a name is required")
    if kind not in ("borrower", "staff"):
        raise AccountError("kind must be borrower or staff")
    unknown = set(roles) - STAFF_ROLES
    if unknown:
        raise AccountError(f"unknown roles: {', '.join(sorted(unknown))}")
    if session.execute(select(UserRow.id).where(UserRow.email == email)).first() is not None:
        raise AccountError("an account with this email already exists")
    user = UserRow(
        kind=kind,
        email=email,
        name=name.strip(),
        password_hash=HASHER.hash(password),
        roles=",".join(sorted(roles)),
        lang=lang if lang in ("zh", "en") else "zh",
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> UserRow:
    user = session.execute(select(UserRow).where(UserRow.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        HASHER.hash(password)  # same work either way: no account enumeration by timing
        raise AuthError("wrong email or password")
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthError("wrong email or password") from None
    return user


def issue_token(session: Session, *, user: UserRow) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiTokenRow(user_id=user.id, token_sha256=_sha(token), revoked=False))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> UserRow:
    row = session.execute(
        select(ApiTokenRow).where(ApiTokenRow.token_sha256 == _sha(token), ApiTokenRow.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None:
        raise AuthError("invalid or revoked token")
    user = session.get(UserRow, row.user_id)
    if user is None:  # pragma: no cover - FK guarantees it
        raise AuthError("invalid token")
    return user


def has_role(user: UserRow, role: str) -> bool:
    return user.kind == "staff" and (role in user.roles.split(",") or "admin" in user.roles.split(","))
