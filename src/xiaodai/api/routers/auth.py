"""Sign-up, bearer tokens, logout, and the account lock (staff)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import DB, CurrentUser, Now, RowId, client_address
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.api.ratelimit import RateLimitedError, admit_login
from xiaodai.api.schemas import Login, SignUp
from xiaodai.db.tables import UserRow

router = APIRouter(route_class=OneHopRoute, prefix="/api/auth", tags=["auth"])
staff_router = APIRouter(route_class=OneHopRoute, prefix="/api/staff/accounts", tags=["staff"])


class SignUpAccepted(BaseModel):
    message: str


class TokenIssued(BaseModel):
    token: str
    user_id: int
    expires_in: int = Field(description="seconds until the token stops working")


class LoggedOut(BaseModel):
    ended: str = Field(description="token (this bearer token revoked) or sessions (every web session)")


class RolesChange(BaseModel):
    roles: list[str] = Field(max_length=10, description="the staff roles the account has afterwards")
    reason: str = Field(default="", max_length=200)


class AccountLock(BaseModel):
    minutes: int = Field(ge=1, le=60 * 24 * 365)
    reason: str = Field(min_length=1, max_length=200)


@router.post("/signup", status_code=202, response_model=SignUpAccepted)
def sign_up(body: SignUp, session: DB) -> SignUpAccepted:
    """The same answer whether or not the email already has an account (no account enumeration)."""
    accounts.request_sign_up(
        session, email=body.email, name=body.name, password=body.password, lang=body.lang
    )
    return SignUpAccepted(message=accounts.SIGN_UP_ACCEPTED)


@router.post(
    "/token",
    response_model=TokenIssued,
    responses={
        401: {"description": "wrong email or password, or sign-in paused or locked (one answer for all)"},
        429: {"description": "too many sign-in attempts from this address (see Retry-After)"},
    },
)
def token(body: Login, request: Request, session: DB, now: Now) -> TokenIssued | Response:
    admission = admit_login(request)
    if not admission.allowed:
        raise RateLimitedError(admission.retry_after_seconds)
    attempt = accounts.sign_in(
        session, email=body.email, password=body.password, now=now, client=client_address(request)
    )
    if attempt.user is None:
        # Returned, not raised: the transaction commits so that the failure counts towards the back-off.
        return JSONResponse({"error": "AuthError", "message": accounts.SIGN_IN_REFUSED}, status_code=401)
    issued = accounts.issue_token(session, user=attempt.user, now=now)
    return TokenIssued(
        token=issued, user_id=attempt.user.id, expires_in=int(accounts.TOKEN_TTL.total_seconds())
    )


@router.post("/logout", response_model=LoggedOut)
def logout(request: Request, session: DB, user: CurrentUser) -> LoggedOut:
    """With a bearer token: that token is revoked. With a web session: every web session of the user ends
    on the server (a copied cookie stops working)."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        accounts.revoke_token(session, authorization.split(" ", 1)[1].strip())
        return LoggedOut(ended="token")
    accounts.end_sessions(session, user=user)
    request.session.clear()
    return LoggedOut(ended="sessions")


@router.get("/me")
def me(user: CurrentUser) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "kind": user.kind,
        "roles": [r for r in user.roles.split(",") if r],
    }


@staff_router.post("/{user_id}/lock")
def lock(user_id: RowId, body: AccountLock, session: DB, user: CurrentUser, now: Now) -> dict[str, object]:
    """Admin: lock an account for ``minutes`` (sign-in refused, web sessions ended, tokens refused)."""
    if not accounts.has_role(user, "admin"):
        raise accounts.ForbiddenError("admin role required")
    target = session.get(UserRow, user_id)
    if target is None:
        raise accounts.UnknownAccountError("no such account")
    until = now + timedelta(minutes=body.minutes)
    accounts.lock_account(
        session, user=target, until=until, actor=f"user:{user.id}", reason=body.reason, now=now
    )
    return {"user_id": target.id, "locked_until": until.isoformat()}


@staff_router.get("")
def staff_accounts(session: DB, user: CurrentUser) -> list[dict[str, object]]:
    """Admin: the staff accounts and their roles."""
    from sqlalchemy import select

    if not accounts.has_role(user, "admin"):
        raise accounts.ForbiddenError(code="ROLE_REQUIRED")
    rows = session.execute(select(UserRow).where(UserRow.kind == "staff").order_by(UserRow.id)).scalars()
    return [{"id": u.id, "email": u.email, "roles": sorted(accounts.roles_of(u))} for u in rows]


async def admin_role(user: CurrentUser) -> UserRow:
    """The admin role checked before the body is read (a dependency runs before body validation)."""
    if not accounts.has_role(user, "admin"):
        raise accounts.ForbiddenError(code="ROLE_REQUIRED")
    return user


@staff_router.put("/{user_id}/roles")
def change_roles(
    user_id: RowId, body: RolesChange, session: DB, user: Annotated[UserRow, Depends(admin_role)]
) -> dict[str, object]:
    """Admin: set a staff member's roles (audited; refused with LAST_ADMIN when no admin would be left)."""
    return accounts.set_roles(session, admin=user, user_id=user_id, roles=body.roles, reason=body.reason)
