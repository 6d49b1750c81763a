"""``db.driver.fetch_rows``: a hot statement run on the session's psycopg connection returns exactly what
SQLAlchemy returns for it, in the same transaction, is seen by the engine's statement listeners, and fails
as SQLAlchemy fails (PostgreSQL only: the hot paths use it there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, String, TypeDecorator, bindparam, column, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.driver import DriverStatement, fetch_rows
from xiaodai.db.tables import InstallmentRow, LoanRow


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("the driver's statements are PostgreSQL's")
    return engine


_ROWS = (
    select(InstallmentRow.id, InstallmentRow.period, InstallmentRow.due_on, InstallmentRow.billed)
    .where(InstallmentRow.loan_id == bindparam("loan_id"))
    .order_by(InstallmentRow.period)
)


def test_rows_are_sqlalchemys_and_the_listeners_see_the_statement(
    pg: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append(("before", statement))

    def after(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append(("after", statement))

    with factory() as s:
        expected = [tuple(r) for r in s.connection().execute(_ROWS, {"loan_id": loan_id})]
    event.listen(pg, "before_cursor_execute", before)
    event.listen(pg, "after_cursor_execute", after)
    try:
        with factory() as s:
            got = fetch_rows(s.connection(), DriverStatement(_ROWS), {"loan_id": loan_id})
    finally:
        event.remove(pg, "before_cursor_execute", before)
        event.remove(pg, "after_cursor_execute", after)
    assert got == expected
    assert len(got) == 12
    assert [kind for kind, _ in seen] == ["before", "after"]
    assert "FROM installments" in seen[0][1]


def test_it_runs_in_the_sessions_transaction(
    pg: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    bump = DriverStatement(
        text("UPDATE loans SET dpd = dpd + 1 WHERE id = :loan_id RETURNING dpd").columns(
            column("dpd", LoanRow.dpd.type)
        )
    )
    with factory() as s:
        [(dpd,)] = fetch_rows(s.connection(), bump, {"loan_id": loan_id})
        assert s.execute(select(LoanRow.dpd).where(LoanRow.id == loan_id)).scalar_one() == dpd
        s.rollback()
    with factory() as s:
        assert s.execute(select(LoanRow.dpd).where(LoanRow.id == loan_id)).scalar_one() == dpd - 1


def test_a_driver_error_is_sqlalchemys(pg: Engine, factory: sessionmaker[Session]) -> None:
    claim = DriverStatement(
        text(
            "INSERT INTO commands (idempotency_key, command, fingerprint, result_json)"
            " VALUES (:key, 'test', 'f', '{}') RETURNING idempotency_key"
        )
    )
    with factory() as s:
        assert fetch_rows(s.connection(), claim, {"key": "driver-twice"}) == [("driver-twice",)]
        with pytest.raises(IntegrityError):
            fetch_rows(s.connection(), claim, {"key": "driver-twice"})
        s.rollback()
    with factory() as s:  # the connection went back to the pool usable
        assert fetch_rows(s.connection(), claim, {"key": "driver-twice"}) == [("driver-twice",)]
        s.rollback()


class _Shouting(TypeDecorator[str]):
    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


def test_a_type_that_converts_values_is_refused(pg: Engine, factory: sessionmaker[Session]) -> None:
    converting = DriverStatement(text("SELECT 'a' AS word").columns(column("word", _Shouting())))
    with factory() as s, pytest.raises(TypeError, match="converts"):
        fetch_rows(s.connection(), converting, {})


def test_on_a_bare_connection_it_begins_the_transaction_that_commit_ends(
    pg: Engine, new_loan: Callable[..., int]
) -> None:
    """As ``connection.execute`` does ("commit as you go"): ``commit()`` commits what the statement wrote."""
    loan_id = new_loan()
    bump = DriverStatement(
        text("UPDATE loans SET dpd = dpd + 1 WHERE id = :loan_id RETURNING dpd").columns(
            column("dpd", LoanRow.dpd.type)
        )
    )
    with pg.connect() as connection:
        [(dpd,)] = fetch_rows(connection, bump, {"loan_id": loan_id})
        assert connection.in_transaction()
        connection.commit()
    with pg.connect() as connection:
        assert connection.execute(select(LoanRow.dpd).where(LoanRow.id == loan_id)).scalar_one() == dpd


def test_the_repayments_first_statement_reads_the_instalments_as_installment_records_does(
    pg: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    """``repayment._lock_and_claim``: one statement locks the loan, claims the key and reads the active
    instalments — the same records, in the same order, as ``loans.installment_records`` (an instalment of a
    replaced schedule version inactive, a period rescheduled)."""
    from xiaodai.servicing import repayment
    from xiaodai.servicing.loans import installment_records

    loan_id = new_loan()
    with factory() as s, s.begin():  # a rescheduled period: the old version inactive, a new one active
        old = s.execute(
            select(InstallmentRow).where(InstallmentRow.loan_id == loan_id, InstallmentRow.period == 3)
        ).scalar_one()
        old.active = False
        s.flush()
        s.add(
            InstallmentRow(
                **{
                    c.key: getattr(old, c.key)
                    for c in InstallmentRow.__table__.columns
                    if c.key not in ("id", "active", "schedule_version")
                },
                active=True,
                schedule_version=old.schedule_version + 1,
            )
        )
    with factory() as s:
        connection = s.connection()
        expected = installment_records(connection, loan_id)
        s.rollback()
    with factory() as s:
        connection = s.connection()
        loan, claimed, read = repayment._lock_and_claim(
            s, connection, loan_id=loan_id, borrower_id=None, key="first-statement", print_="p"
        )
        assert claimed
        assert read is not None
        assert loan.id == loan_id
        assert [r.loaded for r in read] == [r.loaded for r in expected]
        assert [r.period for r in read] == list(range(1, 13))
        assert len(read) == 12
        s.rollback()


def test_a_loan_that_is_not_the_borrowers_locks_nothing_and_claims_nothing(
    pg: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    """Not the borrower's loan: ``LoanNotFoundError``; while that transaction is still open, another one can
    lock the loan and its instalments at once (NOWAIT), and the key was not claimed."""
    from xiaodai.db.tables import CommandRow
    from xiaodai.servicing import repayment
    from xiaodai.servicing.errors import LoanNotFoundError

    loan_id = new_loan()
    with factory() as s:
        with pytest.raises(LoanNotFoundError):
            repayment._lock_and_claim(
                s, s.connection(), loan_id=loan_id, borrower_id=-1, key="not-mine", print_="p"
            )
        with factory() as other:
            other.execute(text("SELECT id FROM loans WHERE id = :id FOR UPDATE NOWAIT"), {"id": loan_id})
            locked = other.execute(
                text("SELECT id FROM installments WHERE loan_id = :id FOR UPDATE NOWAIT"), {"id": loan_id}
            ).all()
            assert len(locked) >= 12
            other.rollback()
        assert s.execute(select(CommandRow).where(CommandRow.idempotency_key == "not-mine")).first() is None
        s.rollback()
