"""``hot_path.in_payment_thread``: a payment's work (its session committed in the same thread) runs in one of
the process's payment threads, in a copy of the caller's context, at most ``PAYMENT_THREADS`` at once; a
caller cancelled while the thread works still waits for the thread's commit before it gives up. The same of
``hot_apply.in_application_thread`` (an application's work, ``APPLICATION_THREADS``)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from xiaodai.api import hot_apply, hot_path
from xiaodai.api.deps import REQUEST_SESSIONS

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("test_payment_threads_mark", default="unset")


@dataclass(frozen=True)
class Threads:
    run: Callable[..., Awaitable[Any]]
    size: int
    name: str


@pytest.fixture(params=["payment", "application"])
def threads(request: pytest.FixtureRequest) -> Threads:
    if request.param == "payment":
        return Threads(hot_path.in_payment_thread, hot_path.PAYMENT_THREADS, "xiaodai-payment")
    return Threads(hot_apply.in_application_thread, hot_apply.APPLICATION_THREADS, "xiaodai-application")


class FakeSession:
    """What ``deps.finish_sessions`` asks of a session; something held in ``info``, so it commits."""

    new = deleted = dirty = ()

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.info = {"held": True}

    def in_transaction(self) -> bool:
        return True

    def commit(self) -> None:
        self.events.append("commit")

    def rollback(self) -> None:
        self.events.append("rollback")

    def close(self) -> None:
        self.events.append("close")


def test_the_work_runs_in_a_payment_thread_with_the_callers_context(threads: Threads) -> None:
    events: list[str] = []

    def work(session: Any) -> tuple[str, str, bool]:
        return MARK.get(), threading.current_thread().name, REQUEST_SESSIONS.get() == (session,)

    async def main() -> tuple[tuple[str, str, bool], tuple[Any, ...]]:
        MARK.set("request 1")
        got = await threads.run(lambda: FakeSession(events), work)
        return got, REQUEST_SESSIONS.get()

    (mark, thread, registered), after = asyncio.run(main())
    assert mark == "request 1"
    assert thread.startswith(threads.name)
    assert registered
    assert after == ()  # the thread's session was registered in the copy only
    assert events == ["commit", "close"]  # committed in the thread, before the caller had the answer


def test_a_failure_rolls_back_and_reaches_the_caller(threads: Threads) -> None:
    events: list[str] = []

    def work(_session: Any) -> None:
        raise LookupError("refused")

    with pytest.raises(LookupError, match="refused"):
        asyncio.run(threads.run(lambda: FakeSession(events), work))
    assert events == ["rollback", "close"]


def test_at_most_payment_threads_work_at_once(threads: Threads) -> None:
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def work(_session: Any) -> None:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(threads.run(lambda: FakeSession([]), work) for _ in range(3 * threads.size)))

    asyncio.run(main())
    assert running[1] <= threads.size


def test_a_caller_cancelled_mid_payment_waits_for_the_commit(threads: Threads) -> None:
    events: list[str] = []
    started, release = threading.Event(), threading.Event()

    def work(_session: Any) -> None:
        started.set()
        release.wait(5)

    async def main() -> None:
        task = asyncio.create_task(threads.run(lambda: FakeSession(events), work))
        while not started.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # still waiting for the thread
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert events == ["commit", "close"]

    asyncio.run(main())
