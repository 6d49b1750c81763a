"""Request dependencies: one database transaction per request, the current user, today's business date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from xiaodai.accounts.service import AuthError, user_for_session, user_for_token
from xiaodai.db.tables import UserRow

CHINA = ZoneInfo("Asia/Shanghai")
MAX_ROW_ID = 2**63 - 1  # ids are 64-bit signed integers on both databases

# A row id in a path: anything outside 1 … 2^63-1 names no row and is refused with a 422 before it can
# reach the database (where it would overflow the integer type).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2^63-1)")]


def db(request: Request) -> Iterator[Session]:
    """One request = one transaction: commit once at the end, roll back on any error.

    Used with ``scope="function"`` (see ``DB``): the commit, and the audit chain written at commit, run when
    the endpoint has returned and BEFORE the response is sent. A commit that fails therefore raises and the
    client gets an error, never a 2xx naming rows that do not exist (with the default request scope FastAPI
    would send the response first and commit afterwards).
    """
    factory = request.app.state.session_factory
    with factory() as session, session.begin():
        yield session


DB = Annotated[Session, Depends(db, scope="function")]


def read_db(request: Request, session: DB) -> Iterator[Session]:
    """For an endpoint that only reads with ONE statement: on PostgreSQL that statement runs in autocommit
    (one round trip instead of BEGIN, SELECT, COMMIT); one statement sees one snapshot, so nothing is lost.
    Anything that writes, or reads twice and needs both reads to agree, uses ``DB``. On SQLite (whose
    connections take the database lock at BEGIN) it is the request's ``DB`` session itself."""
    factory = request.app.state.read_session_factory
    if factory is request.app.state.session_factory:
        yield session
        return
    with factory() as reader:
        yield reader


ReadDB = Annotated[Session, Depends(read_db, scope="function")]


async def today(request: Request) -> date:  # async: no thread hop for a pure dependency
    fixed = request.app.state.settings.business_date
    return fixed or datetime.now(tz=CHINA).date()


Today = Annotated[date, Depends(today)]


# The two ways to authenticate, declared as OpenAPI security schemes (Swagger's Authorize button, typed
# clients): a bearer token from POST /api/auth/token, or the signed web-session cookie.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="a token from POST /api/auth/token (12 hours; POST /api/auth/logout revokes it)",
)
SESSION_COOKIE = APIKeyCookie(
    name="xiaodai_session",
    auto_error=False,
    scheme_name="session",
    description="the signed web-session cookie set by the sign-in form; writes also need this site's Origin",
)


def current_user(
    request: Request,
    session: DB,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    _cookie: Annotated[str | None, Security(SESSION_COOKIE)] = None,  # read through request.session
) -> UserRow:
    now: datetime = request.app.state.clock()
    if bearer is not None:
        return user_for_token(session, bearer.credentials.strip(), now=now)
    claims = request.session if "session" in request.scope else {}
    if claims.get("user_id"):
        user = user_for_session(session, user_id=claims.get("user_id"), version=claims.get("sv"), now=now)
        if user is not None:
            return user
    raise AuthError("authentication required: a bearer token or a signed-in session")


CurrentUser = Annotated[UserRow, Depends(current_user)]


async def now(request: Request) -> datetime:  # async: no thread hop
    """The wall clock (UTC), injectable through ``app.state.clock`` so tests can move time."""
    at: datetime = request.app.state.clock()
    return at


Now = Annotated[datetime, Depends(now)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
