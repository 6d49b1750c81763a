"""Crash safety: kill the real ``xiaodai eod`` process at random points, rerun, and compare with an
uninterrupted run from the same starting point. Also: catching up many days in one call equals running them
one by one.

The kills are spread over the whole span and land inside the EOD work: each run is killed as soon as the days
it has committed are seen to reach a random target day (never while the interpreter is still starting, which a
fixed delay after the start mostly hit; each run's range ends a few weeks after its target, so a kill seen
late on a loaded machine still lands before the last day — ``_kill_at``), so the kills fall at arbitrary steps
of days in every phase of the book. The span is the days on which the book changes in kind — every instalment
billed (the last falls due 2027-01-10), the over-payment applied, every late loan through M1..M4+ to its
write-off candidate event (180 DPD) — checked on the reference run, plus three weeks of penalty and DPD after
them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from support.servicing_books import book, snapshot
from xiaodai.db.session import make_engine, session_factory
from xiaodai.ledger import service as ledger
from xiaodai.servicing.eod import last_completed_day, run_eod

FIRST = date(2026, 1, 11)  # the first EOD day of the book (its loans start 2026-01-10)
THROUGH = date(2027, 1, 31)  # ~390 days: every kind of change the book goes through (see above)
KILLS = 10


def _eod_process(url: str, through: date = THROUGH) -> subprocess.Popen[bytes]:
    env = {**os.environ, "XIAODAI_DATABASE_URL": url}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xiaodai.cli.main",
            "eod",
            "--date",
            through.isoformat(),
            "--json",
            "--max-days",
            "5000",
            "--allow-future",
        ],  # a simulation: years ahead of today's date
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_at(url: str, engine: Engine, target: date, rng: random.Random) -> date:
    """Run ``xiaodai eod`` on ``url`` and SIGKILL it once its committed days reach ``target`` (or the day
    after the last one committed, whichever is later): the kill lands in the next day's steps or a little
    later, by how long the check takes to see the commit. Each run is given a range ending a few weeks after
    its goal, never the book's last day, so a kill that comes late (a loaded machine: the checking process
    starved while the EOD runs on) still lands before THROUGH; a run that finishes its range before the check
    sees its goal is run again with a longer range. Returns the last completed day when the kill landed."""
    margin = 20
    for _attempt in range(6):
        last = last_completed_day(engine) or FIRST
        goal = max(target, last + timedelta(days=1))  # at least one day committed by this run itself
        end = min(goal + timedelta(days=margin), THROUGH - timedelta(days=1))
        assert goal < end, f"no room for a kill after {goal}"
        proc = _eod_process(url, end)
        try:
            deadline = time.monotonic() + 300
            day = last
            while proc.poll() is None and day < goal:
                assert time.monotonic() < deadline, f"the EOD did not reach {goal} within 300 s"
                time.sleep(0.005)
                day = last_completed_day(engine) or FIRST
            time.sleep(
                rng.uniform(0.0, 0.002)
            )  # somewhere in the next day's steps (~1 ms each on a fast machine)
            finished = proc.poll() is not None
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        if not finished:
            reached = last_completed_day(engine)
            assert reached is not None
            return reached
        margin *= 2  # it ran its whole range before the check saw its goal: a longer one
    raise AssertionError(f"no kill landed inside an EOD run after {target}")


def test_killed_eod_resumes_to_the_same_books(
    factory: sessionmaker[Session], engine: Engine, new_loan: Callable[..., int], clone_db: Callable[[], str]
) -> None:
    book(factory, new_loan)
    reference_url = clone_db()
    crash_url = clone_db()
    reference = make_engine(reference_url)
    run_eod(reference, THROUGH)
    want = snapshot(session_factory(reference))
    reference.dispose()
    assert all(billed for (_loan, _period, billed, _p, _i) in want["installments"])  # every instalment
    kinds = {(kind, payload) for (_loan, _day, kind, payload) in want["events"]}
    assert any(kind == "bucket-entered" and '"to": "M4+"' in payload for kind, payload in kinds)
    assert {kind for kind, _payload in kinds} >= {"bucket-entered", "write-off-candidate"}

    rng = random.Random(20261129)
    span = (THROUGH - FIRST).days
    # days after FIRST, spread over the first 60 % of the span
    targets = sorted(rng.sample(range(span * 6 // 10), KILLS))
    killed_after: list[date] = []  # the last completed day when each kill landed
    crashed = make_engine(crash_url)
    for target in targets:
        killed_after.append(_kill_at(crash_url, crashed, FIRST + timedelta(days=target), rng))
    assert len(killed_after) == KILLS
    assert all(day < THROUGH for day in killed_after), killed_after
    final = _eod_process(crash_url)
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""
    got = snapshot(session_factory(crashed))
    with session_factory(crashed)() as s:
        assert ledger.check(s) == []
    crashed.dispose()
    assert got == want


def test_catch_up_in_one_call_equals_day_by_day(
    factory: sessionmaker[Session], engine: Engine, new_loan: Callable[..., int], clone_db: Callable[[], str]
) -> None:
    book(factory, new_loan)
    other = make_engine(clone_db())
    run_eod(other, date(2026, 4, 20))
    at_once = snapshot(session_factory(other))
    other.dispose()
    day = date(2026, 1, 11)
    while day <= date(2026, 4, 20):
        run_eod(engine, day, catch_up=False)
        day += timedelta(days=1)
    assert snapshot(factory) == at_once
