"""The FastAPI application: JSON API (/api, OpenAPI at /docs) and server-rendered pages, one process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.middleware.sessions import SessionMiddleware

from xiaodai import __version__
from xiaodai.api import errors
from xiaodai.api.routers import auth, collections, complaints, journey
from xiaodai.api.settings import Settings, from_env
from xiaodai.db.session import make_engine, session_factory
from xiaodai.web.routes import install as install_web

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def create_app(settings: Settings | None = None) -> FastAPI:
    chosen = settings or from_env()
    app = FastAPI(
        title="xiaodai",
        version=__version__,
        description="Consumer credit with the true annual rate first, compliant collection and "
        "complaints on a regulatory clock.",
    )
    app.state.settings = chosen
    app.state.engine = make_engine(chosen.database_url)
    app.state.session_factory = session_factory(app.state.engine)
    app.add_middleware(
        SessionMiddleware,
        secret_key=chosen.secret_key,
        session_cookie="xiaodai_session",
        same_site="lax",
        https_only=chosen.https,
        max_age=8 * 3600,
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if chosen.https:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    errors.install(app)
    app.include_router(auth.router)
    app.include_router(journey.router)
    app.include_router(journey.staff_router)
    app.include_router(collections.router)
    app.include_router(complaints.router)
    install_web(app)
    return app
