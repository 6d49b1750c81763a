"""Sign-up and bearer tokens."""

from __future__ import annotations

from fastapi import APIRouter

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import DB, CurrentUser
from xiaodai.api.schemas import Login, SignUp, TokenRead

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/signup", status_code=201)
def sign_up(body: SignUp, session: DB) -> dict[str, object]:
    user = accounts.sign_up(session, email=body.email, name=body.name, password=body.password, lang=body.lang)
    return {"id": user.id, "email": user.email}


@router.post("/token")
def token(body: Login, session: DB) -> TokenRead:
    user = accounts.authenticate(session, email=body.email, password=body.password)
    return TokenRead(token=accounts.issue_token(session, user=user), user_id=user.id)


@router.get("/me")
def me(user: CurrentUser) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "kind": user.kind,
        "roles": [r for r in user.roles.split(",") if r],
    }
