"""Sign-up and bearer tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import DB, CurrentUser, Now, client_address
from xiaodai.api.ratelimit import RateLimitedError, admit_login
from xiaodai.api.schemas import Login, SignUp, TokenRead

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/signup", status_code=201)
def sign_up(body: SignUp, session: DB) -> dict[str, object]:
    user = accounts.sign_up(session, email=body.email, name=body.name, password=body.password, lang=body.lang)
    return {"id": user.id, "email": user.email}


@router.post(
    "/token",
    response_model=TokenRead,
    responses={
        401: {"description": "wrong email or password, or the account is locked (one answer for all)"},
        429: {"description": "too many sign-in attempts from this address (see Retry-After)"},
    },
)
def token(body: Login, request: Request, session: DB, now: Now) -> TokenRead | Response:
    admission = admit_login(request)
    if not admission.allowed:
        raise RateLimitedError(admission.retry_after_seconds)
    attempt = accounts.sign_in(
        session, email=body.email, password=body.password, now=now, client=client_address(request)
    )
    if attempt.user is None:
        # Returned, not raised: the transaction commits so that the failure counts towards the lockout.
        return JSONResponse({"error": "AuthError", "message": accounts.SIGN_IN_REFUSED}, status_code=401)
    return TokenRead(token=accounts.issue_token(session, user=attempt.user), user_id=attempt.user.id)


@router.get("/me")
def me(user: CurrentUser) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "kind": user.kind,
        "roles": [r for r in user.roles.split(",") if r],
    }
