"""Latency probe for ``bench_http.py --probe`` (benchmarks only; never on the served path otherwise).

Put on the server's PYTHONPATH with XIAODAI_PROBE_DIR set, Python imports this file at start-up in every
process (uvicorn's workers are spawned interpreters). In a process that serves, it times, per repayment
answered by the hot path, with ``time.perf_counter`` (monotonic, shared by the threads of a process):

- ``handler``: from the hot path's ``_repay`` being called (uvicorn has parsed the request and called the
  app) to its return (the answer sent to the transport);
- ``queue``: from the payment being handed to the payment threads to one of them starting it (all 8 busy);
- ``lock``: the loan's lock-and-claim statement, the instalments read with it (its row lock waits for
  another payment of the same loan);
- ``work``: the payment's whole thread work (session, two statements, commit) — the rest is the loop's;
- ``commit``: the session's commit and close (COMMIT waits for its WAL flush) within ``work``;
- ``gc``: every cyclic collection (generation, pause) through ``gc.callbacks``;
- ``lag``: the event loop's lateness, a 5 ms timer's overshoot (anything the loop ran in between without
  yielding: a long callback, a collection, or the process not being scheduled).

Each process writes ``<pid>.json`` in XIAODAI_PROBE_DIR every second. ``summarise(folder)`` reads them.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

_DIR = os.environ.get("XIAODAI_PROBE_DIR")
_DATA: dict[str, list[Any]] = {"pay": [], "gc": [], "lag": []}


def _dump() -> None:
    if _DATA["pay"] or _DATA["gc"]:
        path = Path(_DIR or ".") / f"{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_DATA))
        tmp.replace(path)


def _writer() -> None:
    while True:
        time.sleep(1.0)
        _dump()


def _install() -> None:
    import asyncio

    from xiaodai.api import hot_common, hot_path
    from xiaodai.servicing import repayment

    clock = time.perf_counter
    started: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["gc"] = clock()
        elif "gc" in started:
            _DATA["gc"].append((clock(), info["generation"], clock() - started.pop("gc")))

    gc.callbacks.append(on_gc)

    import contextvars

    lock_and_claim = repayment._lock_and_claim
    one_thread = hot_common.in_one_thread  # what hot_common.WorkerThreads runs in the thread
    in_thread = hot_path.in_payment_thread
    repay = hot_path.HotPath._repay
    box_of: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("probe", default=None)
    lagging: list[Any] = []

    def timed_lock(*args: Any, **kwargs: Any) -> Any:
        t = clock()
        try:
            return lock_and_claim(*args, **kwargs)
        finally:
            box = box_of.get()
            if box is not None:
                box["lock"] = clock() - t

    def timed_thread(factory: Any, work: Any) -> Any:
        box = box_of.get()  # the request's, through in_payment_thread's copy of the context
        t = clock()
        if box is not None:
            box["queue"] = t - box["handed"]
        try:
            return one_thread(factory, work)
        finally:
            if box is not None:
                box["work"] = clock() - t

    async def timed_in_thread(factory: Any, work: Any) -> Any:
        box = box_of.get()
        if box is not None:
            box["handed"] = clock()
        return await in_thread(factory, work)

    async def lag() -> None:
        while True:
            t = clock()
            await asyncio.sleep(0.005)
            _DATA["lag"].append((clock(), clock() - t - 0.005))

    async def timed_repay(self: Any, scope: Any, receive: Any, send: Any, loan_id: int) -> Any:
        if not lagging:
            lagging.append(asyncio.get_running_loop().create_task(lag()))
        box: dict[str, float] = {"lock": 0.0}
        token = box_of.set(box)
        t = clock()
        try:
            return await repay(self, scope, receive, send, loan_id)
        finally:
            end = clock()
            box_of.reset(token)
            if "work" in box:
                _DATA["pay"].append(
                    (end, end - t, box["queue"], box["lock"], box["work"], loan_id, box.get("commit", 0.0))
                )

    finish = hot_common.finish_sessions

    def timed_finish(*, commit: bool) -> None:
        t = clock()
        try:
            finish(commit=commit)
        finally:
            box = box_of.get()
            if box is not None:
                box["commit"] = clock() - t

    repayment._lock_and_claim = timed_lock
    hot_common.finish_sessions = timed_finish  # looked up by in_one_thread when it runs
    hot_common.in_one_thread = timed_thread  # looked up by WorkerThreads.__call__ when it runs
    hot_path.in_payment_thread = timed_in_thread
    hot_path.HotPath._repay = timed_repay  # type: ignore[method-assign]
    threading.Thread(target=_writer, daemon=True, name="xiaodai-probe").start()
    atexit.register(_dump)


if _DIR:
    _install()
    if os.environ.get("XIAODAI_PROBE_THREADS"):  # an A/B of the payment threads per process
        from xiaodai.api import hot_path as _hot_path

        _hot_path.PAYMENT_THREADS = int(os.environ["XIAODAI_PROBE_THREADS"])
    if os.environ.get("XIAODAI_PROBE_SWITCH"):  # an A/B of the GIL's switch interval, seconds
        import sys

        sys.setswitchinterval(float(os.environ["XIAODAI_PROBE_SWITCH"]))
