"""The three busiest API operations answered in one pure ASGI layer: my loans (``GET /api/loans``), a loan's
detail (``GET /api/loans/{loan_id}``) and a borrower's repayment (``POST /api/loans/{loan_id}/repayments``).

Served by the full stack, each of these requests passes about ten ASGI layers (the web session and its
expiry, CSRF, the error page, the body limit, the NUL guard, FastAPI's exception and exit-stack layers),
route matching and FastAPI's dependency solving before the endpoint runs; on the read path that machinery
cost more CPU than the read itself. ``HotPath`` sits directly inside ``api.edge.Edge`` (request id, client
address, latency metric, security headers: unchanged) and answers a request itself ONLY when every layer it
skips would have let it through untouched and FastAPI would have called the endpoint with these values:

- the method and the path are exactly one of the three (``loan_id`` in canonical digits, 1 … 2^63-1), the
  query string is empty and no root path is set;
- a bearer token (``Authorization: Bearer …``, parsed as ``deps.BEARER`` parses it) that this process
  remembers (``accounts.token_cache``), not expired and its account not locked, and NO ``Cookie`` header (so
  the web session, its expiry and CSRF have nothing to do: a bearer request carries no ambient authority).
  For the repayment a token this process does not remember (any more: the memory lasts 2 s) is looked up
  as ``deps.current_user`` looks it up — ``accounts.user_for_token`` in the request's own session, i.e. in
  the payment's transaction, first — and if that look-up refuses it, the transaction is rolled back and the
  request passed on (the full stack looks again and answers);
- for the repayment: ``Content-Type: application/json``, a ``Content-Length`` within ``BodyLimit``'s limit
  (no chunked body), no NUL anywhere in the body (``NulGuard``), an ``Idempotency-Key`` of 1–100
  characters and a body that ``schemas.Repayment`` accepts.

Anything else — a token not remembered on the reads (its look-up is the full path's), an expired or refused
token, a cookie, a bad body, a query string — is passed to the full stack unchanged (a body already read is
replayed), which answers exactly as before, errors included. So there is one set of rules, the full
stack's, and this layer is a shortcut for the requests that pass them all.

What the shortcut does is what the routes do (the same ``journey`` functions, the same answers byte for
byte; ``tests/api/test_hot_path.py`` compares them with the full stack's): the endpoint and the commit of its
sessions run in ONE worker thread (``deps.finish_sessions``: committed before the answer is sent; a failed
commit is an error, never a 2xx) — for a repayment one of the process's few payment threads
(``in_payment_thread``); a domain error is answered by the app's own exception handlers, anything
else as ``errors.CatchAll`` answers it (logged with a reference, a generic 500). ``scope["route"]`` is the
route's, so the latency metric and the access line name the same route template.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, serialize_response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiaodai.accounts.service import AuthError, remembered_user, user_for_token
from xiaodai.api import errors
from xiaodai.api.async_reads import AsyncReads
from xiaodai.api.body_limit import MAX_BODY_BYTES
from xiaodai.api.deps import MAX_ROW_ID, REQUEST_SESSIONS, business_date, finish_sessions
from xiaodai.api.loan_answers import json_answer
from xiaodai.api.nul_guard import replay_body
from xiaodai.api.schemas import Repayment
from xiaodai.journey import service as journey
from xiaodai.money.parse import parse_amount_fen

_LOAN_PATH = re.compile(r"/api/loans/([1-9][0-9]{0,18})(/repayments)?")
_MAX_KEY = 100  # the Idempotency-Key header's max_length (routers.journey.repay)
_JSON = b"application/json"


class HotPath:
    """ASGI middleware, directly inside ``Edge``; ``app.state.hot_path_answers`` counts the requests it
    answered itself (the tests check which way a request went)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[str, APIRoute] | None = None
        self._handlers: dict[type[BaseException], Callable[..., Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("query_string") and not scope.get("root_path"):
            method, path = scope["method"], scope["path"]
            if method == "GET" and path == "/api/loans":
                if await self._read(scope, send, "loans", None):
                    return
            elif path.startswith("/api/loans/") and method in ("GET", "POST"):
                found = _LOAN_PATH.fullmatch(path)
                if found is not None and int(found[1]) <= MAX_ROW_ID:
                    loan_id = int(found[1])
                    if method == "GET" and found[2] is None:
                        if await self._read(scope, send, "loan", loan_id):
                            return
                    elif method == "POST" and found[2] is not None:
                        passed_on = await self._repay(scope, receive, send, loan_id)
                        if passed_on is None:
                            return
                        receive = passed_on
        await self.app(scope, receive, send)

    # --- the three operations ---------------------------------------------------------------------------

    async def _read(self, scope: Scope, send: Send, name: str, loan_id: int | None) -> bool:
        app, user = self._signed_in(scope)
        if user is None:
            return False
        state = app.state
        today = business_date(state)

        def read(session: Session) -> Any:
            if loan_id is None:
                return journey.my_loans(session, user=user)
            return journey.loan_detail(session, user=user, loan_id=loan_id, today=today)

        scope["route"] = self._route(app, name)
        reads: AsyncReads | None = state.async_reads
        try:
            if reads is None:  # SQLite: the request's session, in one worker thread
                content = await run_in_threadpool(_in_one_thread, state.read_session_factory, read)
            elif loan_id is None:  # PostgreSQL: from the event loop (api.async_reads)
                content = await reads.my_loans(user_id=user.id)
            else:
                content = await reads.loan_detail(user_id=user.id, loan_id=loan_id, today=today)
        except Exception as exc:
            await self._failed(app, scope, send, exc)
        else:
            await _send(send, bytes(json_answer(content).body), 200)
        app.state.hot_path_answers += 1
        return True

    async def _repay(self, scope: Scope, receive: Receive, send: Send, loan_id: int) -> Receive | None:
        """None when answered here; otherwise the ``receive`` to pass on (the body replayed if read)."""
        app, token = self._bearer(scope)
        if token is None:
            return receive
        now = app.state.clock()
        try:
            user = remembered_user(None, token, now=now)
        except AuthError:
            return receive  # the full stack refuses it, with its own answer
        # user None: a token this process does not remember (any more: ``token_cache.TTL_SECONDS``) is looked
        # up in the payment's own transaction, as ``deps.current_user`` looks it up in the request's session
        key = _repayment_headers(scope)
        if key is None:
            return receive
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away: nobody to answer (as NulGuard does)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        payload = bytes(body)
        amount = _repayment_amount(payload)
        if amount is None:
            return replay_body(payload, receive)
        state = app.state
        today = business_date(state)
        route = scope["route"] = self._route(app, "repay")

        def pay(session: Session) -> dict[str, Any]:
            payer = user
            if payer is None:
                try:
                    payer = user_for_token(session, token, now=now)
                except AuthError:
                    raise _LookUpRefusedError from None  # rolled back; the full stack looks again, answers
            fen = parse_amount_fen(amount)
            return journey.repay(session, user=payer, loan_id=loan_id, amount_fen=fen, on=today, key=key)

        try:
            result = await in_payment_thread(state.session_factory, pay)
            answer = await serialize_response(
                field=route.response_field,
                response_content=result,
                include=route.response_model_include,
                exclude=route.response_model_exclude,
                by_alias=route.response_model_by_alias,
                exclude_unset=route.response_model_exclude_unset,
                exclude_defaults=route.response_model_exclude_defaults,
                exclude_none=route.response_model_exclude_none,
                is_coroutine=True,
                dump_json=True,
            )
        except _LookUpRefusedError:
            return replay_body(payload, receive)
        except Exception as exc:
            await self._failed(app, scope, send, exc)
        else:
            await _send(send, answer, route.status_code or 200)
        app.state.hot_path_answers += 1
        return None

    # --- shared -------------------------------------------------------------------------------------------

    def _signed_in(self, scope: Scope) -> tuple[FastAPI, Any]:
        """The app and the remembered bearer token's user, or None for anything the full stack must see."""
        app, token = self._bearer(scope)
        if token is None:
            return app, None
        try:
            user = remembered_user(None, token, now=app.state.clock())
        except AuthError:
            return app, None  # the full stack refuses it, with its own answer
        return app, user

    def _bearer(self, scope: Scope) -> tuple[FastAPI, str | None]:
        """The app and the request's bearer token; None when there is none or a cookie came with it."""
        app: FastAPI = scope["app"]
        token = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                return app, None
            if name == b"authorization" and token is None:
                token = _bearer(value)
                if token is None:
                    return app, None
        return app, token

    def _route(self, app: FastAPI, name: str) -> APIRoute:
        """The route FastAPI would have selected (``scope["route"]``: the router's own ``APIRoute``)."""
        if self._routes is None:
            from xiaodai.api.routers.journey import router

            wanted = {
                "loans": ("/api/loans", "GET"),
                "loan": ("/api/loans/{loan_id}", "GET"),
                "repay": ("/api/loans/{loan_id}/repayments", "POST"),
            }
            self._routes = {
                key: route
                for key, (path, method) in wanted.items()
                for route in router.routes
                if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ())
            }
            self._handlers = {
                kind: handler for kind, handler in app.exception_handlers.items() if isinstance(kind, type)
            }
            self._handlers.pop(Exception, None)  # that one is the server's, outside (as in Starlette)
        return self._routes[name]

    async def _failed(self, app: FastAPI, scope: Scope, send: Send, exc: Exception) -> None:
        handler = next((self._handlers[k] for k in type(exc).__mro__ if k in self._handlers), None)
        if handler is None:
            await errors.answer_unhandled(scope, _nothing, send, started=False)
            return
        response = handler(Request(scope), exc)
        if inspect.isawaitable(response):
            response = await response
        await response(scope, _nothing, send)


PAYMENT_THREADS = 8
_payments: list[ThreadPoolExecutor] = []  # this process's payment threads, started on first use


async def in_payment_thread(factory: Callable[[], Session], work: Callable[[Session], Any]) -> Any:
    """``_in_one_thread`` in one of this process's ``PAYMENT_THREADS`` payment threads, in a copy of the
    request's context (as Starlette's ``run_in_threadpool``; a quarter of its CPU per hop). At most that many
    payments hold a database connection at once: a payment waits for a free thread holding nothing, and the
    engine's pool is not made to open and close connections beyond its size under a burst. Cancelled while
    the thread works, it still waits for the thread (the commit, or the rollback) before it gives up, as
    ``run_in_threadpool`` does."""
    if not _payments:
        _payments.append(ThreadPoolExecutor(PAYMENT_THREADS, thread_name_prefix="xiaodai-payment"))
    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(
        _payments[0], context.run, _in_one_thread, factory, work
    )
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(future)
        except asyncio.CancelledError:
            if not future.done():
                cancelled = True
                continue
            raise
        if cancelled:
            raise asyncio.CancelledError
        return result


class _LookUpRefusedError(Exception):
    """A repayment's bearer token, not remembered, was refused by its look-up: the full stack answers."""


def _in_one_thread(factory: Callable[[], Session], work: Callable[[Session], Any]) -> Any:
    """``work`` on a new session, then that session committed (or rolled back) and closed, in this worker
    thread (``api.one_hop``'s guarantee: the commit comes before the answer; a failed commit raises)."""
    REQUEST_SESSIONS.set((factory(),))  # this thread's copy of the request's context
    try:
        result = work(REQUEST_SESSIONS.get()[0])
    except BaseException:
        finish_sessions(commit=False)
        raise
    finish_sessions(commit=True)
    return result


def _bearer(value: bytes) -> str | None:
    """The credentials of ``Authorization: Bearer <credentials>`` as ``deps.current_user`` takes them."""
    scheme, _, credentials = value.decode("latin-1").partition(" ")
    token = credentials.strip()
    return token if scheme.lower() == "bearer" and token else None


def _repayment_headers(scope: Scope) -> str | None:
    """The Idempotency-Key, when the headers are those the shortcut takes (else None: the full stack)."""
    key = length = content_type = None
    for name, value in scope["headers"]:
        if name == b"idempotency-key":
            key = value if key is None else key
        elif name == b"content-length":
            length = value if length is None else length
        elif name == b"content-type":
            content_type = value if content_type is None else content_type
        elif name == b"transfer-encoding":
            return None
    if key is None or length is None or content_type is None or content_type.lower() != _JSON:
        return None
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return None
    text = key.decode("latin-1")
    return text if 1 <= len(text) <= _MAX_KEY else None


def _repayment_amount(body: bytes) -> str | None:
    """The amount text when ``schemas.Repayment`` accepts the body as FastAPI would parse it, with no NUL
    (raw or escaped) anywhere; None sends the request to the full stack, which answers it."""
    if b"\x00" in body or b"\\u0000" in body:
        return None
    try:
        return Repayment.model_validate(json.loads(body)).amount
    except (ValueError, ValidationError, RecursionError):  # JSONDecodeError and UnicodeDecodeError too
        return None


async def _nothing() -> Message:  # a response's receive: never called for a plain response
    return {"type": "http.disconnect"}


async def _send(send: Send, body: bytes, status: int) -> None:
    """As ``Response(body, status, media_type="application/json")`` sends it."""
    headers = [(b"content-length", str(len(body)).encode("latin-1")), (b"content-type", _JSON)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
