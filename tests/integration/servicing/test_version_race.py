"""Concurrency by mechanism: every change to a loan through the ORM bumps ``loans.version`` (SQLAlchemy's
version counter), so end of day, which computes the day's penalties without locking and writes only loans
still at the version it read, can never charge over a change it did not see. The race of record: a fee
dispute suspends penalties while end of day is between computing and writing. Both databases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from xiaodai.complaints import service as complaints
from xiaodai.db.tables import JournalEntryRow, LoanRow, PostingRow
from xiaodai.servicing import eod
from xiaodai.servicing.eod import run_day, run_eod

DAY = date(2026, 2, 21)  # the loan is overdue since 2026-02-10


def _penalty_on(factory: sessionmaker[Session], loan_id: int, day: date) -> int:
    with factory() as s:
        return int(
            s.execute(
                select(func.coalesce(func.sum(PostingRow.amount_fen), 0))
                .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
                .where(
                    JournalEntryRow.event == "penalty",
                    JournalEntryRow.business_date == day,
                    PostingRow.loan_id == loan_id,
                    PostingRow.account == "assets:loans:penalties",
                )
            ).scalar_one()
        )


def _dispute(factory: sessionmaker[Session], loan_id: int) -> None:
    with factory() as s, s.begin():
        filed = complaints.file_complaint(
            s,
            narrative="借款时没有告诉我有服务费，年化利率比说的高。",
            channel="portal",
            loan_id=loan_id,
            received_at=datetime(2026, 2, 21, 2, tzinfo=UTC),
        )
    assert filed["penalty_suspended"] is True


def test_a_dispute_while_end_of_day_computes_is_never_charged_over(
    factory: sessionmaker[Session],
    engine: Engine,
    new_loan: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loan_id = new_loan()
    run_eod(engine, date(2026, 2, 20))
    assert _penalty_on(factory, loan_id, date(2026, 2, 20)) > 0  # penalties run before the dispute
    committed = threading.Event()
    disputed_first: list[bool] = []
    original = eod._apply_overdue

    def between_compute_and_write(conn: Any, day: date, *, rows: str, check_version: bool) -> int:
        if not disputed_first:  # once: the rows are computed (eod_overdue), nothing written yet
            worker = threading.Thread(target=lambda: (_dispute(factory, loan_id), committed.set()))
            worker.start()
            # PostgreSQL: end of day's read took no lock, so the dispute commits now. SQLite: end of day
            # holds the database's write lock, so the dispute waits for it (a serial order, EOD first).
            disputed_first.append(committed.wait(5))
            threads.append(worker)
        return original(conn, day, rows=rows, check_version=check_version)

    threads: list[threading.Thread] = []
    monkeypatch.setattr(eod, "_apply_overdue", between_compute_and_write)
    run_day(engine, DAY)
    for worker in threads:
        worker.join(30)
    assert committed.is_set()
    with factory() as s:
        loan = s.execute(select(LoanRow).where(LoanRow.id == loan_id)).scalar_one()
    assert loan.penalty_suspended is True
    if engine.dialect.name == "postgresql":
        assert disputed_first == [True]
    if disputed_first[0]:
        assert _penalty_on(factory, loan_id, DAY) == 0  # the dispute came first: no penalty for the day
    else:
        assert _penalty_on(factory, loan_id, DAY) > 0  # end of day came first: the day was charged


def test_every_orm_change_bumps_the_version_and_a_stale_write_fails(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s:
        before = s.execute(select(LoanRow.version).where(LoanRow.id == loan_id)).scalar_one()
    _dispute(factory, loan_id)  # the path that used to forget the hand-written ``version += 1``
    with factory() as s:
        after = s.execute(select(LoanRow.version).where(LoanRow.id == loan_id)).scalar_one()
    assert after == before + 1
    with factory() as stale:  # expire_on_commit=False: the loan stays as read, at its version
        held = stale.get(LoanRow, loan_id)
        assert held is not None
        stale.commit()
        with factory() as other, other.begin():
            fresh = other.get(LoanRow, loan_id)
            assert fresh is not None
            fresh.penalty_suspended = False
        held.dpd = 99  # written from what was read before ``other`` changed the loan
        with pytest.raises(StaleDataError):
            stale.flush()
