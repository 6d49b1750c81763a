"""``ledger.insert_entries`` writes exactly what the entries say, on either backend: ids in order, postings
in the order of their legs, and text (memos with quotes, backslashes, Chinese, JSON) unchanged — on
PostgreSQL the entries travel as one JSON document in one statement."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import JournalEntryRow, PostingRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry


def test_entries_and_postings_are_written_as_given(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    memo = json.dumps({"reason": '客户投诉 "late" fee \\ waived', "allocations": [[1, "fee", 100]]})
    entries = [
        entry(
            date(2026, 2, 10),
            "waiver",
            "test:waive:1",
            [(Account.FEE_INCOME, 100), (Account.LOAN_FEES, -100)],
            loan_id=loan_id,
            memo=memo,
        ),
        entry(date(2026, 2, 11), "transfer", "test:no-loan", [(Account.CASH, 5), (Account.FEE_INCOME, -5)]),
        entry(
            date(2026, 2, 12),
            "refund",
            "test:refund:1",
            [(Account.OVERPAYMENT, 7), (Account.CASH, -3), (Account.CASH, -4)],
            loan_id=loan_id,
            memo="плата ✓",
        ),
    ]
    with factory() as s, s.begin():
        ids = ledger.insert_entries(s.connection(), entries)
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    with factory() as s:
        stored = s.execute(
            select(
                JournalEntryRow.id,
                JournalEntryRow.business_date,
                JournalEntryRow.event,
                JournalEntryRow.idempotency_key,
                JournalEntryRow.loan_id,
                JournalEntryRow.reverses_id,
                JournalEntryRow.memo,
            )
            .where(JournalEntryRow.id.in_(ids))
            .order_by(JournalEntryRow.id)
        ).all()
        postings = s.execute(
            select(PostingRow.entry_id, PostingRow.account, PostingRow.loan_id, PostingRow.amount_fen)
            .where(PostingRow.entry_id.in_(ids))
            .order_by(PostingRow.id)
        ).all()
    assert [tuple(r) for r in stored] == [
        (i, e.business_date, e.event, e.idempotency_key, e.loan_id, e.reverses, e.memo)
        for i, e in zip(ids, entries, strict=True)
    ]
    assert [tuple(p) for p in postings] == [
        (i, p.account.value, p.loan_id, p.amount_fen)
        for i, e in zip(ids, entries, strict=True)
        for p in e.postings
    ]
