"""The job runner (shell): our own tables on SQLAlchemy, the same on SQLite and PostgreSQL.

- Definitions are data (``job_definitions``, seeded by migration 0026).
- A run of a job for a business date first *claims* ``job_claims(job, business_date)``: an INSERT, or a
  conditional UPDATE from a state that may be retried (failed with its back-off over, waiting for its input,
  a crashed runner's expired lease). The database lets exactly one runner win: the row's primary key
  refuses a second INSERT and the UPDATE's WHERE is re-checked under the row lock (PostgreSQL) or the
  database lock (SQLite's BEGIN IMMEDIATE).
- The handler runs in its own transactions and is idempotent per business date (end of day's
  ``eod_steps``, a debit's ``channel_ref``, a notice's key, reconciliation by difference): a retry, a
  re-run or a runner whose lease expired never posts twice.
- Every attempt is a ``job_runs`` row: started, finished, duration, outcome, summary or error. The finish
  is fenced: it changes the claim only while this runner still holds it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time as clock_time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.session import session_factory
from xiaodai.db.tables import JobClaimRow, JobDefinitionRow, JobRunRow
from xiaodai.jobs.schedule import JobSpec, ScheduleError, after_failure, due_dates

log = logging.getLogger(__name__)


class JobError(RuntimeError):
    """A job that cannot run (unknown job or handler, a date it must not touch): the CLI's exit 2."""


class NotReady(Exception):  # noqa: N818 - a state, not a failure: the input is not there yet
    """The job's input is not there yet (e.g. the channel's settlement file): the run ``waits`` and is
    looked at again after the definition's ``wait_seconds``, without using up an attempt."""


@dataclass(frozen=True)
class JobContext:
    engine: Engine
    factory: sessionmaker[Session]
    business_date: date
    now: datetime  # when the run started (aware)
    worker: str


Handler = Callable[[JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def _handlers() -> dict[str, Handler]:
    from xiaodai.jobs import handlers  # noqa: F401 - registers the platform's handlers

    return HANDLERS


def _utc_now() -> datetime:
    return datetime.now(tz=UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobResult:
    job: str
    business_date: date
    outcome: str  # succeeded | failed | waiting | skipped
    attempt: int = 0
    run_id: int | None = None
    duration_ms: int | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    skipped: str | None = None  # why nothing ran: ALREADY_SUCCEEDED, CLAIMED_ELSEWHERE, NOT_DUE_YET, DEAD
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "business_date": self.business_date.isoformat(),
            "outcome": self.outcome,
            "attempt": self.attempt,
            "run_id": self.run_id,
            "duration_ms": self.duration_ms,
            "summary": self.summary,
            "error": self.error,
            "skipped": self.skipped,
        }


def _aware(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def spec_of(row: JobDefinitionRow) -> JobSpec:
    return JobSpec.parse(
        row.name,
        row.handler,
        row.run_at_local,
        day_offset=row.day_offset,
        timezone=row.timezone,
        max_attempts=row.max_attempts,
        backoff_seconds=row.backoff_seconds,
        lease_seconds=row.lease_seconds,
        catch_up_days=row.catch_up_days,
        wait_seconds=row.wait_seconds,
        enabled=row.enabled,
    )


def definitions(session: Session) -> list[JobSpec]:
    rows = session.execute(
        select(JobDefinitionRow).order_by(JobDefinitionRow.sort_order, JobDefinitionRow.name)
    )
    try:
        return [spec_of(r) for r in rows.scalars()]
    except ScheduleError as exc:
        raise JobError(str(exc)) from None


def definition(session: Session, name: str) -> JobSpec:
    row = session.get(JobDefinitionRow, name)
    if row is None:
        known = ", ".join(s.name for s in definitions(session))
        raise JobError(f"unknown job {name!r} (known: {known})")
    try:
        return spec_of(row)
    except ScheduleError as exc:
        raise JobError(str(exc)) from None


# ------------------------------------------------------------------------------------------------ claim


def claim(
    factory: sessionmaker[Session],
    spec: JobSpec,
    day: date,
    *,
    worker: str,
    now: datetime,
    trigger: str,
    again: bool = False,
) -> tuple[int, int] | str:
    """Claim (job, day) and open its run row: (run id, attempt), or why not (a reason code).

    ``trigger="manual"`` (a person's ``jobs run``) may skip a back-off and revive a dead job; ``again``
    re-runs a date that succeeded (safe: handlers are idempotent per business date)."""
    lease = now + timedelta(seconds=spec.lease_seconds)
    manual = trigger == "manual"
    with factory() as session:
        exists = session.get(JobClaimRow, (spec.name, day)) is not None
    try:
        if exists:
            raise IntegrityError("", None, ValueError("claim row exists"))  # straight to the take-over
        with factory() as session, session.begin():
            session.add(
                JobClaimRow(
                    job=spec.name,
                    business_date=day,
                    status="running",
                    attempts=1,
                    worker=worker,
                    lease_until=lease,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
            session.flush()
            return _open_run(session, spec, day, worker=worker, now=now, trigger=trigger, attempt=1)
    except IntegrityError:
        pass  # the row exists: try to take it over below
    c = JobClaimRow
    retryable = (
        ((c.status == "failed") & (c.attempts < spec.max_attempts) & ((c.next_attempt_at <= now) | manual))
        | ((c.status == "waiting") & ((c.next_attempt_at <= now) | manual))
        | ((c.status == "running") & (c.lease_until < now))
        | ((c.status == "dead") & manual)
        | ((c.status == "succeeded") & again)
    )
    with factory() as session, session.begin():
        taken = session.execute(
            update(JobClaimRow)
            .where(c.job == spec.name, c.business_date == day, retryable)
            .values(
                status="running",
                attempts=c.attempts + 1,
                worker=worker,
                lease_until=lease,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            row = session.get(JobClaimRow, (spec.name, day))
            return _why_not(row, spec, now)
        row = session.get(JobClaimRow, (spec.name, day), populate_existing=True)
        assert row is not None
        return _open_run(session, spec, day, worker=worker, now=now, trigger=trigger, attempt=row.attempts)


def _why_not(row: JobClaimRow | None, spec: JobSpec, now: datetime) -> str:
    if row is None:
        return "CLAIMED_ELSEWHERE"
    if row.status == "succeeded":
        return "ALREADY_SUCCEEDED"
    if row.status == "dead":
        return "DEAD"
    if row.status == "running":
        return "CLAIMED_ELSEWHERE"
    if row.status == "failed" and row.attempts >= spec.max_attempts:
        return "DEAD"
    return "NOT_DUE_YET"  # failed or waiting, its next attempt later than now


def _open_run(
    session: Session, spec: JobSpec, day: date, *, worker: str, now: datetime, trigger: str, attempt: int
) -> tuple[int, int]:
    run = JobRunRow(
        job=spec.name,
        business_date=day,
        attempt=attempt,
        worker=worker,
        trigger=trigger,
        started_at=now,
        outcome="running",
    )
    session.add(run)
    session.flush()
    return run.id, attempt


def _finish(
    factory: sessionmaker[Session],
    spec: JobSpec,
    day: date,
    *,
    run_id: int,
    worker: str,
    attempt: int,
    outcome: str,
    finished: datetime,
    duration_ms: int,
    summary: dict[str, Any] | None,
    error: str | None,
) -> None:
    if outcome == "succeeded":
        status, next_at = "succeeded", None
    elif outcome == "waiting":
        status, next_at = "waiting", finished + timedelta(seconds=spec.wait_seconds)
    else:
        status, next_at = after_failure(spec, attempt, finished)
    c = JobClaimRow
    with factory() as session, session.begin():
        session.execute(
            update(JobClaimRow)
            .where(c.job == spec.name, c.business_date == day, c.worker == worker, c.status == "running")
            .values(
                status=status,
                next_attempt_at=next_at,
                lease_until=None,
                updated_at=finished,
                # waiting for the input does not use up an attempt
                attempts=c.attempts - 1 if outcome == "waiting" else c.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        run = session.get(JobRunRow, run_id)
        assert run is not None
        run.finished_at = finished
        run.duration_ms = duration_ms
        run.outcome = outcome
        run.summary_json = (
            json.dumps(summary, ensure_ascii=False, default=str) if summary is not None else None
        )
        run.error = error


# -------------------------------------------------------------------------------------------------- run


def run_one(
    engine: Engine,
    spec: JobSpec,
    day: date,
    *,
    worker: str,
    trigger: str,
    clock: Callable[[], datetime] = _utc_now,
    again: bool = False,
) -> JobResult:
    """Claim, run the handler, record the outcome. A handler's exception is the run's ``failed`` outcome
    (with the traceback's last lines), retried after its back-off until ``max_attempts``."""
    fn = _handlers().get(spec.handler)
    if fn is None:
        raise JobError(f"job {spec.name}: no handler {spec.handler!r}")
    factory = session_factory(engine)
    started = clock()
    claimed = claim(factory, spec, day, worker=worker, now=started, trigger=trigger, again=again)
    if isinstance(claimed, str):
        return JobResult(spec.name, day, "skipped", skipped=claimed)
    run_id, attempt = claimed
    tick = clock_time.perf_counter()
    summary: dict[str, Any] | None = None
    error: str | None = None
    try:
        summary = fn(JobContext(engine, factory, day, started, worker))
        outcome = "succeeded"
    except NotReady as exc:
        outcome, summary = "waiting", {"waiting_for": str(exc)}
    except Exception as exc:  # a failed run is recorded and retried, never raised into the worker loop
        outcome = "failed"
        error = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=-3))[-2000:]
        log.warning("job %s %s attempt %d failed: %s", spec.name, day, attempt, exc)
    duration_ms = int((clock_time.perf_counter() - tick) * 1000)
    _finish(
        factory,
        spec,
        day,
        run_id=run_id,
        worker=worker,
        attempt=attempt,
        outcome=outcome,
        finished=clock(),
        duration_ms=duration_ms,
        summary=summary,
        error=error,
    )
    return JobResult(spec.name, day, outcome, attempt, run_id, duration_ms, summary, error)


def tick(
    engine: Engine,
    *,
    worker: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
    only: str | None = None,
    through: date | None = None,
) -> list[JobResult]:
    """One pass of the worker: every enabled job's due business dates, oldest first, in definition order.
    Dates already done, held by another runner or waiting out a back-off are skipped (and not listed);
    so are dates after ``through`` (the platform's business date, when it is fixed)."""
    me = worker or worker_name()
    with session_factory(engine)() as session:
        specs = [s for s in definitions(session) if only is None or s.name == only]
    results: list[JobResult] = []
    for spec in specs:
        for day in due_dates(spec, clock()):
            if through is not None and day > through:
                continue
            result = run_one(engine, spec, day, worker=me, trigger="schedule", clock=clock)
            if result.outcome != "skipped":
                results.append(result)
    return results


def run_now(
    engine: Engine,
    *,
    day: date,
    job: str | None = None,
    worker: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
    again: bool = False,
) -> list[JobResult]:
    """A person's ``jobs run``: the named job (or every enabled job, in order) for ``day``, now."""
    me = worker or worker_name()
    with session_factory(engine)() as session:
        specs = [definition(session, job)] if job else [s for s in definitions(session) if s.enabled]
    return [run_one(engine, s, day, worker=me, trigger="manual", clock=clock, again=again) for s in specs]


def work(
    engine: Engine,
    *,
    once: bool = False,
    interval_seconds: float = 60.0,
    max_ticks: int | None = None,
    through: Callable[[], date] | None = None,
    worker: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
    sleep: Callable[[float], None] = clock_time.sleep,
    on_tick: Callable[[list[JobResult], dict[str, int]], None] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """``xiaodai jobs worker``: run due jobs and drain the notification outbox, every ``interval_seconds``,
    until ``stopping()`` says so (checked between passes and during the wait; ``once``: one pass).
    Returns the number of passes."""
    from xiaodai.notify import service as notify

    me = worker or worker_name()
    passes = 0
    while True:
        results = tick(engine, worker=me, clock=clock, through=through() if through else None)
        with session_factory(engine)() as session, session.begin():
            drained = notify.drain(session, as_of=clock())
        passes += 1
        if on_tick is not None:
            on_tick(results, drained)
        if once or (max_ticks is not None and passes >= max_ticks) or stopping():
            return passes
        waited = 0.0
        while waited < interval_seconds and not stopping():
            step = min(1.0, interval_seconds - waited)
            sleep(step)
            waited += step
        if stopping():
            return passes


# ---------------------------------------------------------------------------------------------- reading


def _iso(at: datetime | None) -> str | None:
    aware = _aware(at)
    return aware.isoformat() if aware else None


def run_view(row: JobRunRow) -> dict[str, Any]:
    started, finished = _aware(row.started_at), _aware(row.finished_at)
    return {
        "run_id": row.id,
        "job": row.job,
        "business_date": row.business_date.isoformat(),
        "attempt": row.attempt,
        "trigger": row.trigger,
        "worker": row.worker,
        "started_at": started.isoformat() if started else None,
        "finished_at": finished.isoformat() if finished else None,
        "duration_ms": row.duration_ms,
        "outcome": row.outcome,
        "summary": json.loads(row.summary_json) if row.summary_json else None,
        "error": row.error.splitlines()[0] if row.error else None,
    }


def overview(session: Session, *, job: str | None = None, limit: int = 50) -> dict[str, Any]:
    """Definitions with each one's latest claims, and the latest runs (newest first)."""
    specs = definitions(session)
    if job is not None and job not in {s.name for s in specs}:
        raise JobError(f"unknown job {job!r} (known: {', '.join(s.name for s in specs)})")
    claims = session.execute(
        select(JobClaimRow).order_by(JobClaimRow.business_date.desc()).limit(max(len(specs), 1) * 10)
    ).scalars()
    latest: dict[str, dict[str, Any]] = {}
    for c in claims:
        latest.setdefault(
            c.job,
            {
                "business_date": c.business_date.isoformat(),
                "status": c.status,
                "attempts": c.attempts,
                "next_attempt_at": _iso(c.next_attempt_at),
            },
        )
    query = select(JobRunRow).order_by(JobRunRow.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRunRow.job == job)
    return {
        "jobs": [
            {
                "name": s.name,
                "handler": s.handler,
                "run_at_local": s.run_at_local.strftime("%H:%M"),
                "timezone": s.timezone,
                "day_offset": s.day_offset,
                "max_attempts": s.max_attempts,
                "backoff_seconds": s.backoff_seconds,
                "enabled": s.enabled,
                "latest": latest.get(s.name),
            }
            for s in specs
            if job is None or s.name == job
        ],
        "runs": [run_view(r) for r in session.execute(query).scalars()],
    }
