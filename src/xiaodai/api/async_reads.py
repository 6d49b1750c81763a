"""On PostgreSQL, the hot path's two reads (my loans, a loan's detail) ask the database from the event loop
itself, on psycopg's asynchronous connections: no worker thread (each hop hands the GIL between the loop and
a thread twice, and wakes a thread) and no ORM session around a single statement.

It is the same read as ``deps.ReadDB``'s: the same statements (``journey.loan_reads``, compiled once for
PostgreSQL), each alone in autocommit — one statement sees one snapshot, of what was committed before it
began. A payment commits before it is answered, so a read sent after that answer sees it: nothing is kept
between requests but the connections (and the parsed disclosures ``loan_reads`` already remembers by hash).

``AsyncReads`` is a small pool per worker process, used only from that process's event loop: at most
``size`` connections, opened on demand and kept idle between requests; a request finding them all busy
waits for the next one handed back. A connection that fails (its server restarted, say) is closed and the
error answered as any database error (a 500 with a reference); the idle ones are then closed too (they
share the fate: SQLAlchemy's pool does the same on a disconnect) and new ones are opened on demand. A pool
used from another event loop than its own (a test client's new loop) closes its idle connections and starts
anew. ``close()`` at the app's shutdown.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from xiaodai.journey import loan_reads

SIZE = 10  # per worker, beside the SQLAlchemy pool (docs/OPERATIONS.md: workers and the database pool)


def compiled(statement: Select[Any]) -> str:
    """The statement as psycopg takes it (``%(name)s`` parameters), compiled once."""
    return str(statement.compile(dialect=postgresql.psycopg.dialect()))  # type: ignore[no-untyped-call]


MY_LOANS = compiled(loan_reads.MY_LOANS)
DETAIL = compiled(loan_reads.DETAIL)
KFS_DOCUMENT = compiled(loan_reads.KFS_DOCUMENT)


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
        connection = await self._take()
        try:
            for observe in self.observers:
                observe(sql)
            cursor = connection.cursor(row_factory=namedtuple_row)
            await cursor.execute(sql, params)
            rows = await cursor.fetchall()
        except BaseException:
            self._lost(connection)
            raise
        self._give(connection)
        return rows

    async def my_loans(self, *, user_id: int) -> list[dict[str, Any]]:
        return loan_reads.my_loans_answer(await self.rows(MY_LOANS, {"user_id": user_id}))

    async def loan_detail(self, *, user_id: int, loan_id: int, today: date) -> dict[str, Any]:
        """As ``loan_reads.loan_detail`` (a loan not the user's: ``NotFoundError``)."""
        from xiaodai.journey.service import NotFoundError

        rows = await self.rows(DETAIL, {"loan_id": loan_id, "user_id": user_id})
        if not rows:
            raise NotFoundError("loan not found")
        sha256 = rows[0].kfs_sha256
        terms = None
        if sha256 is not None:
            terms = loan_reads.remembered_kfs(sha256)
            if terms is None:
                found = await self.rows(KFS_DOCUMENT, {"loan_id": loan_id, "sha256": sha256})
                if found:  # gone since the first statement: shown as a loan without one
                    terms = loan_reads.parsed_kfs(sha256, found[0].canonical_json)
        return loan_reads.detail_answer(rows, terms=terms, today=today)

    def close(self) -> None:
        """At the app's shutdown: close the idle connections; those in use are closed when handed back (a
        request after this opens new ones: a test client may start the app again)."""
        self._drop_idle()
        self._open, self._waiting, self._loop, self._ours = 0, deque(), None, set()

    # --- the pool ---------------------------------------------------------------------------------------

    async def _take(self) -> psycopg.AsyncConnection[Any]:
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
                        self._give(passed)
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

    def _give(self, connection: psycopg.AsyncConnection[Any]) -> None:
        if connection.closed or id(connection) not in self._ours:
            self._lost(connection)
            return
        if not self._wake(connection):
            self._idle.append(connection)

    def _lost(self, connection: psycopg.AsyncConnection[Any]) -> None:
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
