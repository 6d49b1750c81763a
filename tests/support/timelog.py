"""Per-test wall and CPU time, for measuring the suite on a shared machine (docs/BENCHMARKS.md, "Test suite
time"): ``XIAODAI_TIMELOG=/tmp/times.jsonl pytest -p support.timelog ...``.

Each test (setup + call + teardown) appends one JSON line: node id, worker, wall seconds, and the CPU seconds
of the worker process plus the children it waited for (CLI and server subprocesses). Session-scoped fixture
set-up lands on the first test that asks for it. PostgreSQL's own server CPU is not counted.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Generator

import pytest


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    target = os.environ.get("XIAODAI_TIMELOG")
    wall, cpu = time.perf_counter(), _cpu()
    result = yield
    if target:
        line = {
            "test": item.nodeid,
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            "wall": round(time.perf_counter() - wall, 3),
            "cpu": round(_cpu() - cpu, 3),
            "end": round(time.time(), 1),
            "load1": round(os.getloadavg()[0], 2),
        }
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
    return result
