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
