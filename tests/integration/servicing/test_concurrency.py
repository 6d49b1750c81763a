"""Concurrency on PostgreSQL: 8 threads post 500 payments across 50 loans, with deliberately retried
idempotency keys. No payment is lost, none is doubled, and the ledger check passes."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import JournalEntryRow, LoanRow, PostingRow
from xiaodai.ledger import service as ledger
from xiaodai.servicing import service

THREADS = 8
PAYMENTS = 500
LOANS = 50


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_payments_with_retries(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_ids = [
        new_loan(principal=str(rng_principal)) for rng_principal in range(5000, 5000 + LOANS * 100, 100)
    ]
    rng = random.Random(7)
    payments = [(f"pay-{n}", rng.choice(loan_ids), rng.randint(100, 30_000)) for n in range(PAYMENTS)]
    # every fifth payment is submitted twice, by different threads, as a client retry would
    work = payments + [p for i, p in enumerate(payments) if i % 5 == 0]
    rng.shuffle(work)
    queue = list(work)
    lock = threading.Lock()
    outcomes: dict[str, list[int]] = {}
    refused_then_replayed = 0
    errors: list[BaseException] = []

    def worker() -> None:
        nonlocal refused_then_replayed
        while True:
            with lock:
                if not queue:
                    return
                key, loan_id, fen = queue.pop()
            for attempt in range(20):
                try:
                    with factory() as s, s.begin():
                        result = service.repay(
                            s, loan_id=loan_id, amount_fen=fen, on=date(2026, 1, 20), idempotency_key=key
                        )
                    with lock:
                        outcomes.setdefault(key, []).append(int(result["entry_id"]))
                        refused_then_replayed += attempt > 0
                    break
                except (IntegrityError, DBAPIError):  # a concurrent duplicate is refused: retry to see it
                    continue
                except BaseException as exc:  # pragma: no cover - reported below
                    with lock:
                        errors.append(exc)
                    return

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(outcomes) == {key for key, _, _ in payments}
    assert sum(len(ids) for ids in outcomes.values()) == len(work)  # every submission got an answer
    assert all(len(set(ids)) == 1 for ids in outcomes.values()), "a retried key posted a second entry"
    with factory() as s:
        entries = s.execute(
            select(func.count()).select_from(JournalEntryRow).where(JournalEntryRow.event == "repayment")
        ).scalar_one()
        cash = s.execute(
            select(func.sum(PostingRow.amount_fen))
            .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
            .where(JournalEntryRow.event == "repayment", PostingRow.account == "assets:cash:settlement")
        ).scalar_one()
        paid = s.execute(select(func.sum(LoanRow.paid_total_fen))).scalar_one()
        assert ledger.check(s) == []
    assert entries == PAYMENTS
    assert cash == paid == sum(fen for _, _, fen in payments)
