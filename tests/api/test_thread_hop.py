"""``api.thread_hop.ThreadHop``: the call's result or exception, the caller's context, at most ``size`` calls
at once, and a cancelled caller that still waits for its call to end."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from xiaodai.api.thread_hop import ThreadHop

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="-")


def test_a_hop_returns_the_result_raises_the_exception_and_carries_the_context() -> None:
    hop = ThreadHop(2, "test-hop")

    def who_and_where(x: int) -> tuple[str, int, str]:
        return WHO.get(), x * 2, threading.current_thread().name

    def broken() -> None:
        raise KeyError("nope")

    async def main() -> None:
        WHO.set("borrower-7")
        got = await hop.run(who_and_where, 21)
        assert got[:2] == ("borrower-7", 42)
        assert got[2].startswith("test-hop_")
        assert got[2] != threading.current_thread().name
        with pytest.raises(KeyError, match="nope"):
            await hop.run(broken)

    asyncio.run(main())


def test_at_most_size_calls_run_at_once() -> None:
    hop = ThreadHop(3, "test-hop")
    running = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(hop.run(work) for _ in range(12)))

    asyncio.run(main())
    assert most == 3


def test_a_cancelled_caller_waits_for_its_call_to_end() -> None:
    hop = ThreadHop(1, "test-hop")
    started = threading.Event()
    release = threading.Event()
    ended: list[str] = []

    def commit() -> str:
        started.set()
        release.wait(5)
        ended.append("committed")
        return "done"

    async def main() -> None:
        caller = asyncio.create_task(hop.run(commit))
        while not started.is_set():
            await asyncio.sleep(0.001)
        caller.cancel()
        await asyncio.sleep(0.05)
        assert not caller.done()  # still waiting for the thread, though cancelled
        caller.cancel()  # cancelled again while it waits: still waits
        await asyncio.sleep(0.05)
        assert not caller.done()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert ended == ["committed"]

    asyncio.run(main())
