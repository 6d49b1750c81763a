"""On PostgreSQL, a hot write that ``api.loop_repay`` hands back (a borrower's payment of exactly the payoff,
which the ORM's ``payoff.prepayment`` settles) runs on the worker's event loop itself: its ordinary
synchronous code (``journey.repay_as`` on a ``Session``, then the commit) in a greenlet, each database round
trip awaited on psycopg's asynchronous connection (SQLAlchemy's own bridge: ``greenlet_spawn`` and the
``postgresql+psycopg`` asynchronous dialect, as ``AsyncSession.run_sync`` does). No worker thread.

Why: a payment's CPU is ~1.4 ms, but in one of the worker's payment threads it took ~8 ms (p50) and its tail
grew with load — each of its four round trips (BEGIN, two statements, COMMIT) ended with the thread waiting
for the worker's GIL behind the event loop and the other payment threads, and the payments queued for a free
thread. Offered 600 payments/s (``benchmarks/open_loop.py``) the threads gave p99 114–178 ms with the
workers' CPU under half used. On the loop one payment's Python runs at a time, in order, and a round trip
costs the loop nothing while it waits.

The guarantees of the threaded path hold:

- the work and the commit of its session run together, before the answer is sent (the same function,
  ``hot_common.in_one_thread``, in the greenlet); a failed commit raises, never a 2xx;
- at most ``size`` payments hold a connection at once (the engine's pool); more wait for a free slot in order;
- a caller cancelled while the work runs still waits for it to end (the commit or the rollback is never left
  running behind an answer), then is cancelled — the work runs in its own task, shielded;
- the work sees the caller's context (``contextvars``: the request id in log lines).

The engine is made on the loop that serves (the app's lifespan: ``start`` on startup, ``close`` on
shutdown): an asynchronous connection belongs to the loop it was opened on. On another loop (a test client
without its lifespan) ``ready()`` is False and the hot path takes the threaded path.
Anything in the work that blocks (a real payment rail's network call) would stall the whole worker: the hot
path takes this way only when the rail says it does not block (``payment_rail.blocks``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import greenlet_spawn

T = TypeVar("T")
# payments holding a connection at once, per worker: only what ``api.loop_repay`` hands back comes here (a
# payment of exactly the payoff: rare), so a small pool, that the connection budget stays within
# PostgreSQL's default max_connections (docs/OPERATIONS.md)
SIZE = 2


class LoopWork:
    """The asynchronous engine of one worker's event loop and the sessions made on it."""

    def __init__(self, url: str, *, size: int = SIZE) -> None:
        self.url = url
        self.size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: AsyncEngine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._slots: asyncio.Semaphore | None = None
        self.runs = 0  # works run here (the tests tell the two paths apart by it)

    def start(self) -> None:
        """On the serving loop (the lifespan's startup): the engine, connections opened on demand."""
        self._loop = asyncio.get_running_loop()
        self._engine = create_async_engine(self.url, pool_size=self.size, max_overflow=0, pool_timeout=30)
        self._factory = sessionmaker(self._engine.sync_engine, expire_on_commit=False)
        self._slots = asyncio.Semaphore(self.size)

    async def close(self) -> None:
        engine, self._engine, self._factory, self._loop = self._engine, None, None, None
        if engine is not None:
            await engine.dispose()

    @property
    def engine(self) -> AsyncEngine | None:
        return self._engine

    def ready(self) -> bool:
        """True on the loop the engine was made on (else: take the threaded path)."""
        if self._loop is None:
            return False
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def run(
        self,
        fn: Callable[[Callable[[], Session], Callable[[Session], Any]], Any],
        work: Callable[[Session], Any],
    ) -> Any:
        """``fn(factory, work)`` (``hot_common.in_one_thread``: the work on a new session, then its commit)
        in a greenlet on this loop; its result, or its exception raised here."""
        if self._factory is None or self._slots is None:
            raise RuntimeError("LoopWork.start() first")
        factory = self._factory
        self.runs += 1
        async with self._slots:
            return await to_its_end(greenlet_spawn(fn, factory, work))


async def to_its_end(work: Coroutine[Any, Any, T]) -> T:
    """``work``'s result, run in its own task: a caller cancelled while it runs still waits for it to end
    (a commit or a rollback is never left running behind an answer), then is cancelled."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():  # the work still runs: see it end (commit or rollback) first
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                continue
        if not task.cancelled():
            task.exception()  # retrieved: nobody reads it
        raise
