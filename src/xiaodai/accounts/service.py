"""Sign-up, login and bearer tokens (shell). Passwords are argon2 hashes; tokens are stored as SHA-256.

Login lockout: after ``MAX_FAILED_LOGINS`` consecutive wrong passwords an account is locked for
``LOCKOUT``; during the lockout even the right password is refused, and a success resets the count.
Every refusal looks the same from outside (one message, the same argon2 work), so a caller cannot tell
an unknown email from a wrong password or a locked account.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import ApiTokenRow, AuditEventRow, UserRow

HASHER = PasswordHasher()
STAFF_ROLES = frozenset({"underwriter", "collector", "complaint_officer", "risk", "auditor", "admin"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SIGN_IN_REFUSED = (
    "wrong email or password; after 5 failed attempts an account is locked for 15 minutes, "
    "during which even the right password is refused"
)


class AccountError(ValueError):
    status = 400


class AuthError(AccountError):
    status = 401


class ForbiddenError(AccountError):
    """A rule refused the caller; ``code`` is the rule's reason code when there is one."""

    status = 403

    def __init__(self, message: str = "", code: str | None = None) -> None:
        if code:
            message = f"refused: {code}" + (f" ({message})" if message else "")
        super().__init__(message)
        self.code = code


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


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of one password attempt: ``user`` is set only when access is granted.

    ``reason`` is for the audit trail and tests, never for the caller's response: OK, WRONG_CREDENTIALS
    (unknown email or wrong password), LOCKED (refused during a lockout) or LOCKED_NOW (this failure
    started a lockout).
    """

    user: UserRow | None
    reason: str


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite drops the zone


def sign_in(session: Session, *, email: str, password: str, now: datetime, client: str = "unknown") -> SignIn:
    """Check a password under the lockout rule and record the attempt (the caller commits, even on a
    refusal, so that failures count)."""
    found = session.execute(
        select(UserRow).where(UserRow.email == email.strip().lower()).with_for_update()
    ).scalar_one_or_none()
    if found is None:
        HASHER.hash(password)  # same work either way: no account enumeration by timing
        return SignIn(None, "WRONG_CREDENTIALS")
    matches: bool
    try:
        matches = HASHER.verify(found.password_hash, password)
    except (VerificationError, InvalidHashError):
        matches = False
    if found.locked_until is not None and now < _utc(found.locked_until):
        return SignIn(None, "LOCKED")
    if matches:
        found.failed_logins = 0
        found.locked_until = None
        session.flush()
        return SignIn(found, "OK")
    found.failed_logins = (found.failed_logins or 0) + 1
    if found.failed_logins < MAX_FAILED_LOGINS:
        session.flush()
        return SignIn(None, "WRONG_CREDENTIALS")
    found.failed_logins = 0  # the next window starts afresh when the lockout ends
    found.locked_until = now + LOCKOUT
    session.add(
        AuditEventRow(
            occurred_at=now,
            actor=f"client:{client}"[:100],
            action="login-locked",
            subject=f"user:{found.id}",
            reason="TOO_MANY_FAILED_LOGINS",
            payload=json.dumps(
                {"failed_logins": MAX_FAILED_LOGINS, "locked_until": found.locked_until.isoformat()}
            ),
        )
    )
    session.flush()
    return SignIn(None, "LOCKED_NOW")


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


def roles_of(user: UserRow) -> set[str]:
    """A staff member's roles; borrowers have none."""
    return {r for r in user.roles.split(",") if r} if user.kind == "staff" else set()


def has_role(user: UserRow, role: str) -> bool:
    return user.kind == "staff" and (role in user.roles.split(",") or "admin" in user.roles.split(","))
