"""CPU per access line: uvicorn's call through ``logging`` (the anchor: record, redaction, handler chain,
queue, the writer's JSON formatting) beside ``access_line.AccessLine`` (values queued, the line put together
by the writer), in one process configured as ``xiaodai serve`` configures it (JSON lines, writer thread,
standard error and ``XIAODAI_LOG_FILE``, both sent to /dev/null). CPU is the process's (both threads),
measured until the writer has drained the queue. Prints µs per line and the ratio, per round.

    .venv/bin/python benchmarks/bench_access_line.py --lines 50000 --rounds 3
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

TEMPLATE = '%s - "%s %s HTTP/%s" %d'


def per_line(call: Callable[..., Any], lines: int, drained: Callable[[], bool]) -> float:
    """CPU µs per line, the writer's share included (timed until its queue is empty and it has slept)."""
    start = time.process_time()
    for n in range(lines):
        call(TEMPLATE, "127.0.0.1:50000", "POST", f"/api/loans/{n % 500 + 1}/repayments", "1.1", 201)
    while not drained():
        time.sleep(0.001)
    time.sleep(0.05)  # the writer's last drain and write
    return (time.process_time() - start) / lines * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["XIAODAI_LOG_FILE"] = os.devnull
    os.environ.pop("XIAODAI_LOG_FORMAT", None)
    from xiaodai import logging_setup
    from xiaodai.access_line import ACCESS

    logging_setup.configure(default_level="INFO", writer_thread=True)
    for handler in logging_setup._WRITER["handlers"]:
        if handler.stream is sys.stderr:
            handler.stream = open(os.devnull, "w")  # noqa: SIM115  # the process's life
    logging_setup.REQUEST_ID.set("4f6c0e7a9b2d4c1e8f3a5b6c7d8e9f01")
    queue = logging_setup._WRITER["lines"]
    logger = logging.getLogger(logging_setup.ACCESS_LOGGER)
    assert logging_setup.access_queue(logger) is not None  # the fast path applies
    per_line(logger.info, 2000, queue.empty)  # warm up both
    per_line(ACCESS.info, 2000, queue.empty)
    for n in range(1, args.rounds + 1):
        anchor = per_line(logger.info, args.lines, queue.empty)
        fast = per_line(ACCESS.info, args.lines, queue.empty)
        print(
            f"round {n}: logging path {anchor:6.1f} µs CPU/line · AccessLine {fast:6.1f} µs/line · "
            f"{anchor / fast:.2f}× less"
        )
    logging_setup.flush()


if __name__ == "__main__":
    main()
