"""The FastAPI application: JSON API (/api, OpenAPI at /docs) and server-rendered pages, one process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from xiaodai import __version__
from xiaodai.accounts.auth_notices import AuthNotices
from xiaodai.api import errors, operations
from xiaodai.api.async_reads import AsyncReads
from xiaodai.api.body_limit import BodyLimit
from xiaodai.api.csrf import CsrfGuard
from xiaodai.api.edge_first import EdgeFirst
from xiaodai.api.loop_repay import SIZE as LOOP_PAYMENTS
from xiaodai.api.loop_work import LoopWork
from xiaodai.api.nul_guard import NulGuard
from xiaodai.api.ratelimit import SlidingWindowLimiter
from xiaodai.api.routers import (
    approvals,
    auth,
    collections,
    complaints,
    documents,
    journey,
    lines,
    notify,
    payments,
    privacy,
    underwriting,
)
from xiaodai.api.session_expiry import SessionExpiry
from xiaodai.api.settings import Settings, from_env
from xiaodai.db.session import is_postgres, make_engine, session_factory
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.privacy import redaction
from xiaodai.web.routes import install as install_web


def _utc_now() -> datetime:
    return datetime.now(tz=UTC)


def sandbox_channel() -> SandboxChannel:
    """The simulated payment channel, seeded by ``XIAODAI_SANDBOX_SEED`` (default 0)."""
    text = os.environ.get("XIAODAI_SANDBOX_SEED", "0")
    return SandboxChannel(seed=int(text) if text.isdigit() else 0)


def operation_id(route: APIRoute) -> str:
    """Short, stable operation ids for generated clients: ``<tag>_<handler>`` (``journey_repay``)."""
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    loop_work: LoopWork | None = app.state.loop_work
    if loop_work is not None:
        loop_work.start()  # on the loop that serves (api.loop_work)
    yield
    if loop_work is not None:
        await loop_work.close()
    for pool in (app.state.async_reads, app.state.payment_connections):
        if pool is not None:
            pool.close()
    notices: AuthNotices | None = getattr(app.state, "auth_notices", None)
    if notices is not None:
        notices.stop()


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = _utc_now) -> FastAPI:
    """The app. ``clock`` (also ``app.state.clock``, replaceable in tests) drives lockouts, the login rate
    limit and session expiry."""
    chosen = settings or from_env()
    redaction.install()  # no personal data in any log line, whoever serves the app
    app = EdgeFirst(
        title="xiaodai",
        version=__version__,
        description="Consumer credit with the true annual rate first, compliant collection and "
        "complaints on a regulatory clock. Authenticate with a bearer token (POST /api/auth/token) or the "
        "web-session cookie.",
        generate_unique_id_function=operation_id,
        docs_url=None,  # served by xiaodai.web.api_docs from local files, with its own policy
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = chosen
    app.state.engine = make_engine(chosen.database_url)
    app.state.session_factory = session_factory(app.state.engine)
    app.state.read_session_factory = (
        session_factory(app.state.engine.execution_options(isolation_level="AUTOCOMMIT"))
        if is_postgres(app.state.engine)
        else app.state.session_factory
    )
    app.state.clock = clock
    # the hot path's reads on PostgreSQL: from the event loop (api.async_reads), closed at shutdown
    app.state.async_reads = (
        AsyncReads(app.state.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
        if is_postgres(app.state.engine)
        else None
    )
    # the hot path's repayments on PostgreSQL: on the event loop, on the driver (api.loop_repay) with a
    # pool of their own; what that path hands back, on the event loop through a session (api.loop_work)
    app.state.payment_connections = (
        AsyncReads(
            app.state.engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
            size=LOOP_PAYMENTS,
        )
        if is_postgres(app.state.engine)
        else None
    )
    app.state.loop_work = (
        LoopWork(app.state.engine.url.render_as_string(hide_password=False))
        if is_postgres(app.state.engine)
        else None
    )
    app.state.channel = sandbox_channel()  # a real channel plugs in behind the same interface

    def current_time() -> datetime:  # looked up on each call: tests replace app.state.clock
        now: datetime = app.state.clock()
        return now

    app.state.login_limiter = SlidingWindowLimiter(limit=chosen.login_attempts_per_minute, window_seconds=60)
    # Middleware added later wraps what was added before: NulGuard and CatchAll sit innermost, inside the
    # session (so a 500 still passes through the security headers), SessionExpiry just inside
    # SessionMiddleware.
    app.add_middleware(NulGuard)
    app.add_middleware(BodyLimit)  # outside NulGuard: an oversized body is refused before anything reads it
    app.add_middleware(errors.CatchAll)
    app.add_middleware(CsrfGuard, https=chosen.https, allowed_origins=chosen.allowed_origins)
    app.add_middleware(
        SessionExpiry,
        clock=current_time,
        idle=chosen.session_idle,
        absolute=chosen.session_absolute,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=chosen.secret_key,
        session_cookie="xiaodai_session",
        same_site="lax",
        https_only=chosen.https,
        max_age=int(chosen.session_absolute.total_seconds()),
    )

    errors.install(app)
    # Routes are matched in the order included, one pattern at a time: the borrower's journey (the busiest
    # paths: my loans, a loan, repay, apply) first. No path of the routers it now precedes overlaps its own.
    app.include_router(journey.router)
    app.include_router(operations.router)
    app.include_router(auth.router)
    app.include_router(auth.staff_router)
    app.include_router(journey.staff_router)
    app.include_router(documents.router)
    app.include_router(collections.router)
    app.include_router(complaints.router)
    app.include_router(privacy.router)
    app.include_router(privacy.staff_router)
    app.include_router(approvals.router)
    app.include_router(lines.router)
    app.include_router(lines.staff_router)
    app.include_router(notify.router)
    app.include_router(notify.staff_router)
    app.include_router(payments.router)
    app.include_router(payments.staff_router)
    app.include_router(underwriting.router)
    install_web(app)
    app.state.hot_path_answers = 0
    # outermost, outside even FastAPI's own layers (api.edge_first), in one layer (api.edge): the request id
    # (covering every log line of the request), the real client for every layer inside, the latency metric,
    # and the security headers on every response; directly inside it an application (api.hot_apply), my
    # loans, a loan and a repayment (api.hot_path) answered without the layers and the dependency solving
    # they would pass untouched (anything else goes on to the full stack)
    app.edge_outermost(https=chosen.https, trusted=chosen.trusted_proxies)
    return app


def auth_notices_url(engine: Engine) -> str | None:
    """Where a served process listens for changes to users and tokens (``accounts.auth_notices``): the
    database itself (PostgreSQL), or ``XIAODAI_AUTH_NOTICES_URL`` (e.g. PostgreSQL directly when the pool
    goes through PgBouncer in transaction mode, which does not carry LISTEN); ``XIAODAI_AUTH_NOTICES=off``:
    nowhere (tokens are then remembered for 2 s only). SQLite: nowhere."""
    if os.environ.get("XIAODAI_AUTH_NOTICES", "on").strip().lower() in ("off", "0", "false", "no"):
        return None
    configured = os.environ.get("XIAODAI_AUTH_NOTICES_URL", "").strip()
    if configured:
        return configured
    if not is_postgres(engine):
        return None
    return str(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))


def served_app() -> FastAPI:
    """The app as ``xiaodai serve`` runs it (uvicorn factory, also in each worker process): logging
    configured first, settings from the environment."""
    from xiaodai.api.gc_tuning import tune_for_serving
    from xiaodai.logging_setup import configure

    configure(default_level="INFO", writer_thread=True)
    app = create_app()
    url = auth_notices_url(app.state.engine)
    if url is not None:  # hear every change to a user or a token (accounts.auth_notices)
        app.state.auth_notices = AuthNotices(url).start()
    tune_for_serving()  # the p99 tail was the cyclic collector (api/gc_tuning.py)
    return app
