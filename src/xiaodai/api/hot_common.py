"""What the pure ASGI shortcuts (``hot_path``: my loans, a loan, a repayment; ``hot_apply``: an application)
share: the bearer token as ``deps.current_user`` reads it, the JSON write's headers as the routes and
``BodyLimit`` take them, the route FastAPI would select, the app's own exception handlers, and one unit of
work in a worker thread with its commit before the answer (``api.one_hop``'s guarantee)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from xiaodai.accounts.service import AuthError, looked_up_user
from xiaodai.api import errors
from xiaodai.api.body_limit import MAX_BODY_BYTES
from xiaodai.api.deps import REQUEST_SESSIONS, finish_sessions
from xiaodai.api.thread_hop import ThreadHop

MAX_KEY = 100  # the Idempotency-Key header's max_length (routers.journey: repay, apply)
JSON = b"application/json"


def bearer(value: bytes) -> str | None:
    """The credentials of ``Authorization: Bearer <credentials>`` as ``deps.current_user`` takes them."""
    scheme, _, credentials = value.decode("latin-1").partition(" ")
    token = credentials.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_without_cookie(scope: Scope) -> str | None:
    """The request's bearer token; None when there is none, it is not one, or a cookie came with it (web
    session and CSRF checks would have something to do: the full stack's)."""
    token = None
    for name, value in scope["headers"]:
        if name == b"cookie":
            return None
        if name == b"authorization" and token is None:
            token = bearer(value)
            if token is None:
                return None
    return token


def json_write_key(scope: Scope) -> str | None:
    """The Idempotency-Key of a JSON write the shortcut takes: a declared length within ``BodyLimit``'s limit,
    not chunked, ``Content-Type: application/json``, a key of 1 to ``MAX_KEY`` characters; else None (the
    full stack answers it)."""
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
    if key is None or length is None or content_type is None or content_type.lower() != JSON:
        return None
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return None
    text = key.decode("latin-1")
    return text if 1 <= len(text) <= MAX_KEY else None


class LookUpRefusedError(Exception):
    """A bearer token this process does not remember was refused by its look-up: the full stack answers it
    (the work was rolled back; the full stack looks the token up again and answers 401)."""


def token_user(session: Session, token: str, now: datetime, *, attached: bool = True) -> Any:
    """What ``deps.current_user`` runs for a token this process does not remember (``user_for_token``: it
    remembers it again), in the request's own transaction, without the ORM's rows
    (``accounts.looked_up_user``: the same query and rule); refused: ``LookUpRefusedError``. The user as a
    row of ``session``, or with ``attached=False`` detached (only its columns are read, e.g. its id)."""
    try:
        return looked_up_user(session, token, now=now, attached=attached)
    except AuthError:
        raise LookUpRefusedError from None


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body; None when the client went away (nobody to answer, as ``NulGuard`` does)."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body)


def journey_route(path: str, method: str) -> APIRoute:
    """The route FastAPI would have selected (``scope["route"]``: the journey router's own ``APIRoute``)."""
    from xiaodai.api.routers.journey import router

    return next(
        route
        for route in router.routes
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ())
    )


class AppErrors:
    """The app's own exception handlers, chosen as Starlette's ``ExceptionMiddleware`` chooses them; an
    exception none of them takes gets the catch-all answer (``errors.answer_unhandled``)."""

    def __init__(self, app: FastAPI) -> None:
        self._handlers = {
            kind: handler for kind, handler in app.exception_handlers.items() if isinstance(kind, type)
        }
        self._handlers.pop(Exception, None)  # that one is the server's, outside (as in Starlette)

    async def answer(self, scope: Scope, send: Send, exc: Exception) -> None:
        handler = next((self._handlers[k] for k in type(exc).__mro__ if k in self._handlers), None)
        if handler is None:
            await errors.answer_unhandled(scope, nothing, send, started=False)
            return
        response = handler(Request(scope), exc)
        if inspect.isawaitable(response):
            response = await response
        await response(scope, nothing, send)


def in_one_thread(factory: Callable[[], Session], work: Callable[[Session], Any]) -> Any:
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


class WorkerThreads(ThreadHop):
    """A few threads of this process for one kind of hot work (payments, applications), started on first
    use: ``await threads(factory, work)`` runs ``in_one_thread`` in one of them, in a copy of the request's
    context (``api.thread_hop``: one queue put and one ``call_soon_threadsafe`` per hop). At most ``size``
    requests hold a database connection at once; the others wait for a free thread holding nothing, and the
    engine's pool is not made to open and close connections beyond its size under a burst. Cancelled while
    the thread works, a caller still waits for the thread (the commit, or the rollback) before it gives up,
    as ``run_in_threadpool`` does."""

    async def __call__(self, factory: Callable[[], Session], work: Callable[[Session], Any]) -> Any:
        return await self.run(in_one_thread, factory, work)


async def nothing() -> Message:  # a response's receive: never called for a plain response
    return {"type": "http.disconnect"}
