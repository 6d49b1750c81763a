"""A repayment writes each row once — the statements one ``service.repay`` sends, on SQLite and PostgreSQL.

The hot path of the repayment benchmark (docs/BENCHMARKS.md): the command row is claimed and completed
through the session's connection, journal rows are inserted there too, and the loan and its instalments
are written once, by the flush at commit. A retry sends two statements and changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.servicing import service

SHAPE = re.compile(r"^(INSERT INTO|UPDATE|SELECT\s.*?\sFROM)\s+(\w+)", re.DOTALL)


@contextmanager
def statements(engine: Engine) -> Iterator[Counter[str]]:
    """Counts the statements sent on ``engine`` by kind and table ("UPDATE loans"), BEGIN/COMMIT aside."""
    seen: Counter[str] = Counter()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = SHAPE.match(statement.strip())
        if match:
            verb = match.group(1).split()[0]  # INSERT, UPDATE, SELECT
            seen[f"{verb} {match.group(2)}"] += 1

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
    assert first == {
        "INSERT commands": 1,  # claims the key, before anything else
        "SELECT loans": 1,  # FOR UPDATE
        "SELECT installments": 1,  # FOR UPDATE
        "INSERT journal_entries": 2,  # billing, repayment (RETURNING id)
        "INSERT postings": 2,  # one executemany per entry
        "UPDATE commands": 1,  # the result, after the action
        "UPDATE loans": 1,  # the commit's flush: once per row
        "UPDATE installments": 1,
    }
    with statements(engine) as retry, factory() as s, s.begin():
        again = pay(s)
    assert again == {**result, "replayed": True}
    assert retry == {"INSERT commands": 1, "SELECT commands": 1}  # the insert finds the key: replay
