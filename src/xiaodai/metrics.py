"""Prometheus metrics of the process (shell): served at ``/metrics`` by the app.

With several worker processes (``xiaodai serve --workers N``) each worker counts its own; set
``PROMETHEUS_MULTIPROC_DIR`` to a fresh empty directory before start-up and ``/metrics`` aggregates the
workers' files (prometheus_client multiprocess mode), otherwise a scrape sees the worker that answered.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Connection, Engine, event

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_LATENCY = Histogram(
    "xiaodai_http_request_duration_seconds",
    "HTTP request latency by route template (not by raw path: ids do not make new series).",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
PAYMENTS_POSTED = Counter(
    "xiaodai_payments_posted_total", "Payments posted to the journal (repayments and prepayments).", ["kind"]
)
EOD_STEP_SECONDS = Histogram(
    "xiaodai_eod_step_duration_seconds",
    "Duration of each end-of-day step.",
    ["step"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
CONTACT_BLOCKS = Counter(
    "xiaodai_collection_contacts_blocked_total",
    "Collection contacts blocked by the policy engine.",
    ["reason"],
)
UNMASK_ALERTS = Counter(
    "xiaodai_pii_unmask_alerts_total",
    "Unmasking that raised an alert (break-glass, past the shift allowance, rate limit).",
    ["reason"],
)


class LatencyTally:
    """Request latencies added up in the process and handed to a labelled ``Histogram`` at most a second
    later (``FLUSH_AFTER``), each series once per flush: ``Histogram.observe`` writes the sum and a bucket
    through prometheus_client's values (in multiprocess mode each write takes a lock, checks the process id
    and writes the worker's mmap file) and ``labels`` looks the series up under a lock — together ~5 % of a
    served repayment's CPU, per request. Here a request costs a dict look-up and two additions.

    What a scrape sees is the same histogram, at most ``FLUSH_AFTER`` seconds late for another worker's
    requests (a flush is scheduled on the event loop when the first request after a flush is counted; this
    process's own are flushed by ``/metrics`` itself, at shutdown and at exit). Thread-safe. Where the
    histogram's children do not have prometheus_client's ``_sum`` and ``_buckets`` (another version), each
    request is observed as it comes (``direct``)."""

    FLUSH_AFTER = 1.0

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._bounds = list(histogram._upper_bounds)  # ends with +Inf: every value has a bucket
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, ...], list[float]] = {}  # per series: a count per bucket, then the sum
        self._due: float | None = None  # when the flush scheduled should come (None: none is)
        # whether a child of this prometheus_client keeps its values as ``_sum`` and ``_buckets`` (read off
        # the code that makes them: making a child here would write an empty series to the metric files)
        self.direct = not {"_sum", "_buckets"} <= set(type(histogram)._metric_init.__code__.co_names)

    def observe(self, labels: tuple[str, ...], seconds: float) -> None:
        if self.direct:
            self._histogram.labels(*labels).observe(seconds)
            return
        now = time.monotonic()
        with self._lock:
            row = self._counts.get(labels)
            if row is None:
                row = self._counts[labels] = [0.0] * (len(self._bounds) + 1)
            row[bisect_left(self._bounds, seconds)] += 1
            row[-1] += seconds
            due, schedule = self._due, self._due is None
            if schedule:
                self._due = now + self.FLUSH_AFTER
        if due is not None and now > due + self.FLUSH_AFTER:
            self.flush()  # the flush scheduled did not come: its event loop is gone (a test client's)
        elif schedule:
            try:
                asyncio.get_running_loop().call_later(self.FLUSH_AFTER, self.flush)
            except RuntimeError:  # no event loop in this thread: nothing would run the flush later
                self.flush()

    def flush(self) -> None:
        """Hand what was counted to the histogram (and so to the process's metric files)."""
        with self._lock:
            counts, self._counts, self._due = self._counts, {}, None
        for labels, row in counts.items():
            child = self._histogram.labels(*labels)
            for bucket, n in zip(child._buckets, row, strict=False):
                if n:
                    bucket.inc(n)
            child._sum.inc(row[-1])


LATENCY_TALLY = LatencyTally(HTTP_LATENCY)
atexit.register(LATENCY_TALLY.flush)


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type (all workers' when in multiprocess mode); this process's
    latencies counted but not yet flushed are flushed first."""
    LATENCY_TALLY.flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# --- counted when the transaction commits -------------------------------------------------------------
# A payment or a blocked contact is counted only once its transaction has committed: what a rollback undid
# never happened. Pending increments ride on the connection (``Connection.info``) until its commit.

_PENDING = "xiaodai_metrics_pending"
PAYMENT_EVENTS = frozenset({"repayment", "prepayment"})


def count_on_commit(connection: Connection, child: Any, amount: float = 1.0) -> None:
    """Increment the metric ``child`` (a labelled counter) when ``connection``'s transaction commits."""
    connection.info.setdefault(_PENDING, []).append((child, amount))


def count_payments(connection: Connection, events: Iterable[str]) -> None:
    """Journal entries being posted: the payments among them count once committed."""
    for name in events:
        if name in PAYMENT_EVENTS:
            count_on_commit(connection, PAYMENTS_POSTED.labels(kind=name))


def _committed(connection: Connection) -> None:
    for child, amount in connection.info.pop(_PENDING, ()):
        child.inc(amount)


def _rolled_back(connection: Connection) -> None:
    connection.info.pop(_PENDING, None)


event.listen(Engine, "commit", _committed)
event.listen(Engine, "rollback", _rolled_back)
