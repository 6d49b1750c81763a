"""End of day opens a collection case for each loan entering an overdue bucket, once, and assigns it to the
least-loaded collector (strategy ``cases``) — both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.accounts.service import sign_up
from xiaodai.collections.case_opening import open_cases
from xiaodai.db.tables import CollectionCaseRow, LoanEventRow, LoanRow
from xiaodai.servicing import service
from xiaodai.servicing.eod import run_day, run_eod

START = date(2026, 1, 10)  # first instalment due 2026-02-10


def _collectors(factory: sessionmaker[Session], n: int) -> list[int]:
    with factory() as s, s.begin():
        ids = [
            sign_up(
                s,
                email=f"c{k}@x.test",
                name="催收员",
                password="correct horse 1",
                kind="staff",
                roles=("collector",),
            ).id
            for k in range(n)
        ]
        sign_up(
            s,
            email="uw@x.test",
            name="审批员",
            password="correct horse 1",
            kind="staff",
            roles=("underwriter",),
        )
    return ids


def _cases(factory: sessionmaker[Session]) -> dict[int, int | None]:
    with factory() as s:
        rows = s.execute(select(CollectionCaseRow.loan_id, CollectionCaseRow.assigned_to)).all()
        return {int(loan_id): assigned for loan_id, assigned in rows}


def _pay_first(factory: sessionmaker[Session], loan_id: int) -> None:
    with factory() as s, s.begin():
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        from xiaodai.servicing.views import loan_view

        first = loan_view(s, loan_id=loan_id)["schedule"][0]
        service.repay(
            s,
            loan_id=loan_id,
            amount_fen=int(Decimal(first["payment"]) * 100),
            on=date(2026, 2, 10),
            idempotency_key=f"pay-{loan_id}",
        )


def test_overdue_loans_get_one_case_each_assigned_by_load(
    engine: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    first, second = _collectors(factory, 2)
    late = [new_loan(start=START) for _ in range(3)]
    paying = new_loan(start=START)
    _pay_first(factory, paying)
    run_eod(engine, date(2026, 2, 10))
    assert _cases(factory) == {}  # due today is not overdue yet: no case
    run_day(engine, date(2026, 2, 11))  # one day past due: M1
    cases = _cases(factory)
    assert set(cases) == set(late)  # the paying loan has none
    assert [cases[k] for k in sorted(late)] == [first, second, first]
    with factory() as s:
        opened = s.execute(
            select(func.count())
            .select_from(LoanEventRow)
            .where(LoanEventRow.kind == "collection-case-opened")
        ).scalar_one()
    assert opened == 3
    run_day(engine, date(2026, 2, 12))  # still overdue: nothing new, the collector kept
    assert _cases(factory) == cases
    with factory() as s, s.begin():
        assert open_cases(s, day=date(2026, 2, 12)) == 0  # the step itself is idempotent too


def test_a_new_overdue_loan_goes_to_the_least_loaded_collector(
    engine: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    first, second = _collectors(factory, 2)
    a, b = new_loan(start=START), new_loan(start=START)
    run_eod(engine, date(2026, 2, 11))
    assert _cases(factory) == {a: first, b: second}
    c = new_loan(start=date(2026, 1, 20))  # due 2026-02-20
    run_eod(engine, date(2026, 2, 21))
    assert _cases(factory)[c] == first  # both had one: tie goes to the lower id


def test_without_collectors_cases_open_unassigned(
    engine: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan = new_loan(start=START)
    run_eod(engine, date(2026, 2, 11))
    assert _cases(factory) == {loan: None}
