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
  as ``deps.current_user`` looks it up — ``accounts.user_for_token``'s query and rule — on PostgreSQL
  before the payment's transaction, on the event loop as the reads look it up, elsewhere
  (``accounts.looked_up_user``, without its ORM rows) in the payment's own transaction, first; if that
  look-up refuses it, nothing is written (the transaction rolled back) and the request is passed on (the
  full stack looks again and answers);
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
commit is an error, never a 2xx) — for a repayment on PostgreSQL its transaction runs on the event loop
itself, straight on the driver (``api.loop_repay``: the same functions' statements and answer, two round
trips, no session; a token not remembered is looked up first, as the reads look it up), and what that path
hands back (a payment of exactly the payoff) the session's function runs on the event loop too
(``api.loop_work``: a greenlet, the asynchronous driver); elsewhere (SQLite, a test client's other loop, a
payment rail that blocks) in one of the process's few payment threads (``in_payment_thread``); a domain
error is answered by the app's own exception handlers, anything else as ``errors.CatchAll`` answers it
(logged with a reference, a generic 500). ``scope["route"]`` is the
route's, so the latency metric and the access line name the same route template.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, serialize_response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from xiaodai.accounts.service import AuthError, remembered_user, remembered_user_id
from xiaodai.api.async_reads import AsyncReads
from xiaodai.api.deps import MAX_ROW_ID, business_date
from xiaodai.api.hot_common import (
    JSON,
    AppErrors,
    LookUpRefusedError,
    WorkerThreads,
    bearer_without_cookie,
    in_one_thread,
    journey_route,
    json_write_key,
    read_body,
    token_user,
)
from xiaodai.api.loan_answers import json_bytes
from xiaodai.api.loop_repay import SessionPathError, repay_on_loop
from xiaodai.api.loop_work import LoopWork, to_its_end
from xiaodai.api.nul_guard import replay_body
from xiaodai.api.schemas import Repayment
from xiaodai.journey import payment_rail
from xiaodai.journey import service as journey
from xiaodai.money.parse import parse_amount_fen

_LOAN_PATH = re.compile(r"/api/loans/([1-9][0-9]{0,18})(/repayments)?")
_ROUTES = {
    "loans": ("/api/loans", "GET"),
    "loan": ("/api/loans/{loan_id}", "GET"),
    "repay": ("/api/loans/{loan_id}/repayments", "POST"),
}


class HotPath:
    """ASGI middleware, directly inside ``Edge``; ``app.state.hot_path_answers`` counts the requests it
    answered itself (the tests check which way a request went)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[str, APIRoute] | None = None
        self._errors: AppErrors | None = None

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
        app: FastAPI = scope["app"]
        token = bearer_without_cookie(scope)
        if token is None:
            return False
        state = app.state
        now = state.clock()
        reads: AsyncReads | None = state.async_reads
        try:
            if reads is None:  # SQLite: the journey's reads take the user as a row (detached: columns only)
                user, remembered_id = remembered_user(None, token, now=now), None
            else:  # PostgreSQL: the id only, no user row built
                user, remembered_id = None, remembered_user_id(token, now=now)
        except AuthError:
            return False  # the full stack refuses it, with its own answer
        # None: a token this process does not remember (any more: ``token_cache``) is looked up here with
        # ``user_for_token`` as ``deps.current_user`` does; refused: the full stack answers
        today = business_date(state)

        def read(session: Session) -> Any:
            reader = user if user is not None else token_user(session, token, now)
            if loan_id is None:
                return journey.my_loans(session, user=reader)
            return journey.loan_detail(session, user=reader, loan_id=loan_id, today=today)

        scope["route"] = self._route(app, name)
        try:
            if reads is None:  # SQLite: the request's session, in one worker thread
                content = await run_in_threadpool(in_one_thread, state.read_session_factory, read)
                body = json_bytes(content)
            else:  # PostgreSQL: from the event loop (api.async_reads), a forgotten token looked up first
                user_id = (
                    remembered_id if remembered_id is not None else await _token_user_id(reads, token, now)
                )
                if loan_id is None:
                    body = await reads.my_loans(user_id=user_id)
                else:
                    body = await reads.loan_detail(user_id=user_id, loan_id=loan_id, today=today)
        except LookUpRefusedError:
            del scope["route"]
            return False
        except Exception as exc:
            await self._failed(app, scope, send, exc)
        else:
            await _send(send, body, 200)
        app.state.hot_path_answers += 1
        return True

    async def _repay(self, scope: Scope, receive: Receive, send: Send, loan_id: int) -> Receive | None:
        """None when answered here; otherwise the ``receive`` to pass on (the body replayed if read)."""
        app: FastAPI = scope["app"]
        token = bearer_without_cookie(scope)
        if token is None:
            return receive
        now = app.state.clock()
        try:
            remembered_id = remembered_user_id(token, now=now)  # the id only: no user row is built
        except AuthError:
            return receive  # the full stack refuses it, with its own answer
        # None: a token this process does not remember (any more: ``token_cache``) is looked up in the
        # payment's own transaction, as ``deps.current_user`` looks it up in the request's session
        key = json_write_key(scope)
        if key is None:
            return receive
        payload = await read_body(receive)
        if payload is None:
            return None  # the client went away: nobody to answer
        amount = _repayment_amount(payload)
        if amount is None:
            return replay_body(payload, receive)
        state = app.state
        today = business_date(state)
        route = scope["route"] = self._route(app, "repay")

        def pay(session: Session) -> dict[str, Any]:
            payer = (
                remembered_id
                if remembered_id is not None
                else token_user(session, token, now, attached=False).id
            )
            fen = parse_amount_fen(amount)
            return journey.repay_as(
                session, user_id=payer, loan_id=loan_id, amount_fen=fen, on=today, key=key
            )

        try:
            on_loop = not payment_rail.blocks(payment_rail.RAIL)
            pool: AsyncReads | None = state.payment_connections
            result = None
            if pool is not None and on_loop:  # PostgreSQL: on the driver, on this event loop
                payer = remembered_id
                if payer is None:  # looked up as the reads look it up (autocommit, on the event loop)
                    payer = await _token_user_id(state.async_reads, token, now)
                fen = parse_amount_fen(amount)
                try:
                    result = await to_its_end(
                        repay_on_loop(pool, user_id=payer, loan_id=loan_id, amount_fen=fen, on=today, key=key)
                    )
                except SessionPathError:
                    result = None  # not one for the driver's path (nothing was written): the session's
            if result is None:
                loop_work: LoopWork | None = state.loop_work
                if loop_work is not None and loop_work.ready() and on_loop:
                    result = await loop_work.run(in_one_thread, pay)  # on this event loop (PostgreSQL)
                else:
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
        except LookUpRefusedError:
            return replay_body(payload, receive)
        except Exception as exc:
            await self._failed(app, scope, send, exc)
        else:
            await _send(send, answer, route.status_code or 200)
        app.state.hot_path_answers += 1
        return None

    # --- shared -------------------------------------------------------------------------------------------

    def _route(self, app: FastAPI, name: str) -> APIRoute:
        """The route FastAPI would have selected for ``name`` (``loans``, ``loan``, ``repay``)."""
        if self._routes is None:
            self._routes = {name: journey_route(path, method) for name, (path, method) in _ROUTES.items()}
            self._errors = AppErrors(app)
        return self._routes[name]

    async def _failed(self, app: FastAPI, scope: Scope, send: Send, exc: Exception) -> None:
        self._route(app, "repay")  # the handlers are read with the routes
        assert self._errors is not None
        await self._errors.answer(scope, send, exc)


PAYMENT_THREADS = 8
# a payment's work and commit run in one of these (``hot_common.WorkerThreads``)
in_payment_thread = WorkerThreads(PAYMENT_THREADS, "xiaodai-payment")


async def _token_user_id(reads: AsyncReads, token: str, now: datetime) -> int:
    """A read's look-up of a bearer token this process no longer remembers (the memory lasts 2 s: with many
    borrowers, a good share of the reads), on the event loop with the reads' own connections; refused:
    ``LookUpRefusedError`` (the full stack looks again and answers 401)."""
    try:
        return await reads.token_user_id(token, now=now)
    except AuthError:
        raise LookUpRefusedError from None


def _repayment_amount(body: bytes) -> str | None:
    """The amount text when ``schemas.Repayment`` accepts the body as FastAPI would parse it, with no NUL
    (raw or escaped) anywhere; None sends the request to the full stack, which answers it."""
    if b"\x00" in body or b"\\u0000" in body:
        return None
    try:
        return Repayment.model_validate(json.loads(body)).amount
    except (ValueError, ValidationError, RecursionError):  # JSONDecodeError and UnicodeDecodeError too
        return None


async def _send(send: Send, body: bytes, status: int) -> None:
    """As ``Response(body, status, media_type="application/json")`` sends it."""
    headers = [(b"content-length", str(len(body)).encode("latin-1")), (b"content-type", JSON)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
