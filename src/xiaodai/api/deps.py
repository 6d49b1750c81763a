"""Request dependencies: one database transaction per request, the current user, today's business date."""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar, Token
from datetime import date, datetime
from typing import Annotated, Any, NamedTuple
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from xiaodai.accounts.service import AuthError, remembered_user, user_for_session, user_for_token
from xiaodai.db.tables import UserRow

CHINA = ZoneInfo("Asia/Shanghai")
MAX_ROW_ID = 2**63 - 1  # ids are 64-bit signed integers on both databases

# A row id in a path: anything outside 1 … 2^63-1 names no row and is refused with a 422 before it can
# reach the database (where it would overflow the integer type).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2^63-1)")]


# The sessions the dependencies below opened for the current request (a context variable: each request is
# its own task, and the endpoint's worker thread runs in a copy of that context). ``api.one_hop`` finishes
# them in the endpoint's own thread; whatever is still open when a dependency exits is finished there.
REQUEST_SESSIONS: ContextVar[tuple[Session, ...]] = ContextVar("xiaodai_request_sessions", default=())


def finish_sessions(*, commit: bool) -> None:
    """Commit (or roll back) and close every session this request opened, in the calling thread. A commit
    that fails rolls back the sessions after it too, and raises. A session with nothing to commit (see
    ``_nothing_to_commit``) is closed without the commit's machinery."""
    sessions = REQUEST_SESSIONS.get()
    failure: BaseException | None = None
    for session in sessions:
        try:
            if session.in_transaction():
                if commit and failure is None:
                    if not _nothing_to_commit(session):
                        session.commit()
                else:
                    session.rollback()
        except BaseException as exc:
            failure = failure or exc
        finally:
            session.close()
    if failure is not None:
        raise failure


def _nothing_to_commit(session: Session) -> bool:
    """True when committing could neither write nor end a database transaction: no pending, changed or
    deleted objects, nothing held in ``session.info`` for the commit (the audit chain keeps its waiting rows
    there), and either no connection taken (a request answered from the token cache) or only autocommit
    connections (``read_db``: each statement committed itself). Closing such a session is the same as
    committing it; anything else is committed."""
    if session.new or session.deleted or session.info or session.dirty:
        return False
    transaction = session.get_transaction()
    connections = getattr(transaction, "_connections", None)  # SQLAlchemy's, per bind
    if connections is None:
        return False  # unknown: commit
    return all(  # the option the reader's engine was made with (asking the connection would be a query)
        connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        for connection, *_ in connections.values()
    )


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _end(session: Session, *, commit: bool) -> None:
    """End a request's session. Already finished (``api.one_hop`` did it in the endpoint's thread), or
    never used: closing it does no I/O, so it is done here. Otherwise the commit or rollback runs in a
    worker thread, shielded from cancellation (a client that hangs up does not skip it)."""
    if not session.in_transaction():
        session.close()
        return
    with anyio.CancelScope(shield=True):
        # its own limiter, as FastAPI does for a dependency's exit: ending a session (which returns a pooled
        # connection) never waits for a thread held by an endpoint that may be waiting for that connection
        limiter = anyio.CapacityLimiter(1)
        await anyio.to_thread.run_sync(functools.partial(_finish, session, commit=commit), limiter=limiter)


async def db(request: Request) -> Session:
    """One request = one transaction: commit once at the end, roll back on any error.

    The session is ended on the request's function-scope exit stack (FastAPI's, the one it uses for
    ``scope="function"`` dependencies with ``yield``), which is left when the endpoint has returned and
    BEFORE the response is sent: the commit, and the audit chain written at commit, come first. A commit
    that fails therefore raises and the client gets an error, never a 2xx naming rows that do not exist.
    (A plain coroutine and an exit callback instead of a generator dependency: the same order and
    guarantees without the generator's context-manager machinery on every request.)

    Opening the session does no I/O (the connection is taken on first use), so this dependency runs on the
    event loop; the API's endpoints (``api.one_hop``) commit in their own worker thread, and the commit here
    is only for a session still open at the exit (then in a worker thread).
    """
    session: Session = request.app.state.session_factory()
    _ended_at_exit(request, session)
    return session


def _ended_at_exit(request: Request, session: Session) -> None:
    """Register ``session`` for this request (``REQUEST_SESSIONS``) and end it when the request's function
    scope exits: commit if the endpoint returned, roll back if anything raised."""
    token = REQUEST_SESSIONS.set((*REQUEST_SESSIONS.get(), session))

    async def end(kind: type[BaseException] | None, *_: object) -> bool:
        try:
            await _end(session, commit=kind is None)
        finally:
            _reset(token)
        return False  # an exception goes on as it came

    stack: contextlib.AsyncExitStack = request.scope["fastapi_function_astack"]
    stack.push_async_exit(end)


def _reset(token: Token[tuple[Session, ...]]) -> None:
    # exited in another context than it was entered: nothing of ours to restore there
    with contextlib.suppress(ValueError):
        REQUEST_SESSIONS.reset(token)


DB = Annotated[Session, Depends(db, scope="function")]


async def read_db(request: Request, session: DB) -> Session:
    """For an endpoint that only reads with ONE statement: on PostgreSQL that statement runs in autocommit
    (one round trip instead of BEGIN, SELECT, COMMIT); one statement sees one snapshot, so nothing is lost.
    Anything that writes, or reads twice and needs both reads to agree, uses ``DB``. On SQLite (whose
    connections take the database lock at BEGIN) it is the request's ``DB`` session itself."""
    factory = request.app.state.read_session_factory
    if factory is request.app.state.session_factory:
        return session
    reader: Session = factory()
    _ended_at_exit(request, reader)
    return reader


ReadDB = Annotated[Session, Depends(read_db, scope="function")]


def business_date(state: Any) -> date:
    """The platform's business date: the setting when fixed, else today in China (``app.state``)."""
    fixed: date | None = state.settings.business_date
    return fixed or datetime.now(tz=CHINA).date()


async def today(request: Request) -> date:  # async: no thread hop for a pure dependency
    return business_date(request.app.state)


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


async def current_user(
    request: Request,
    session: DB,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    _cookie: Annotated[str | None, Security(SESSION_COOKIE)] = None,  # read through request.session
) -> UserRow:
    """A bearer token this process looked up within ``token_cache.TTL_SECONDS`` is answered here on the
    event loop (no I/O); anything that needs the database goes to a worker thread."""
    now: datetime = request.app.state.clock()
    if bearer is not None:
        token = bearer.credentials.strip()
        remembered = remembered_user(session, token, now=now)
        if remembered is not None:
            return remembered
        return await run_in_threadpool(functools.partial(user_for_token, session, token, now=now))
    claims = request.session if "session" in request.scope else {}
    if claims.get("user_id"):
        user = await run_in_threadpool(
            functools.partial(
                user_for_session, session, user_id=claims.get("user_id"), version=claims.get("sv"), now=now
            )
        )
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


# ``Reading``'s routes are declared signed-in by hand (the schemes are not among their dependencies)
SIGNED_IN: dict[str, Any] = {"security": [{"bearer": []}, {"session": []}]}


class Reading(NamedTuple):
    session: Session  # the reader (``read_db``)
    user: UserRow  # the signed-in user (``current_user``)
    today: date  # the business date (``today``)


async def reading(request: Request) -> Reading:
    """``ReadDB``, ``CurrentUser`` and ``Today`` in ONE dependency, for a borrower's read of one statement
    (the busiest endpoints: FastAPI solves one dependency instead of five, the two security schemes
    included). The same rules: the bearer header parsed by the same scheme object, a remembered token's
    user without I/O (expiry and lock checked as ``current_user`` does; a detached row, not attached to
    any session: these reads use only its id); anything
    else (a token not remembered, the session cookie) is ``current_user`` itself on the request's ``DB``
    session. A route using it declares ``openapi_extra=SIGNED_IN`` (the schemes in its OpenAPI entry)."""
    state = request.app.state
    reader: Session = state.read_session_factory()
    _ended_at_exit(request, reader)
    bearer = await BEARER(request)
    user = None
    if bearer is not None:  # a detached row: the reads need only its columns (the id), no session work
        user = remembered_user(None, bearer.credentials.strip(), now=state.clock())
    if user is None:
        session = reader if state.read_session_factory is state.session_factory else await db(request)
        user = await current_user(request, session, bearer)
    return Reading(reader, user, await today(request))


Read = Annotated[Reading, Depends(reading, scope="function")]
