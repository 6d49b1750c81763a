"""Crash safety: kill the real ``xiaodai eod`` process at random points, rerun, and compare with an
uninterrupted run from the same starting point. Also: catching up many days in one call equals running
them one by one."""

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

THROUGH = date(2031, 12, 31)  # ~2,000 business days: long enough to be killed mid-way many times


def _eod_process(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "XIAODAI_DATABASE_URL": url}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xiaodai.cli.main",
            "eod",
            "--date",
            THROUGH.isoformat(),
            "--json",
            "--max-days",
            "5000",
            "--allow-future",
        ],  # a simulation: years ahead of today's date
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


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

    rng = random.Random(20261129)
    kills = 0
    crashed = make_engine(crash_url)
    for _ in range(30):
        if kills >= 10 and last_completed_day(crashed) == THROUGH:
            break
        proc = _eod_process(crash_url)
        time.sleep(rng.uniform(0.5, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 10, "the EOD finished too fast to be killed ten times"
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
