"""A repayment that commits while end of day's overdue step runs (PostgreSQL: EOD reads the late loans
without locking them) is neither overwritten nor charged a stale penalty: the loan is read again under a
lock and the result equals running the payment first, then the day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from support.servicing_books import book, snapshot
from xiaodai.db.session import make_engine, session_factory
from xiaodai.servicing import eod, service
from xiaodai.servicing.views import loan_view

DAY = date(2026, 3, 15)


def _pay_arrears(factory: sessionmaker[Session], loan_id: int) -> None:
    with factory() as s, s.begin():
        service.repay(s, loan_id=loan_id, amount_fen=250_000, on=DAY, idempotency_key="arrears")


def test_payment_during_the_overdue_step(
    db_url: str,
    factory: sessionmaker[Session],
    engine: Engine,
    new_loan: Callable[..., int],
    clone_db: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: no payment can commit inside the step")
    late = book(factory, new_loan)[2]  # the non-payer: two instalments overdue by 2026-03-15
    eod.run_eod(engine, date(2026, 3, 14))

    reference = make_engine(clone_db())  # serial order: the payment, then the day
    _pay_arrears(session_factory(reference), late)
    eod.run_day(reference, DAY)
    want = snapshot(session_factory(reference))
    reference.dispose()

    real = eod._apply_overdue
    calls: list[bool] = []

    def pay_first(conn: Any, day: date, *, rows: str, check_version: bool) -> int:
        calls.append(check_version)
        if check_version:  # the step has read the late loans; a payment commits before it writes them
            _pay_arrears(factory, late)
        return real(conn, day, rows=rows, check_version=check_version)

    monkeypatch.setattr(eod, "_apply_overdue", pay_first)
    eod.run_day(engine, DAY)
    assert calls == [True, False]  # the paid loan went through the locked second pass
    assert snapshot(factory) == want
    with factory() as s:
        view = loan_view(s, loan_id=late, as_of=DAY)
    assert (view["state"], view["days_past_due"], view["bucket"]) == ("active", 0, "M0")


def test_a_step_cancelled_by_a_deadlock_runs_again(
    factory: sessionmaker[Session],
    engine: Engine,
    new_loan: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    import psycopg
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    book(factory, new_loan)
    eod.run_eod(engine, date(2026, 3, 14))
    failures = [2]  # PostgreSQL cancels the step twice, as it does the loser of a deadlock

    def bill_then_deadlock(conn: Any, day: date) -> int:
        rows = eod.step_bill(conn, day)  # its writes are rolled back with the failed attempt
        if failures[0]:
            failures[0] -= 1
            conn.execute(text("SELECT 1"))
            raise OperationalError("UPDATE loans …", {}, psycopg.errors.DeadlockDetected())
        return rows

    steps = tuple(
        dataclasses.replace(s, run=bill_then_deadlock) if s.name == "bill" else s for s in eod.STEPS
    )
    monkeypatch.setattr(eod, "STEPS", steps)
    results = eod.run_day(engine, DAY)
    assert failures == [0]
    assert [r.step for r in results if not r.skipped] == [s.name for s in steps]
    with factory() as s:
        from xiaodai.ledger import service as ledger

        assert ledger.check(s) == []
    failures[0] = 5  # more than the attempts: the error reaches the caller, nothing of the step is kept
    assert eod.run_day(engine, DAY)[0].skipped  # (the day is done; a new day shows the failure)
    with pytest.raises(OperationalError):
        eod.run_day(engine, date(2026, 3, 16))
    assert "bill" not in eod.completed_steps(engine, date(2026, 3, 16))
