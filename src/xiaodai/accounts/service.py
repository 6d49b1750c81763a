"""Sign-up, login, web sessions and bearer tokens (shell). Passwords are argon2 hashes; tokens are stored
as SHA-256.

Sign-in back-off is per account *and* client address: after ``MAX_FAILED_LOGINS`` consecutive wrong
passwords from one address, that address is paused for that account (``BACKOFF_START``, doubling with each
further failure, at most ``BACKOFF_MAX``); during the pause even the right password from that address is
refused. The owner signing in from another address is not affected, so a stranger cannot lock anyone
out. ``users.locked_until`` is the account-wide lock (``lock_account``, staff), which also ends every
web session and stops every bearer token.

Every refusal looks the same from outside (one message, the same argon2 work), so a caller cannot tell
an unknown email from a wrong password or a paused address; sign-up answers the same whether or not the
email already has an account (``request_sign_up``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from xiaodai.accounts.token_cache import TOKENS, Remembered
from xiaodai.db.inserts import execute_compiled
from xiaodai.db.tables import ApiTokenRow, AuditEventRow, LoginBackoffRow, UserRow

HASHER = PasswordHasher()
STAFF_ROLES = frozenset({"underwriter", "collector", "complaint_officer", "risk", "auditor", "admin"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FAILED_LOGINS = 5
BACKOFF_START = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
TOKEN_TTL = timedelta(hours=12)
SIGN_IN_REFUSED = (
    "wrong email or password; after 5 failed attempts from one address, sign-in to that account from that "
    "address is paused (30 seconds, doubling up to 15 minutes), during which even the right password is "
    "refused"
)
SIGN_UP_ACCEPTED = (
    "if this email had no account, it has one now: sign in with it and your password "
    "(an email that already has an account is left as it is)"
)
CLIENT_KEY_CHARS = 64


class AccountError(ValueError):
    status = 400


class AuthError(AccountError):
    status = 401


class UnknownAccountError(AccountError):
    status = 404


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


def _check_sign_up(email: str, name: str, password: str, kind: str, roles: tuple[str, ...]) -> str:
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
    return email


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
    """Create an account (operators, seeding, tests); a taken email is an error here. Self-service sign-up
    goes through ``request_sign_up``, which does not reveal it."""
    email = _check_sign_up(email, name, password, kind, roles)
    if session.execute(select(UserRow.id).where(UserRow.email == email)).first() is not None:
        raise AccountError("an account with this email already exists")
    user = UserRow(
        kind=kind,
        email=email,
        password_hash=HASHER.hash(password),
        roles=",".join(sorted(roles)),
        lang=lang if lang in ("zh", "en") else "zh",
    )
    session.add(user)
    session.flush()
    user.set_name(name.strip())  # encrypted, bound to the row's id
    session.flush()
    return user


def request_sign_up(
    session: Session, *, email: str, name: str, password: str, lang: str = "zh"
) -> UserRow | None:
    """A borrower's self-service sign-up: the new account, or None when the email already has one (the
    caller answers the same either way, ``SIGN_UP_ACCEPTED``; the argon2 work is the same too). Input
    errors (a malformed email, a short password) are still reported: they do not depend on who exists."""
    email = _check_sign_up(email, name, password, "borrower", ())
    if session.execute(select(UserRow.id).where(UserRow.email == email)).first() is not None:
        HASHER.hash(password)
        return None
    return sign_up(session, email=email, name=name, password=password, lang=lang)


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of one password attempt: ``user`` is set only when access is granted.

    ``reason`` is for the audit trail and tests, never for the caller's response: OK, WRONG_CREDENTIALS
    (unknown email or wrong password), LOCKED (the account is locked), PAUSED (this address is paused for
    this account) or PAUSED_NOW (this failure started a pause).
    """

    user: UserRow | None
    reason: str


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite drops the zone


def backoff_for(failures: int) -> timedelta:
    """The pause after ``failures`` consecutive failures (none below ``MAX_FAILED_LOGINS``)."""
    if failures < MAX_FAILED_LOGINS:
        return timedelta(0)
    doublings = min(failures - MAX_FAILED_LOGINS, 16)
    pause: timedelta = min(BACKOFF_START * (2**doublings), BACKOFF_MAX)
    return pause


def sign_in(session: Session, *, email: str, password: str, now: datetime, client: str = "unknown") -> SignIn:
    """Check a password under the back-off rule and record the attempt (the caller commits, even on a
    refusal, so that failures count)."""
    found = session.execute(
        select(UserRow).where(UserRow.email == email.strip().lower()).with_for_update()
    ).scalar_one_or_none()
    if found is None:
        HASHER.hash(password)  # same work either way: no account enumeration by timing
        return SignIn(None, "WRONG_CREDENTIALS")
    client = client[:CLIENT_KEY_CHARS]
    backoff = session.execute(
        select(LoginBackoffRow)
        .where(LoginBackoffRow.user_id == found.id, LoginBackoffRow.client == client)
        .with_for_update()
    ).scalar_one_or_none()
    matches: bool
    try:
        matches = HASHER.verify(found.password_hash, password)
    except (VerificationError, InvalidHashError):
        matches = False
    if found.locked_until is not None and now < _utc(found.locked_until):
        return SignIn(None, "LOCKED")
    if backoff is not None and backoff.blocked_until is not None and now < _utc(backoff.blocked_until):
        return SignIn(None, "PAUSED")
    if matches:
        if backoff is not None:
            session.delete(backoff)
        found.failed_logins = 0
        session.flush()
        return SignIn(found, "OK")
    if backoff is None:
        backoff = LoginBackoffRow(user_id=found.id, client=client, failures=0, updated_at=now)
        session.add(backoff)
    backoff.failures += 1
    backoff.updated_at = now
    pause = backoff_for(backoff.failures)
    if not pause:
        session.flush()
        return SignIn(None, "WRONG_CREDENTIALS")
    backoff.blocked_until = now + pause
    session.add(
        AuditEventRow(
            occurred_at=now,
            actor=f"client:{client}"[:100],
            action="login-paused",
            subject=f"user:{found.id}",
            reason="TOO_MANY_FAILED_LOGINS",
            payload=json.dumps(
                {"failures": backoff.failures, "paused_until": backoff.blocked_until.isoformat()}
            ),
        )
    )
    session.flush()
    return SignIn(None, "PAUSED_NOW")


# --- web sessions -----------------------------------------------------------------------------------


def session_claims(user: UserRow) -> dict[str, int]:
    """What a signed-in web session stores: the user and the session version it began under."""
    return {"user_id": user.id, "sv": user.session_version}


def user_for_session(session: Session, *, user_id: object, version: object, now: datetime) -> UserRow | None:
    """The user a web session names, if it is still valid: same session version (no logout since) and
    the account not locked."""
    try:
        uid = int(str(user_id))
    except ValueError:
        return None
    user = session.get(UserRow, uid)
    if user is None or version != user.session_version or _locked(user, now):
        return None
    return user


def end_sessions(session: Session, *, user: UserRow) -> None:
    """Log out everywhere on the web: every cookie signed in under the current version stops working."""
    session.execute(
        update(UserRow).where(UserRow.id == user.id).values(session_version=UserRow.session_version + 1)
    )
    session.refresh(user)


def _locked(user: UserRow, now: datetime) -> bool:
    return _lock_holds(user.locked_until, now)


def _lock_holds(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < _utc(locked_until)


def lock_account(
    session: Session, *, user: UserRow, until: datetime, actor: str, reason: str, now: datetime
) -> None:
    """Lock an account (staff): sign-in refused, web sessions ended, bearer tokens refused until ``until``."""
    if not reason.strip():
        raise AccountError("a reason is required to lock an account")
    user.locked_until = until
    TOKENS.forget_user(user.id)  # this process at once, the others within token_cache.TTL_SECONDS
    end_sessions(session, user=user)
    session.add(
        AuditEventRow(
            occurred_at=now,
            actor=actor[:100],
            action="account-locked",
            subject=f"user:{user.id}",
            reason=reason.strip()[:200],
            payload=json.dumps({"locked_until": until.isoformat()}),
        )
    )
    session.flush()


# --- bearer tokens ----------------------------------------------------------------------------------


def issue_token(
    session: Session, *, user: UserRow, now: datetime | None = None, ttl: timedelta = TOKEN_TTL
) -> str:
    token = secrets.token_urlsafe(32)
    issued = now or datetime.now(tz=UTC)
    session.add(
        ApiTokenRow(user_id=user.id, token_sha256=_sha(token), revoked=False, expires_at=issued + ttl)
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> UserRow:
    """The user a bearer token belongs to: refused if revoked, expired or the account locked.

    One query (token joined to user), or none when this process looked the token up within the last
    ``token_cache.TTL_SECONDS`` (see ``token_cache`` for how revocation stays safe)."""
    at = now or datetime.now(tz=UTC)
    remembered = remembered_user(session, token, now=at)
    if remembered is not None:
        return remembered
    digest = _sha(token)
    asked = TOKENS.ticks_now()  # before the query: token_cache.put(looked_up_at=...)
    found = session.execute(
        select(ApiTokenRow, UserRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.token_sha256 == digest, ApiTokenRow.revoked.is_(False))
    ).one_or_none()
    if found is None:
        raise AuthError("invalid or revoked token")
    row, user = found
    _accept(
        digest,
        _columns(user),
        expires_at=row.expires_at,
        created_at=row.created_at,
        at=at,
        looked_up_at=asked,
    )
    return user


def _accept(
    digest: str,
    columns: dict[str, Any],
    *,
    expires_at: datetime | None,
    created_at: datetime,
    at: datetime,
    looked_up_at: float | None,
) -> None:
    """The rule for a token found (not revoked) with its user's columns: remembered, then refused if expired
    or the account locked. ``user_for_token``, ``user_id_for_token_values`` and ``looked_up_user`` all go
    through it."""
    expires = _utc(expires_at if expires_at is not None else _utc(created_at) + TOKEN_TTL)
    TOKENS.put(
        digest,
        user_id=columns["id"],
        user_columns=columns,
        token_expires_at=expires,
        looked_up_at=looked_up_at,
    )
    if at >= expires:
        raise AuthError("the token has expired: ask for a new one")
    if _lock_holds(columns["locked_until"], at):
        raise AuthError("the account is locked")


_USER_COLUMNS = tuple(c.key for c in UserRow.__mapper__.column_attrs)

# ``user_for_token``'s query as plain values (the user's columns named by their attribute keys, then the
# token's expiry and creation time), for a caller that reads it with the database driver itself (the API's
# event-loop reads on PostgreSQL: no thread, no ORM session); ``user_id_for_token_values`` applies the rule.
TOKEN_VALUES = (
    select(
        *(getattr(UserRow, key).label(key) for key in _USER_COLUMNS),
        ApiTokenRow.expires_at.label("token_expires_at"),
        ApiTokenRow.created_at.label("token_created_at"),
    )
    .join(UserRow, UserRow.id == ApiTokenRow.user_id)
    .where(ApiTokenRow.token_sha256 == bindparam("digest"), ApiTokenRow.revoked.is_(False))
)


def token_digest(token: str) -> str:
    """The token as stored and looked up (its SHA-256): ``TOKEN_VALUES``' ``digest`` parameter."""
    return _sha(token)


def user_id_for_token_values(
    token: str, values: Sequence[object] | None, *, now: datetime, looked_up_at: float | None
) -> int:
    """``user_for_token`` on the row ``TOKEN_VALUES`` returned for the token (None: no row — unknown or
    revoked): the same rule (remembered, expiry, lock), the user's id when accepted, else ``AuthError``.
    ``looked_up_at``: ``TOKENS.ticks_now()`` taken before the query (``token_cache.put``)."""
    return int(_accepted_values(token, values, now=now, looked_up_at=looked_up_at)["id"])


def looked_up_user(session: Session, token: str, *, now: datetime, attached: bool) -> UserRow:
    """``user_for_token`` for a token ``remembered_user`` did not find, in ``session``'s transaction:
    ``TOKEN_VALUES`` sent as the driver's own statement (``db.inserts.execute_compiled``: no ORM rows built,
    where ``user_for_token`` builds two, the token's and the user's) and the same rule (``_accept``). The
    user as ``remembered_user`` gives it: a row of ``session`` when ``attached``, else a detached row holding
    its columns (for a caller that needs only them, e.g. its id). Refused: ``AuthError``."""
    asked = TOKENS.ticks_now()  # before the query: token_cache.put(looked_up_at=...)
    found = execute_compiled(session.connection(), TOKEN_VALUES, {"digest": _sha(token)}).first()
    columns = _accepted_values(token, None if found is None else tuple(found), now=now, looked_up_at=asked)
    return _attach(session, columns) if attached else _detached(columns)


def _accepted_values(
    token: str, values: Sequence[object] | None, *, now: datetime, looked_up_at: float | None
) -> dict[str, Any]:
    """The user's columns from a ``TOKEN_VALUES`` row, once ``_accept`` took the token; else ``AuthError``."""
    if values is None:
        raise AuthError("invalid or revoked token")
    columns: dict[str, Any] = dict(zip(_USER_COLUMNS, values[: len(_USER_COLUMNS)], strict=True))
    expires_at, created_at = values[len(_USER_COLUMNS) :]
    _accept(
        _sha(token),
        columns,
        expires_at=expires_at,  # type: ignore[arg-type]
        created_at=created_at,  # type: ignore[arg-type]
        at=now,
        looked_up_at=looked_up_at,
    )
    return columns


def remembered_user(session: Session | None, token: str, *, now: datetime) -> UserRow | None:
    """The token's user if this process looked it up within ``TTL_SECONDS``, without any I/O (the API's
    authentication dependency calls it on the event loop); ``None`` when the database must be asked.
    Refused (``AuthError``) if the remembered expiry has passed or the remembered account lock holds.
    With ``session=None`` the user is a detached row holding its columns (for a read that needs only
    them, e.g. its id: no session bookkeeping); otherwise a row of ``session``."""
    remembered = _remembered(token, now=now)
    if remembered is None:
        return None
    columns = remembered.user_columns
    return _detached(columns) if session is None else _attach(session, columns)


def remembered_user_id(token: str, *, now: datetime) -> int | None:
    """``remembered_user``'s answer as the user's id only (for a caller that needs nothing else: no row is
    built): None when the database must be asked; ``AuthError`` on the same expiry and lock rule."""
    remembered = _remembered(token, now=now)
    return None if remembered is None else remembered.user_id


def _remembered(token: str, *, now: datetime) -> Remembered | None:
    """The token's entry in this process's memory once the remembered expiry and lock let it through
    (``AuthError`` otherwise); None when not remembered."""
    remembered = TOKENS.get(_sha(token))
    if remembered is None:
        return None
    if now >= remembered.token_expires_at:
        raise AuthError("the token has expired: ask for a new one")
    if _lock_holds(remembered.user_columns["locked_until"], now):
        raise AuthError("the account is locked")
    return remembered


def _columns(user: UserRow) -> dict[str, Any]:
    return {key: getattr(user, key) for key in _USER_COLUMNS}


def _detached(columns: dict[str, object]) -> UserRow:
    """A detached row with these column values and its identity (no session, no query)."""
    copy: UserRow = _USER_MAPPER.class_manager.new_instance()
    copy.__dict__.update(columns)
    make_transient_to_detached(copy)
    return copy


def _attach(session: Session, columns: dict[str, object]) -> UserRow:
    """The remembered user as a row of ``session`` without a query (its values as of the lookup): a new
    instance given the values and the identity, then added as persistent (what ``merge(load=False)`` does,
    without copying attribute by attribute). If the session already holds that user, merge onto it."""
    key = _USER_MAPPER.identity_key_from_primary_key((columns["id"],))
    copy = _detached(columns)
    if key in session.identity_map:
        return session.merge(copy, load=False)
    session.add(copy)
    return copy


_USER_MAPPER = UserRow.__mapper__


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one token; whether it was live."""
    TOKENS.forget_token(_sha(token))
    result = session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.token_sha256 == _sha(token), ApiTokenRow.revoked.is_(False))
        .values(revoked=True)
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_tokens(session: Session, *, user: UserRow) -> int:
    """Revoke every token of a user; how many were live."""
    TOKENS.forget_user(user.id)
    result = session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.user_id == user.id, ApiTokenRow.revoked.is_(False))
        .values(revoked=True)
    )
    return int(getattr(result, "rowcount", 0))


def roles_of(user: UserRow) -> set[str]:
    """A staff member's roles; borrowers have none."""
    return {r for r in user.roles.split(",") if r} if user.kind == "staff" else set()


def has_role(user: UserRow, role: str) -> bool:
    return user.kind == "staff" and (role in user.roles.split(",") or "admin" in user.roles.split(","))


def set_roles(
    session: Session, *, admin: UserRow, user_id: int, roles: tuple[str, ...] | list[str], reason: str = ""
) -> dict[str, object]:
    """An admin changes a staff member's roles (at least one; only the known staff roles). Audited
    (``roles-change`` on ``user:<id>``, before and after). Refused with ``LAST_ADMIN`` when no admin would be
    left (an admin removing their own admin role is allowed only while another admin remains). The change
    applies to the next request: roles are read from the account on every request and the token cache
    forgets the user at once in this process."""
    if not has_role(admin, "admin"):
        raise ForbiddenError(code="ROLE_REQUIRED")
    target = session.get(UserRow, user_id)
    if target is None:
        raise UnknownAccountError("no such account")
    if target.kind != "staff":
        raise AccountError("only staff accounts have roles")
    chosen = tuple(sorted(set(roles)))
    unknown = set(chosen) - STAFF_ROLES
    if unknown:
        raise AccountError(f"unknown roles: {', '.join(sorted(unknown))}")
    if not chosen:
        raise AccountError("choose at least one role")
    # Every staff row locked in id order (one order for every caller, so two admins demoting each other
    # queue instead of deadlocking), then the roles read as locked.
    locked = {
        row_id: {r for r in (text or "").split(",") if r}
        for row_id, text in session.execute(
            select(UserRow.id, UserRow.roles)
            .where(UserRow.kind == "staff")
            .order_by(UserRow.id)
            .with_for_update()
        ).all()
    }
    before = tuple(sorted(locked[target.id]))
    if before == chosen:
        return {"user_id": target.id, "roles": list(chosen), "changed": False}
    others_admin = any("admin" in held for row_id, held in locked.items() if row_id != target.id)
    if "admin" in before and "admin" not in chosen and not others_admin:
        raise ForbiddenError(code="LAST_ADMIN")
    target.roles = ",".join(chosen)
    TOKENS.forget_user(target.id)
    session.add(
        AuditEventRow(
            occurred_at=datetime.now(tz=UTC),
            actor=f"user:{admin.id}",
            action="roles-change",
            subject=f"user:{target.id}",
            reason="ROLES_CHANGED",
            payload=json.dumps(
                {"before": list(before), "after": list(chosen), "note": reason.strip()[:200]},
                ensure_ascii=False,
            ),
        )
    )
    session.flush()
    return {"user_id": target.id, "roles": list(chosen), "changed": True}
