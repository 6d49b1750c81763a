"""The job runner on SQLite and PostgreSQL: a failing job is retried after its back-off and never posts
twice; end of day run twice for a date gives the same books; runners racing for a (job, date) claim it
once; an expired lease is taken over and the old runner's finish is fenced off; reconciliation waits for
its file; the CLI lists runs with durations and outcomes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from support.servicing_books import book, snapshot
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import JobClaimRow, JobDefinitionRow, JobRunRow
from xiaodai.jobs import runner
from xiaodai.jobs.runner import JobContext
from xiaodai.ledger import service as ledger
from xiaodai.servicing.eod import run_eod

CN = ZoneInfo("Asia/Shanghai")
BEFORE = date(2026, 2, 1)  # end of day closed through here before the tests' job runs
DAY = date(2026, 2, 12)  # the job's business date: billing on 02-10, arrears and penalties after


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def define(factory: sessionmaker[Session], name: str, handler: str, **rest: Any) -> None:
    values = {
        "run_at_local": "00:30",
        "day_offset": 1,
        "timezone": "Asia/Shanghai",
        "max_attempts": 3,
        "backoff_seconds": 60,
        "lease_seconds": 600,
        "catch_up_days": 1,
        "wait_seconds": 900,
        "sort_order": 99,
        **rest,
    }
    with factory() as s, s.begin():
        s.query(JobDefinitionRow).update({"enabled": False})  # only the test's job is scheduled
        s.add(JobDefinitionRow(name=name, handler=handler, enabled=True, **values))


def runs(factory: sessionmaker[Session], job: str) -> list[tuple[int, str, str]]:
    with factory() as s:
        rows = s.execute(select(JobRunRow).where(JobRunRow.job == job).order_by(JobRunRow.id)).scalars()
        return [(r.attempt, r.outcome, r.trigger) for r in rows]


def claim_of(factory: sessionmaker[Session], job: str, day: date) -> JobClaimRow:
    with factory() as s:
        row = s.get(JobClaimRow, (job, day))
        assert row is not None
        return row


def test_a_failing_job_is_retried_after_its_backoff_and_never_posts_twice(
    factory: sessionmaker[Session],
    engine: Engine,
    new_loan: Callable[..., int],
    clone_db: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book(factory, new_loan)
    run_eod(engine, BEFORE)
    reference = make_engine(clone_db())  # the same start, closed once without failures
    run_eod(reference, DAY)
    expected = snapshot(session_factory(reference))
    reference.dispose()

    calls: list[int] = []

    def flaky(ctx: JobContext) -> dict[str, Any]:
        calls.append(1)
        summary = runner.HANDLERS["servicing.eod"](ctx)  # end of day commits its steps …
        if len(calls) == 1:
            raise RuntimeError("connection lost after end of day committed")  # … and then the run fails
        return summary

    runner._handlers()
    monkeypatch.setitem(runner.HANDLERS, "test.flaky_eod", flaky)
    define(factory, "flaky", "test.flaky_eod", backoff_seconds=60)
    due = datetime(2026, 2, 13, 0, 30, tzinfo=CN)  # DAY's run is due at 00:30 the next day
    clock = Clock(due)
    (first,) = runner.tick(engine, worker="w1", clock=clock)
    assert (first.outcome, first.attempt) == ("failed", 1)
    assert "connection lost" in (first.error or "")
    after = claim_of(factory, "flaky", DAY)
    assert after.status == "failed"
    clock.at = due + timedelta(seconds=59)
    assert runner.tick(engine, worker="w1", clock=clock) == []  # backing off
    clock.at = due + timedelta(seconds=61)
    (second,) = runner.tick(engine, worker="w1", clock=clock)
    assert (second.outcome, second.attempt) == ("succeeded", 2)
    assert second.summary is not None
    assert set(second.summary["days"][DAY.isoformat()].values()) == {"skipped"}  # nothing done twice
    assert snapshot(factory) == expected
    with factory() as s:
        assert ledger.check(s) == []
    assert runs(factory, "flaky") == [(1, "failed", "schedule"), (2, "succeeded", "schedule")]
    clock.at = due + timedelta(hours=1)
    assert runner.tick(engine, worker="w1", clock=clock) == []  # done for the date


def test_a_job_that_keeps_failing_is_dead_until_a_person_runs_it(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner._handlers()
    monkeypatch.setitem(runner.HANDLERS, "test.broken", lambda ctx: 1 / 0)
    define(factory, "broken", "test.broken", max_attempts=2, backoff_seconds=10)
    clock = Clock(datetime(2026, 2, 13, 1, tzinfo=CN))
    for _ in range(4):
        runner.tick(engine, worker="w", clock=clock)
        clock.at += timedelta(minutes=5)
    assert runs(factory, "broken") == [(1, "failed", "schedule"), (2, "failed", "schedule")]
    assert claim_of(factory, "broken", DAY).status == "dead"
    monkeypatch.setitem(runner.HANDLERS, "test.broken", lambda ctx: {"fixed": True})
    (manual,) = runner.run_now(engine, day=DAY, job="broken", worker="ops", clock=clock)
    assert (manual.outcome, manual.attempt) == ("succeeded", 3)
    assert runs(factory, "broken")[-1] == (3, "succeeded", "manual")


def test_end_of_day_run_twice_for_a_date_gives_the_same_books(
    factory: sessionmaker[Session], engine: Engine, new_loan: Callable[..., int]
) -> None:
    book(factory, new_loan)
    run_eod(engine, BEFORE)
    (once,) = runner.run_now(engine, day=DAY, job="eod", worker="ops")
    assert once.outcome == "succeeded"
    books = snapshot(factory)
    assert books["journal"]  # billing and penalties were posted
    (refused,) = runner.run_now(engine, day=DAY, job="eod", worker="ops")
    assert (refused.outcome, refused.skipped) == ("skipped", "ALREADY_SUCCEEDED")
    (twice,) = runner.run_now(engine, day=DAY, job="eod", worker="ops", again=True)
    assert (twice.outcome, twice.attempt) == ("succeeded", 2)
    assert snapshot(factory) == books
    (older,) = runner.run_now(engine, day=DAY - timedelta(days=3), job="eod", worker="ops")
    assert older.summary == {"closed_through": DAY.isoformat(), "days": {}}  # never closes a day behind
    assert snapshot(factory) == books


def test_runners_racing_for_a_job_date_claim_it_once(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def slow(ctx: JobContext) -> dict[str, Any]:
        started.append(ctx.worker)
        time.sleep(0.5)
        return {"by": ctx.worker}

    runner._handlers()
    monkeypatch.setitem(runner.HANDLERS, "test.slow", slow)
    define(factory, "slow", "test.slow")
    clock = Clock(datetime(2026, 2, 13, 1, tzinfo=CN))
    gate = threading.Barrier(4)
    results: list[list[runner.JobResult]] = []

    def worker(name: str) -> None:
        gate.wait()
        results.append(runner.tick(engine, worker=name, clock=clock))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = [r for batch in results for r in batch]
    assert len(started) == 1
    assert [(r.outcome, r.summary) for r in ran] == [("succeeded", {"by": started[0]})]
    assert runs(factory, "slow") == [(1, "succeeded", "schedule")]


def test_an_expired_lease_is_taken_over_and_the_old_runner_is_fenced_off(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    define(factory, "leased", "notify.reminders", lease_seconds=60)
    with factory() as s:
        spec = runner.definition(s, "leased")
    now = datetime(2026, 2, 13, 1, tzinfo=CN)
    first = runner.claim(factory, spec, DAY, worker="crashed", now=now, trigger="schedule")
    assert isinstance(first, tuple)
    held = runner.claim(factory, spec, DAY, worker="w2", now=now + timedelta(seconds=30), trigger="schedule")
    assert held == "CLAIMED_ELSEWHERE"
    taken = runner.claim(factory, spec, DAY, worker="w2", now=now + timedelta(seconds=61), trigger="schedule")
    assert isinstance(taken, tuple)
    assert taken[1] == 2
    # the first runner wakes up and reports failure: the claim is no longer its own and is left alone
    runner._finish(
        factory,
        spec,
        DAY,
        run_id=first[0],
        worker="crashed",
        attempt=1,
        outcome="failed",
        finished=now + timedelta(seconds=62),
        duration_ms=62_000,
        summary=None,
        error="late",
    )
    claim = claim_of(factory, "leased", DAY)
    assert (claim.status, claim.worker) == ("running", "w2")


def test_reconciliation_waits_for_the_settlement_file(
    factory: sessionmaker[Session], engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAODAI_SETTLEMENT_DIR", str(tmp_path))
    clock = Clock(datetime(2026, 2, 13, 9, tzinfo=CN))
    with factory() as s, s.begin():
        s.query(JobDefinitionRow).where(JobDefinitionRow.name != "reconcile").update({"enabled": False})
        s.query(JobDefinitionRow).where(JobDefinitionRow.name == "reconcile").update({"catch_up_days": 1})
    (waiting,) = runner.tick(engine, worker="w", clock=clock)
    assert (waiting.business_date, waiting.outcome) == (DAY, "waiting")
    assert claim_of(factory, "reconcile", DAY).attempts == 0  # waiting uses no attempt
    (tmp_path / f"settlement-{DAY.isoformat()}.csv").write_text("channel_ref,settled_on,status,amount\n")
    clock.at += timedelta(minutes=5)
    assert runner.tick(engine, worker="w", clock=clock) == []  # looked at again after wait_seconds
    clock.at += timedelta(minutes=11)
    (done,) = runner.tick(engine, worker="w", clock=clock)
    assert done.outcome == "succeeded"
    assert done.summary is not None
    assert done.summary["suspense_posted_fen"] == 0


def test_the_cli_runs_and_lists_jobs(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAODAI_SETTLEMENT_DIR", str(tmp_path))
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", "2026-02-12")
    ran = cli("jobs", "run", "--date", "2026-02-12", "--json")
    assert [(r["job"], r["outcome"]) for r in ran] == [
        ("eod", "succeeded"),
        ("debits", "succeeded"),
        ("payout_query", "succeeded"),
        ("line_review", "succeeded"),
        ("reminders", "succeeded"),
        ("reconcile", "waiting"),
    ]
    again = cli("jobs", "run", "--date", "2026-02-12", "--job", "eod", "--json")
    assert again[0]["skipped"] == "ALREADY_SUCCEEDED"
    listed = cli("jobs", "list", "--json")
    assert [j["name"] for j in listed["jobs"]] == [
        "eod",
        "debits",
        "payout_query",
        "line_review",
        "reminders",
        "reconcile",
    ]
    assert {r["outcome"] for r in listed["runs"]} == {"succeeded", "waiting"}
    assert all(r["duration_ms"] is not None for r in listed["runs"])
    assert "after today's business date" in cli("jobs", "run", "--date", "2026-02-13", code=2).stderr
    assert "unknown job" in cli("jobs", "run", "--job", "nope", code=2).stderr
    assert "unknown job" in cli("jobs", "list", "--job", "nope", code=2).stderr
    worker = cli("jobs", "worker", "--once", "--json")  # 2026-02-12 at the wall clock's time of day
    assert {r["outcome"] for r in worker["runs"]} <= {"succeeded", "waiting"}
    assert all(r["business_date"] <= "2026-02-12" for r in worker["runs"])  # never after the business date
    assert set(worker["outbox"]) == {"allow", "block", "suppress", "sent"}
    notify = cli("notify", "run", "--date", "2026-02-12", "--json")
    assert notify["date"] == "2026-02-12"
    assert "after today's business date" in cli("notify", "run", "--date", "2026-02-13", code=2).stderr


def test_the_worker_finishes_its_pass_and_exits_on_sigterm(db_url: str, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {
        **os.environ,
        "XIAODAI_DATABASE_URL": db_url,
        "XIAODAI_SETTLEMENT_DIR": str(tmp_path),
        "XIAODAI_BUSINESS_DATE": "2026-02-12",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "xiaodai.cli.main", "jobs", "worker", "--interval", "30", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # one pass done
    assert b'"outbox"' in first
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0  # not the 30 s interval, and not killed


def test_any_sequence_of_ticks_failures_and_manual_runs_keeps_the_claim_consistent(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A property over random sequences (worker passes, manual runs, re-runs, failures, time moving on):
    run attempts are numbered 1, 2, 3… without gaps; the claim's status is the last run's outcome (``dead``
    after a last failure); the scheduler never goes past ``max_attempts``; a date succeeds at most once
    unless a person asks ``--again``."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    fail_next: list[bool] = []
    runner._handlers()
    monkeypatch.setitem(
        runner.HANDLERS,
        "test.maybe",
        lambda ctx: (_ for _ in ()).throw(RuntimeError("boom")) if fail_next.pop() else {"ok": True},
    )
    define(
        factory, "maybe", "test.maybe", max_attempts=3, backoff_seconds=60, day_offset=0, run_at_local="06:00"
    )
    days = iter(date(2027, 1, 1) + timedelta(days=k) for k in range(10_000))
    action = st.tuples(st.sampled_from(["tick", "manual", "again"]), st.booleans(), st.integers(0, 300))

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(plan=st.lists(action, min_size=1, max_size=10))
    def check(plan: list[tuple[str, bool, int]]) -> None:
        day = next(days)
        clock = Clock(datetime.combine(day, datetime.min.time(), tzinfo=CN).replace(hour=6))
        agains = 0
        for kind, fails, advance in plan:
            fail_next[:] = [fails]
            if kind == "tick":
                runner.tick(engine, worker="w", clock=clock, through=day)
            else:
                agains += kind == "again"
                runner.run_now(engine, day=day, job="maybe", worker="ops", clock=clock, again=kind == "again")
            clock.at += timedelta(seconds=advance)
        with factory() as s:
            rows = list(
                s.execute(
                    select(JobRunRow)
                    .where(JobRunRow.job == "maybe", JobRunRow.business_date == day)
                    .order_by(JobRunRow.id)
                ).scalars()
            )
            claim = s.get(JobClaimRow, ("maybe", day))
        if not rows:
            assert claim is None or claim.status != "running"
            return
        assert claim is not None
        assert [r.attempt for r in rows] == list(range(1, len(rows) + 1))
        last = rows[-1].outcome
        expected = last if last != "failed" else ("dead" if claim.attempts >= 3 else "failed")
        assert claim.status == expected
        assert claim.attempts == len(rows)
        assert sum(r.outcome == "succeeded" for r in rows) <= 1 + agains
        for i, r in enumerate(rows):
            if r.trigger == "schedule":  # the scheduler never revives a dead date nor re-runs a success
                before = rows[:i]
                assert sum(b.outcome == "failed" for b in before) < 3 or any(
                    b.trigger == "manual" for b in before
                )
                assert not any(b.outcome == "succeeded" for b in before) or any(
                    b.trigger == "manual" for b in before
                )

    check()
