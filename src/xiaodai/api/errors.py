"""Domain errors → HTTP, mapped once. Every error body is {"error": code, "message": text}.

Anything unmapped is a bug: ``CatchAll`` logs its traceback with a reference and answers a generic 500
(JSON under /api, a plain bilingual page elsewhere), so no stack trace ever reaches a user.
"""

from __future__ import annotations

import html
import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiaodai.accounts.service import AccountError
from xiaodai.api.ratelimit import RateLimitedError
from xiaodai.approvals.service import ApprovalError
from xiaodai.complaints.service import ComplaintError
from xiaodai.journey.service import JourneyError
from xiaodai.lines.limit import LineError
from xiaodai.money.money import MoneyError
from xiaodai.money.parse import DateInputError
from xiaodai.payments.service import PaymentError
from xiaodai.pricing.quote import CapExceededError
from xiaodai.privacy import redaction
from xiaodai.privacy.service import PrivacyError
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import IllegalTransitionError
from xiaodai.underwriting.decision import ApplicationError
from xiaodai.underwriting.service import RegistryError
from xiaodai.web.i18n import STRINGS

log = logging.getLogger("xiaodai.errors")

MAPPED: tuple[type[Exception], ...] = (
    AccountError,
    JourneyError,
    LineError,
    ServicingError,
    RegistryError,
    ComplaintError,
    PrivacyError,
    ApprovalError,
)


def _body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            _body("invalid_request", f"{where}: {first['msg']}" if where else str(first["msg"])),
            status_code=422,
        )

    for kind in MAPPED:

        @app.exception_handler(kind)
        async def domain(_: Request, exc: Exception) -> JSONResponse:
            status = int(getattr(exc, "status", 400))
            return JSONResponse(_body(type(exc).__name__, str(exc)), status_code=status)

    @app.exception_handler(PaymentError)
    async def payment(_: Request, exc: PaymentError) -> JSONResponse:
        body = {**_body(type(exc).__name__, str(exc)), "reasons": list(exc.reasons)}
        return JSONResponse(body, status_code=int(getattr(exc, "status", 400)))

    @app.exception_handler(RateLimitedError)
    async def rate_limited(_: Request, exc: RateLimitedError) -> JSONResponse:
        return JSONResponse(
            _body("RateLimited", str(exc)),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )

    @app.exception_handler(IllegalTransitionError)
    async def illegal(_: Request, exc: IllegalTransitionError) -> JSONResponse:
        return JSONResponse(_body("IllegalTransition", str(exc)), status_code=409)

    @app.exception_handler(CapExceededError)
    async def cap(_: Request, exc: CapExceededError) -> JSONResponse:
        return JSONResponse({**_body("CapExceeded", str(exc)), "cap": exc.verdict.to_json()}, status_code=422)

    @app.exception_handler(ApplicationError)
    async def application(_: Request, exc: ApplicationError) -> JSONResponse:
        return JSONResponse(_body("InvalidApplication", str(exc)), status_code=422)

    @app.exception_handler(StaleDataError)
    async def stale(_: Request, exc: StaleDataError) -> JSONResponse:
        # A loan changed (its version moved) between this request's read and its write: nothing was saved.
        message = "the loan changed while this request ran; nothing was saved: send it again"
        return JSONResponse(_body("ConcurrentChange", message), status_code=409)

    @app.exception_handler(MoneyError)
    async def money(_: Request, exc: MoneyError) -> JSONResponse:
        return JSONResponse(_body("InvalidAmount", str(exc)), status_code=422)

    @app.exception_handler(DateInputError)
    async def bad_date(_: Request, exc: DateInputError) -> JSONResponse:
        return JSONResponse(_body("InvalidDate", str(exc)), status_code=422)


INTERNAL_MESSAGE = "an internal error occurred; it has been logged: quote the reference if you contact us"


def internal_error_response(path: str, reference: str) -> JSONResponse | HTMLResponse:
    """The generic answer to an unhandled error: nothing about the error itself, only a reference."""
    if path.startswith("/api"):
        return JSONResponse(
            {"error": "internal_error", "message": INTERNAL_MESSAGE, "reference": reference}, status_code=500
        )
    ref = html.escape(reference)
    lines = "".join(
        f'<p lang="{lang}">{html.escape(STRINGS["internal_error"][lang])} '
        f"{html.escape(STRINGS['reference'][lang])}: <code>{ref}</code></p>"
        for lang in ("zh", "en")
    )
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="/static/app.css">'
        f"<title>500 · {html.escape(STRINGS['brand']['zh'])}</title></head>"
        f"<body><main><h1>{html.escape(STRINGS['error']['zh'])} / {html.escape(STRINGS['error']['en'])}</h1>"
        f'{lines}<p><a href="/">{html.escape(STRINGS["brand"]["zh"])}</a></p></main></body></html>'
    )
    return HTMLResponse(page, status_code=500)


class CatchAll:
    """ASGI middleware: turn an unhandled exception into ``internal_error_response``, logged once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            await answer_unhandled(scope, receive, send, started=started)


def error_reference() -> str:
    """A random reference (16 hex digits) that the log's redaction leaves as it is: about 1 in 1,000 of them
    holds a run of digits shaped like a phone or card number, which the log line would mask — and the
    reference a user quotes would then be found nowhere."""
    while True:
        reference = secrets.token_hex(8)
        if redaction.redact(reference) == reference:
            return reference


async def answer_unhandled(scope: Scope, receive: Receive, send: Send, *, started: bool) -> None:
    """In an ``except`` block: log the error being handled once, with a reference, and answer
    ``internal_error_response`` (or re-raise it when the response has ``started``: too late to answer, the
    server closes the connection). ``CatchAll`` and ``api.hot_path`` answer unhandled errors with it."""
    reference = error_reference()
    path = str(scope.get("path", ""))
    log.exception("unhandled error, reference %s, on %s %s", reference, scope.get("method"), path)
    if started:
        raise  # noqa: PLE0704 - called from an except block: the error being handled
    await internal_error_response(path, reference)(scope, receive, send)
