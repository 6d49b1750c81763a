"""A borrower's application (``POST /api/applications``: the decision and the offer) answered in one pure
ASGI layer, under the rule of ``api.hot_path``: it answers ONLY when every layer it skips would have let the
request through untouched and FastAPI would have called the endpoint with these values; anything else goes
on to the full stack, which answers it exactly as before (a body already read is replayed).

Served by the full stack, an application passes about ten ASGI layers (the web session and its expiry,
CSRF, the error page, the body limit, the NUL guard, FastAPI's exception and exit-stack layers), route
matching and FastAPI's solving of six dependencies (the body model, the session, the two security schemes,
the current user, the business date, the Idempotency-Key header) before ``journey.submit_application``
runs; about a third of the request's CPU. ``HotApply`` sits directly inside ``api.edge.Edge`` (request id,
client address, latency metric, security headers: unchanged) and takes a request when:

- the method is POST, the path exactly ``/api/applications``, the query string empty, no root path;
- a bearer token (``Authorization: Bearer …``, parsed as ``deps.BEARER`` parses it) that this process
  remembers (``accounts.token_cache``), not expired and its account not locked, and NO ``Cookie`` header
  (so the web session, its expiry and CSRF have nothing to do: a bearer request carries no ambient
  authority);
- ``Content-Type: application/json``, a ``Content-Length`` within ``BodyLimit``'s limit (no chunked body),
  no NUL anywhere in the body, raw or escaped (``NulGuard``), an ``Idempotency-Key`` of 1–100 characters
  (the route's ``Header(min_length=1, max_length=100)``) and a body that ``schemas.ApplicationCreate``
  accepts, parsed as FastAPI parses it.

What it does is what the route does: ``journey.submit_application`` with the same arguments (the user as a
row of the request's session, as ``deps.current_user`` gives it), then the commit of the session, both in
ONE worker thread, one of the process's few application threads (``in_application_thread``; committed
before the answer is sent; a failed commit is an error, never a 2xx); the
answer is the route's ``json_answer`` (201). A domain error is answered by the app's own exception handlers,
anything else as ``errors.CatchAll`` answers it (logged with a reference, a generic 500).
``scope["route"]`` is the route's, so the latency metric and the access line name the same route template.
``tests/api/test_hot_apply.py`` compares its answers with the full stack's, byte for byte.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from xiaodai import json_text
from xiaodai.accounts.service import AuthError, remembered_user, remembered_user_id
from xiaodai.api.deps import business_date
from xiaodai.api.hot_common import (
    AppErrors,
    LookUpRefusedError,
    WorkerThreads,
    bearer_without_cookie,
    journey_route,
    json_write_key,
    nothing,
    read_body,
    token_user,
)
from xiaodai.api.loan_answers import json_answer
from xiaodai.api.nul_guard import replay_body
from xiaodai.api.schemas import ApplicationCreate
from xiaodai.journey import service as journey

PATH = "/api/applications"


class HotApply:
    """ASGI middleware, directly inside ``Edge``; ``app.state.hot_apply_answers`` counts the applications it
    answered itself (the tests check which way a request went)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route: APIRoute | None = None
        self._errors: AppErrors | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] == "POST"
            and not scope.get("query_string")
            and not scope.get("root_path")
        ):
            passed_on = await self._apply(scope, receive, send)
            if passed_on is None:
                return
            receive = passed_on
        await self.app(scope, receive, send)

    async def _apply(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when answered here; otherwise the ``receive`` to pass on (the body replayed if read)."""
        app: FastAPI = scope["app"]
        checked = _headers(scope)
        if checked is None:
            return receive
        token, key = checked
        state = app.state
        now: datetime = state.clock()
        try:
            remembered_user_id(token, now=now)  # None: not remembered, looked up in the application's work
        except AuthError:
            return receive  # the full stack refuses it, with its own answer
        payload = await read_body(receive)
        if payload is None:
            return None  # the client went away: nobody to answer
        form = _application(payload)
        if form is None:
            return replay_body(payload, receive)
        today = business_date(state)
        route = scope["route"] = self._route_of(app)

        def submit(session: Session) -> Any:
            # as deps.current_user: the remembered user as a row of the request's session (the clock read
            # once, on the event loop, as the dependency reads it), else the token looked up
            user = remembered_user(session, token, now=now) or token_user(session, token, now)
            return journey.submit_application(
                session,
                user=user,
                payload=form.model_dump(),
                idempotency_key=key,
                credit_check_consent=form.consent_credit_check,
                today=today,
                channel="api",
            )

        try:
            result = await in_application_thread(state.session_factory, submit)
            response = json_answer(result, status_code=route.status_code or 201)
        except LookUpRefusedError:
            del scope["route"]
            return replay_body(payload, receive)
        except Exception as exc:
            await self._failed(app, scope, send, exc)
        else:
            await response(scope, nothing, send)
        state.hot_apply_answers = getattr(state, "hot_apply_answers", 0) + 1
        return None

    def _route_of(self, app: FastAPI) -> APIRoute:
        """The route FastAPI would have selected (``scope["route"]``: the router's own ``APIRoute``)."""
        if self._route is None:
            self._route = journey_route(PATH, "POST")
            self._errors = AppErrors(app)
        return self._route

    async def _failed(self, app: FastAPI, scope: Scope, send: Send, exc: Exception) -> None:
        self._route_of(app)  # the handlers are read with the route
        assert self._errors is not None
        await self._errors.answer(scope, send, exc)


APPLICATION_THREADS = 8
# an application's work and commit run in one of these (``hot_common.WorkerThreads``, as payments in theirs)
in_application_thread = WorkerThreads(APPLICATION_THREADS, "xiaodai-application")


def _headers(scope: Scope) -> tuple[str, str] | None:
    """The bearer token and the Idempotency-Key, when the headers are those the shortcut takes (else None:
    the full stack): a bearer token and no cookie, a JSON body of a declared length within the limit."""
    token = bearer_without_cookie(scope)
    key = json_write_key(scope) if token is not None else None
    return None if token is None or key is None else (token, key)


def _application(body: bytes) -> ApplicationCreate | None:
    """The body as FastAPI would give it to the route (``json.loads``, then the model), with no NUL (raw or
    escaped) anywhere; None sends the request to the full stack, which answers it."""
    if b"\x00" in body or b"\\u0000" in body:
        return None
    try:
        return ApplicationCreate.model_validate(json_text.parsed(body))  # as json.loads(body)
    except (ValueError, ValidationError, RecursionError):  # JSONDecodeError and UnicodeDecodeError too
        return None
