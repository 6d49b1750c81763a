"""``ThreadHop``: run a blocking call in one of a few threads of this process and await its result from the
event loop, for the busiest paths (a repayment, an application: their database work and commit).

``loop.run_in_executor`` on a ``ThreadPoolExecutor`` (and ``asyncio.shield`` around it, so a cancelled
caller still waits for the thread) made every hop create a ``concurrent.futures.Future`` with its condition
variable, chain it to an asyncio future through callbacks on both sides, and wrap that in a shielding
future: under the HTTP benchmark's repayments ~8 % of the server's CPU went to the hop itself. Here a hop is
one job on a ``queue.SimpleQueue`` (C) that one of ``size`` threads takes, and one
``loop.call_soon_threadsafe`` that settles an asyncio future when the call returns:

- the call runs in a copy of the caller's context (``contextvars``), as ``run_in_executor`` callers copy it;
- its result or exception (any ``BaseException``) is what the caller's ``await`` returns or raises;
- at most ``size`` calls run at once; more wait in the queue, in order;
- a caller cancelled while its call runs (or waits) still waits until the call has returned (a commit or a
  rollback is never left running behind an answer), then is cancelled; a call still queued when its caller
  is cancelled runs all the same (the work was asked for; nobody reads its result);
- the threads start on first use, are daemon threads, and live as long as the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any


class _Job:
    __slots__ = ("args", "context", "done", "fn", "future", "loop", "waiter")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        self.loop = loop
        self.fn = fn
        self.args = args
        self.context = contextvars.copy_context()
        self.future: asyncio.Future[Any] = loop.create_future()
        self.done = False  # set on the loop's thread only (``settle``)
        self.waiter: asyncio.Future[None] | None = None  # a cancelled caller waiting for the call to end

    def settle(self, result: Any, error: BaseException | None) -> None:
        """On the loop's thread, once the call has returned or raised."""
        self.done = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        if self.future.done():  # cancelled: nobody reads it
            return
        if error is None:
            self.future.set_result(result)
        else:
            self.future.set_exception(error)


class ThreadHop:
    def __init__(self, size: int, name: str) -> None:
        if size < 1:
            raise ValueError("a hop needs at least one thread")
        self.size = size
        self.name = name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._started = False
        self._starting = threading.Lock()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in one of the threads; its result, or its exception raised here."""
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        job = _Job(loop, fn, args)
        self._jobs.put(job)
        try:
            return await job.future
        except asyncio.CancelledError:
            while not job.done:  # the call still runs (or waits for a thread): see it end first
                job.waiter = loop.create_future()
                try:
                    await job.waiter
                except asyncio.CancelledError:
                    continue
            raise

    def _start(self) -> None:
        with self._starting:
            if self._started:
                return
            for number in range(self.size):
                threading.Thread(target=self._serve, name=f"{self.name}_{number}", daemon=True).start()
            self._started = True

    def _serve(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            try:
                outcome: tuple[Any, BaseException | None] = (job.context.run(job.fn, *job.args), None)
            except BaseException as exc:  # handed to the caller, whatever it is
                outcome = (None, exc)
            with contextlib.suppress(RuntimeError):  # the loop has closed (the process ends): nobody waits
                job.loop.call_soon_threadsafe(job.settle, *outcome)
            del job, outcome  # nothing of a finished call is kept while the thread waits for the next
