"""End of day: billing, penalty, DPD buckets, events; idempotent per day; catch-up equals day by day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from support.servicing_books import book, snapshot
from xiaodai.db.tables import LoanEventRow
from xiaodai.ledger import service as ledger
from xiaodai.servicing.eod import run_day, run_eod
from xiaodai.servicing.views import loan_view


def test_eod_bills_penalises_and_buckets(
    factory: sessionmaker[Session], engine: Engine, new_loan: Callable[..., int]
) -> None:
    ids = book(factory, new_loan)
    run_eod(engine, date(2026, 3, 15))
    with factory() as s:
        late = loan_view(s, loan_id=ids[2], as_of=date(2026, 3, 15))
        assert ledger.check(s) == []
        events = s.execute(
            select(LoanEventRow.kind, LoanEventRow.payload).where(LoanEventRow.loan_id == ids[2])
        ).all()
    assert late["state"] == "overdue"
    assert late["days_past_due"] == 33  # oldest unpaid instalment due 2026-02-10
    assert late["bucket"] == "M2"
    assert late["schedule"][0]["status"] == "overdue"
    assert late["balances"]["penalties"] != "0.00"
    # M1 on 2026-02-11 (and the collections step opened its case that day), M2 on 2026-03-13
    assert [k for k, _ in events] == ["bucket-entered", "collection-case-opened", "bucket-entered"]
    assert '"to": "M2"' in events[-1][1]
    # the over-payer's excess went to instalment 2 when it was billed
    with factory() as s:
        over = loan_view(s, loan_id=ids[3], as_of=date(2026, 3, 15))
    assert over["balances"]["overpayment"] == "0.00"
    assert over["schedule"][0]["status"] == "paid"
    assert over["schedule"][1]["paid"] == "554.67"  # 2000.00 − instalment 1 (1445.33)


def test_running_a_day_twice_equals_once(
    factory: sessionmaker[Session], engine: Engine, new_loan: Callable[..., int]
) -> None:
    book(factory, new_loan)
    run_eod(engine, date(2026, 3, 15))
    once = snapshot(factory)
    again = run_day(engine, date(2026, 3, 15))
    assert all(r.skipped for r in again)
    assert snapshot(factory) == once


def test_penalty_equals_the_integer_formula_on_every_backend(
    factory: sessionmaker[Session], engine: Engine, new_loan: Callable[..., int]
) -> None:
    from xiaodai.db.tables import LoanRow
    from xiaodai.servicing.accrual import penalty_for_day

    loan_id = new_loan()  # instalment 1 (777.58 principal) due 2026-02-10, unpaid
    run_eod(engine, date(2026, 2, 11))
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        expected = penalty_for_day(77_758, loan.penalty_rate_daily_e9)
        assert (
            loan.penalties_charged_fen == expected
        )  # PostgreSQL once rounded SUM(bigint) as numeric: +1 fen
