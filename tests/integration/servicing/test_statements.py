"""A repayment writes each row once — the statements one ``service.repay`` sends, on SQLite and PostgreSQL.

The hot path of the repayment benchmark (docs/BENCHMARKS.md): the loan is locked and the command row
claimed first, then the instalments are locked and read (on PostgreSQL in one statement: ``WITH loan AS
(SELECT … FOR UPDATE), claim AS (INSERT INTO commands …), installment AS (SELECT … FOR UPDATE) SELECT …
UNION ALL …``; on SQLite the loan, the claim, the instalments); the loan and
its instalments are records read through Core, and ``loans.save`` writes the journal entries and each
changed row once, before the command row is completed: on PostgreSQL all in one statement (``WITH entry AS
(INSERT …), legs AS (INSERT INTO postings …), … AS (UPDATE loans …) …``), on SQLite an ``INSERT …
RETURNING`` and an executemany of postings per entry, then one ``UPDATE`` per changed row. The commit has
nothing left to flush. A retry sends the first statement(s) and the stored result, and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanRow, PostingRow
from xiaodai.ledger.chart import Account
from xiaodai.servicing import service

SHAPE = re.compile(r"^(INSERT INTO|UPDATE|SELECT\s.*?\sFROM)\s+(\w+)", re.DOTALL)
WITH_WRITES = re.compile(r"\b(INSERT INTO|UPDATE)\s+(\w+)")


def shape(statement: str) -> str | None:
    """ "UPDATE loans", "SELECT installments", "WITH INSERT journal_entries, INSERT postings, UPDATE loans"
    (the tables a data-modifying ``WITH`` writes); None for other statements."""
    text = statement.strip()
    if text.startswith("WITH"):
        return "WITH " + ", ".join(f"{verb.split()[0]} {table}" for verb, table in WITH_WRITES.findall(text))
    match = SHAPE.match(text)
    if match is None:
        return None
    return f"{match.group(1).split()[0]} {match.group(2)}"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements sent on ``engine``, in order, by kind and table (BEGIN/COMMIT aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        kind = shape(statement)
        if kind:
            seen.append(kind)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_repayment_writes_each_row_once(
    engine: Engine, factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()

    def pay(session: Session) -> dict[str, Any]:
        return service.repay(
            session, loan_id=loan_id, amount_fen=90_258, on=date(2026, 2, 10), idempotency_key="once"
        )

    with statements(engine) as first, factory() as s, s.begin():
        result = pay(s)  # bills instalment 1 (an entry), then pays it (a second entry)
    assert len(result["allocations"]) == 2
    if engine.dialect.name == "postgresql":
        writes = [  # the billing and repayment entries, their postings, the rows and the command's result
            "WITH INSERT journal_entries, INSERT postings, UPDATE loans, UPDATE installments, UPDATE commands"
        ]
    else:
        writes = [
            *["INSERT journal_entries", "INSERT postings"] * 2,  # per entry: RETURNING id, one executemany
            "UPDATE loans",  # each changed row once
            "UPDATE installments",  # instalment 1: billed and paid
            "UPDATE commands",  # the result, after the action
        ]
    if engine.dialect.name == "postgresql":
        # the loan FOR UPDATE (the columns servicing uses), the key claimed, the instalments FOR UPDATE
        lock_and_claim = ["WITH INSERT commands"]
    else:  # SQLite: the write lock is taken at BEGIN
        lock_and_claim = ["SELECT loans", "INSERT commands", "SELECT installments"]
    assert first == [
        *lock_and_claim,  # the loan locked and the key claimed, before anything else; the instalments locked
        *writes,  # loans.save: the journal and the changed rows (on PostgreSQL, the result too)
    ]
    with statements(engine) as retry, factory() as s, s.begin():
        again = pay(s)
    assert again == {**result, "replayed": True}
    # the insert finds the key: replay (SQLite reads no instalments for it)
    assert retry == [*lock_and_claim[:2], "SELECT commands"]


def test_the_single_statement_entry_keeps_the_order_of_its_legs(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    """Postings are numbered in the order of the entry's legs, on either backend."""
    loan_id = new_loan()
    with factory() as s, s.begin():
        result = service.repay(
            s, loan_id=loan_id, amount_fen=95_000, on=date(2026, 2, 10), idempotency_key="legs"
        )
    with factory() as s:
        postings = s.execute(
            select(PostingRow.account, PostingRow.amount_fen, PostingRow.loan_id)
            .where(PostingRow.entry_id == result["entry_id"])
            .order_by(PostingRow.id)
        ).all()
        memo = s.execute(
            select(JournalEntryRow.memo).where(JournalEntryRow.id == result["entry_id"])
        ).scalar_one()
    legs = [(a["component"], a["amount"]) for a in result["allocations"]]
    assert legs == [("interest", "125.00"), ("principal", "777.58")]
    assert [tuple(p) for p in postings] == [
        (Account.CASH.value, 95_000, loan_id),
        (Account.LOAN_INTEREST.value, -12_500, loan_id),
        (Account.LOAN_PRINCIPAL.value, -77_758, loan_id),
        (Account.OVERPAYMENT.value, -4_742, loan_id),
    ]
    assert '"overpayment": 4742' in memo


def test_orm_rows_held_by_the_session_see_the_repayment(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    """ORM rows the session holds are flushed before a repayment reads the loan and reloaded after it writes
    it: an ORM command that follows in the same transaction sees the repayment, and nothing stale is
    written back."""
    loan_id = new_loan()
    with factory() as s, s.begin():
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        v0 = loan.version
        first = s.execute(
            select(InstallmentRow).where(InstallmentRow.loan_id == loan_id, InstallmentRow.period == 1)
        ).scalar_one()
        assert not first.billed
        loan.cooling_off_until = date(2026, 1, 17)  # pending in the session: flushed before the repayment
        service.repay(s, loan_id=loan_id, amount_fen=100_258, on=date(2026, 2, 10), idempotency_key="orm")
        assert (first.billed, first.paid_on) == (True, date(2026, 2, 10))
        # two writes: the pending change (flushed, the ORM's version counter) and the repayment (save)
        assert (loan.paid_total_fen, loan.overpayment_fen, loan.version) == (100_258, 10_000, v0 + 2)
        refund = service.refund_overpayment(  # an ORM command on the same row, same transaction
            s, loan_id=loan_id, amount_fen=10_000, on=date(2026, 2, 10), idempotency_key="orm-refund"
        )
        assert refund["refunded"] == "100.00"
    with factory() as s:
        stored = s.get(LoanRow, loan_id)
        assert stored is not None
        assert (stored.paid_total_fen, stored.overpayment_fen, stored.version) == (100_258, 0, v0 + 3)
        assert (stored.interest_outstanding_fen, stored.cooling_off_until) == (0, date(2026, 1, 17))
