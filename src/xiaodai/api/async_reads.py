"""On PostgreSQL, the hot path's two reads (my loans, a loan's detail) ask the database from the event loop
itself, on psycopg's asynchronous connections: no worker thread (each hop hands the GIL between the loop and
a thread twice, and wakes a thread) and no ORM session around a single statement.

It is the same read as ``deps.ReadDB``'s: the same statements (``journey.loan_reads``, compiled once for
PostgreSQL; the detail's in its one-row form, ``DETAIL_ONE_ROW``: the same values), each alone in
autocommit — one statement sees one snapshot, of what was committed before it began. A payment commits
before it is answered, so a read sent after that answer sees it: nothing is kept between requests but the
connections, the parsed disclosures ``loan_reads`` remembers by hash and the rendered details below, each
used only for exactly the inputs it came from.

``AsyncReads`` is a small pool per worker process, used only from that process's event loop: at most
``size`` connections, opened on demand and kept idle between requests; a request finding them all busy
waits for the next one handed back. A connection that fails (its server restarted, say) is closed and the
error answered as any database error (a 500 with a reference); the idle ones are then closed too (they
share the fate: SQLAlchemy's pool does the same on a disconnect) and new ones are opened on demand. A pool
used from another event loop than its own (a test client's new loop) closes its idle connections and starts
anew. ``close()`` at the app's shutdown.

The detail's answer is rendered (``loan_reads.loan_answer``, then JSON) once per distinct input: the JSON
bytes are remembered by loan (``RenderedDetails``) with EVERYTHING they were computed from — every value of
the row the statement returned (the instalments' included, as their JSON text), the business date, the
disclosure terms object — and served again only when a new read returns exactly those values (compared in
full, not by a hash). The statement still runs for every request, so an answer is never older than its
read: a payment, end of day's billing or a payout's outcome changes a value in the row, and the answer is
rendered afresh (``tests/api/test_rendered_details.py``).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from xiaodai.accounts import service as accounts
from xiaodai.accounts.token_cache import TOKENS
from xiaodai.api.loan_answers import json_bytes
from xiaodai.journey import loan_reads

SIZE = 10  # per worker, beside the SQLAlchemy pool (docs/OPERATIONS.md: workers and the database pool)


def compiled(statement: Select[Any]) -> str:
    """The statement as psycopg takes it (``%(name)s`` parameters), compiled once."""
    return str(statement.compile(dialect=postgresql.psycopg.dialect()))  # type: ignore[no-untyped-call]


MY_LOANS = compiled(loan_reads.MY_LOANS)
TOKEN_VALUES = compiled(accounts.TOKEN_VALUES)  # a token this process no longer remembers
DETAIL = compiled(loan_reads.DETAIL_ONE_ROW)  # the detail in one row (instalments as one JSON array)
KFS_DOCUMENT = compiled(loan_reads.KFS_DOCUMENT)


def _instant_positions() -> tuple[int, ...]:
    """The positions of the detail statement's timestamp columns. Two values that compare equal must render
    the same for ``RenderedDetails`` to be exact: true of int, str, bool, date and None; two timestamps of
    the same instant compare equal whatever their UTC offset, which their text shows: their offsets are
    compared too. A column of any other type (a Decimal: 1.0 == 1.00; a float) is refused here, at import."""
    instants = []
    for position, column in enumerate(loan_reads.DETAIL_ONE_ROW.selected_columns):
        kind = column.type.python_type
        if kind is datetime:
            instants.append(position)
        elif kind not in (int, str, bool, date):
            raise TypeError(f"RenderedDetails cannot compare {column.key} ({kind.__name__}) exactly")
    return tuple(instants)


_INSTANTS = _instant_positions()
_KFS_SHA256 = loan_reads.DETAIL_COLUMNS.index("kfs_sha256")
_PARTS_JSON = loan_reads.DETAIL_COLUMNS.index("parts_json")


class RenderedDetails:
    """The loan details this process has rendered, as JSON bytes, by loan id with the inputs each was
    rendered from (at most ``size`` loans, the least recently shown dropped). ``get`` answers only when the
    inputs are exactly the ones remembered: the same row (every value), business date and terms object."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._answers: OrderedDict[int, tuple[tuple[Any, ...], bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def inputs(row: tuple[Any, ...], terms: loan_reads.KfsTerms | None, today: date) -> tuple[Any, ...]:
        """Everything the answer is computed from: the statement's row, the business date, the disclosure
        terms (by identity: a parsed disclosure is never changed) and the UTC offsets of its timestamps."""
        offsets = tuple(None if row[i] is None else row[i].utcoffset() for i in _INSTANTS)
        return (today, terms, offsets, row)

    def get(self, loan_id: int, inputs: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            found = self._answers.get(loan_id)
            if found is None or found[0] != inputs:
                return None
            self._answers.move_to_end(loan_id)
            return found[1]

    def put(self, loan_id: int, inputs: tuple[Any, ...], body: bytes) -> None:
        with self._lock:
            self._answers[loan_id] = (inputs, body)
            self._answers.move_to_end(loan_id)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


RENDERED = RenderedDetails()  # this process's (each worker has its own)


class AsyncReads:
    def __init__(self, conninfo: str, *, size: int = SIZE) -> None:
        self.conninfo = conninfo
        self.size = size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._open = 0  # idle + in use, opened on ``_loop``
        self._waiting: deque[asyncio.Future[psycopg.AsyncConnection[Any] | None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ours: set[int] = set()  # ids of the connections opened on ``_loop``
        # called with each statement before it is sent (as SQLAlchemy's ``before_cursor_execute`` listeners
        # are for the engine's statements): the round-trip tests count these too
        self.observers: list[Callable[[str], None]] = []

    async def rows(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """The rows of one statement in autocommit (named tuples: columns as attributes and by position)."""
        return await self.tuples(sql, params, namedtuple_row)

    async def tuples(self, sql: str, params: dict[str, Any], rows: Any = tuple_row) -> list[Any]:
        """The rows of one statement in autocommit, as plain tuples (or as ``rows`` makes them)."""
        connection = await self.take()
        try:
            for observe in self.observers:
                observe(sql)
            cursor = connection.cursor(row_factory=rows)
            await cursor.execute(sql, params)
            found = await cursor.fetchall()
        except BaseException:
            self.lost(connection)
            raise
        self.give(connection)
        return found

    async def token_user_id(self, token: str, *, now: datetime) -> int:
        """The id of the user a bearer token this process does not remember belongs to: ``user_for_token``'s
        query, read here on the event loop, and its rule (``accounts.user_id_for_token_values``: remembered
        again, refused with ``AuthError`` when unknown, revoked, expired or the account locked)."""
        asked = TOKENS.ticks_now()  # before the query: token_cache.put(looked_up_at=...)
        found = await self.tuples(TOKEN_VALUES, {"digest": accounts.token_digest(token)})
        values = found[0] if found else None
        return accounts.user_id_for_token_values(token, values, now=now, looked_up_at=asked)

    async def my_loans(self, *, user_id: int) -> bytes:
        """The answer's JSON bytes (``loan_reads.my_loans_answer``)."""
        return json_bytes(loan_reads.my_loans_answer(await self.tuples(MY_LOANS, {"user_id": user_id})))

    async def loan_detail(self, *, user_id: int, loan_id: int, today: date) -> bytes:
        """The answer's JSON bytes, as ``loan_reads.loan_detail`` answers (a loan not the user's:
        ``NotFoundError``); rendered again only when the rows differ from the last ones (``RENDERED``)."""
        from xiaodai.journey.service import NotFoundError

        rows = await self.tuples(DETAIL, {"loan_id": loan_id, "user_id": user_id})
        if not rows:
            raise NotFoundError("loan not found")
        row = rows[0]  # one: the loan, its disclosure and its payout are at most one each
        sha256 = row[_KFS_SHA256]
        terms = None
        if sha256 is not None:
            terms = loan_reads.remembered_kfs(sha256)
            if terms is None:
                found = await self.tuples(KFS_DOCUMENT, {"loan_id": loan_id, "sha256": sha256})
                if found:  # gone since the first statement: shown as a loan without one
                    terms = loan_reads.parsed_kfs(sha256, found[0][0])
        inputs = RENDERED.inputs(row, terms, today)
        body = RENDERED.get(loan_id, inputs)
        if body is None:
            loan, parts = loan_reads.DetailRow._make(row), loan_reads.detail_parts(row[_PARTS_JSON])
            body = json_bytes(loan_reads.loan_answer(loan, parts, terms=terms, today=today))
            RENDERED.put(loan_id, inputs, body)
        return body

    def close(self) -> None:
        """At the app's shutdown: close the idle connections; those in use are closed when handed back (a
        request after this opens new ones: a test client may start the app again)."""
        self._drop_idle()
        self._open, self._waiting, self._loop, self._ours = 0, deque(), None, set()

    # --- the pool ---------------------------------------------------------------------------------------

    async def take(self) -> psycopg.AsyncConnection[Any]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop: nothing opened on the old one is used here
            self._drop_idle()
            self._open, self._waiting, self._loop, self._ours = 0, deque(), loop, set()
        if self._idle:
            return self._idle.pop()
        if self._open >= self.size:
            waiter: asyncio.Future[psycopg.AsyncConnection[Any] | None] = loop.create_future()
            self._waiting.append(waiter)
            try:
                handed = await waiter  # a connection handed back, or None: a place freed, open one
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # handed over, but this request is gone
                    passed = waiter.result()
                    if passed is None:
                        self._free_place()
                    else:
                        self.give(passed)
                raise
            if handed is not None:
                return handed
        else:
            self._open += 1
        try:  # our place is reserved (counted in ``_open``): by the branch above, or handed over with None
            connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        except BaseException:
            self._free_place()
            raise
        self._ours.add(id(connection))
        return connection

    def give(self, connection: psycopg.AsyncConnection[Any]) -> None:
        if connection.closed or id(connection) not in self._ours:
            self.lost(connection)
            return
        if not self._wake(connection):
            self._idle.append(connection)

    def lost(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """A connection that failed, was cancelled mid-statement or is no longer wanted: closed, and when it
        is broken the idle ones with it; a waiting request may open a new one."""
        broken = connection.broken
        _close(connection)
        if id(connection) not in self._ours:
            return  # opened on an earlier loop: not counted any more
        self._ours.discard(id(connection))
        if broken:
            self._drop_idle()
        self._free_place()

    def _free_place(self) -> None:
        """A connection's place is free: handed to the first waiting request (which opens a connection in
        it), else given up."""
        if not self._wake(None):
            self._open -= 1

    def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        for connection in idle:
            self._ours.discard(id(connection))
            _close(connection)

    def _wake(self, value: psycopg.AsyncConnection[Any] | None) -> bool:
        """Hand ``value`` (a connection, or None: a free place) to the first request still waiting."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(value)
                return True
        return False


def _close(connection: psycopg.AsyncConnection[Any]) -> None:
    """Close without awaiting (libpq's finish waits for nothing), so it can run anywhere, on any loop."""
    if not connection.closed:
        connection.pgconn.finish()
