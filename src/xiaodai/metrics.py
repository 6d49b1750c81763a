"""Prometheus metrics of the process (shell): served at ``/metrics`` by the app.

With several worker processes (``xiaodai serve --workers N``) each worker counts its own; set
``PROMETHEUS_MULTIPROC_DIR`` to a fresh empty directory before start-up and ``/metrics`` aggregates the
workers' files (prometheus_client multiprocess mode), otherwise a scrape sees the worker that answered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
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


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type (all workers' when in multiprocess mode)."""
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
    for child in _payments(events):
        count_on_commit(connection, child)


def payments_committed(events: Iterable[str]) -> None:
    """Journal entries just committed outside SQLAlchemy (``api.loop_repay``): the payments among them
    count."""
    for child in _payments(events):
        child.inc()


def _payments(events: Iterable[str]) -> Iterator[Any]:
    """The payments counter's child for each payment among the entries' events."""
    return (PAYMENTS_POSTED.labels(kind=name) for name in events if name in PAYMENT_EVENTS)


def _committed(connection: Connection) -> None:
    for child, amount in connection.info.pop(_PENDING, ()):
        child.inc(amount)


def _rolled_back(connection: Connection) -> None:
    connection.info.pop(_PENDING, None)


event.listen(Engine, "commit", _committed)
event.listen(Engine, "rollback", _rolled_back)
