"""Garbage-collector settings for a serving process (shell).

Measured on the idle 2-core machine (`benchmarks/bench_http.py --only loans,loan`, 2026-12-06): with
CPython's default thresholds (700, 10, 10) the authenticated reads had p50 ≈ 11–13 ms but p99 ≈ 133–142 ms —
the tail was the cyclic collector: young collections every 700 allocations promote request garbage, and each
full collection walks every object the imports created (hundreds of thousands: SQLAlchemy, FastAPI,
pydantic). With ``gc.freeze()`` and thresholds (50,000, 50, 100) the full run (`bench_http.py --rounds 1
--seconds 10`) gave my loans 1,718 req/s p99 28.7 ms, detail 1,095 req/s p99 44.6 ms, repayments 540/s p99
60.7 ms (before: 1,447 / 138 ms, 961 / 142 ms, 409 / 160 ms); (50,000, 20, 20) gave about half that gain.
A full collection then comes every ~250 M allocations (tens of seconds at full load). ``gc.freeze()``
after start-up moves the start-up objects out of the collector's sight, so a full collection no longer walks
them; cycles made while serving are still collected.
"""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (50_000, 50, 100)  # young generation every 50,000 net allocations (default 700)


def tune_for_serving() -> None:
    """Call once the app is built, in each worker process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
