"""The cost of one hop from the event loop to a worker thread and back (``api.thread_hop.ThreadHop``, the
payment and application threads) beside the anchor it replaced: ``loop.run_in_executor`` on a
``ThreadPoolExecutor`` awaited through ``asyncio.shield`` (so a cancelled caller still waits), both with 8
threads, 8 callers at once, a trivial call, under uvloop as ``xiaodai serve`` runs. Prints CPU and wall time
per hop and the ratio, per round.

    .venv/bin/python benchmarks/bench_thread_hop.py --hops 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvloop

from xiaodai.api.thread_hop import ThreadHop


def _call(x: int) -> int:
    return x + 1


class ExecutorHop:
    """The anchor: what ``hot_common.WorkerThreads`` did before ``ThreadHop``."""

    def __init__(self, size: int) -> None:
        self._threads = ThreadPoolExecutor(size)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(self._threads, context.run, fn, *args)
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


async def _per_hop(run: Callable[..., Awaitable[Any]], hops: int, callers: int) -> tuple[float, float]:
    async def caller() -> None:
        for i in range(hops // callers):
            await run(_call, i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return (time.process_time() - cpu) / hops * 1e6, (time.perf_counter() - wall) / hops * 1e6


async def main(args: argparse.Namespace) -> None:
    anchor, hop = ExecutorHop(8), ThreadHop(8, "bench-hop")
    await _per_hop(anchor.run, 2000, 8)  # threads started, code warm
    await _per_hop(hop.run, 2000, 8)
    for number in range(1, args.rounds + 1):
        old_cpu, old_wall = await _per_hop(anchor.run, args.hops, 8)
        new_cpu, new_wall = await _per_hop(hop.run, args.hops, 8)
        print(
            f"round {number}: run_in_executor+shield {old_cpu:5.1f} us CPU ({old_wall:5.1f} wall) per hop · "
            f"ThreadHop {new_cpu:5.1f} us CPU ({new_wall:5.1f} wall) · {old_cpu / new_cpu:4.2f}x less CPU"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--hops", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    uvloop.run(main(parser.parse_args()))
