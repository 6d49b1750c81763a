"""A reminder queued for an instalment that is paid before it is sent is withdrawn, never sent, with its
reason recorded (SQLite and PostgreSQL): paid before it was decided, paid after it was queued but before
the sender ran, paid early and held as credit; a part payment leaves the reminder owed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import borrower
from xiaodai.db.tables import LoanRow, NoticeOutboxRow, NoticeRow
from xiaodai.notify import service
from xiaodai.notify.senders import SimulatedSender
from xiaodai.notify.withdrawal import withdrawal_reason
from xiaodai.servicing import service as servicing

CN = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 2, 10)  # first instalment of the standard loan (start 2026-01-10): 902.58
FIRST = 90_258
T3 = DUE - timedelta(days=3)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CN)


def owned_loan(factory: sessionmaker[Session], new_loan: Callable[..., int]) -> int:
    who = borrower(factory)
    loan_id = new_loan()
    with factory() as s, s.begin():
        row = s.get(LoanRow, loan_id)
        assert row is not None
        row.borrower_id = who
    return loan_id


def pay(factory: sessionmaker[Session], loan_id: int, amount_fen: int, on: date, key: str) -> None:
    with factory() as s, s.begin():
        servicing.repay(s, loan_id=loan_id, amount_fen=amount_fen, on=on, idempotency_key=key)


def notice(factory: sessionmaker[Session]) -> tuple[str, str | None, list[tuple[str, list[str]]]]:
    with factory() as s:
        row = s.execute(select(NoticeRow)).scalar_one()
        out = s.execute(
            select(NoticeOutboxRow).where(NoticeOutboxRow.notice_id == row.id).order_by(NoticeOutboxRow.id)
        ).scalars()
        return row.status, row.reason, [(o.status, json.loads(o.reasons)) for o in out]


def test_paid_before_it_is_decided_is_withdrawn(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        assert service.plan_reminders(s, day=T3) == 1  # planned, not yet decided
    pay(
        factory, loan_id, 100_000, T3, "early"
    )  # more than the instalment, before it is billed: held as credit
    sender = SimulatedSender()
    with factory() as s, s.begin():
        service.drain(s, as_of=at(T3, 10), sender=sender)
        report = service.day_report(s, day=T3)
    assert sender.sent == []
    assert notice(factory) == ("withdrawn", "INSTALMENT_PAID", [])
    assert report["notices"] == {"withdrawn": 1}


def test_paid_after_it_is_queued_is_not_sent(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        service.plan_reminders(s, day=T3)
        (row,) = s.execute(select(NoticeRow)).scalars()
        decided = service.decide_notice(s, row, as_of=at(T3, 10))
    assert [d["status"] for d in decided] == ["queued", "queued"]  # app inbox and SMS, allowed
    pay(factory, loan_id, FIRST, DUE, "on-time")  # paid in full on the due date, before the sender ran
    sender = SimulatedSender()
    with factory() as s, s.begin():
        assert service.dispatch(s, sender=sender, as_of=at(DUE, 11)) == 0
    assert sender.sent == []
    status, reason, rows = notice(factory)
    assert (status, reason) == ("withdrawn", "INSTALMENT_PAID")
    assert [r[0] for r in rows] == ["withdrawn", "withdrawn"]
    assert all(r[1][-1] == "INSTALMENT_PAID" for r in rows)  # the decision's reasons, then the withdrawal's
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert service.inbox(s, borrower_id=loan.borrower_id or 0) == []


def test_part_payment_leaves_the_reminder_owed(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        service.plan_reminders(s, day=T3)
    pay(factory, loan_id, FIRST - 1, T3, "short")  # one fen short of the instalment
    sender = SimulatedSender()
    with factory() as s, s.begin():
        service.drain(s, as_of=at(T3, 10), sender=sender)
    assert len(sender.sent) == 2
    assert notice(factory)[0] == "sent"


def test_withdrawal_reasons() -> None:
    assert withdrawal_reason(0, True, "active") == "INSTALMENT_PAID"
    assert withdrawal_reason(500, True, "active", credit_fen=500) == "INSTALMENT_PAID"
    assert withdrawal_reason(500, True, "active", credit_fen=499) is None
    assert withdrawal_reason(500, True, "overdue") is None
    assert withdrawal_reason(500, False, "active") == "INSTALMENT_REPLACED"
    assert withdrawal_reason(500, True, "settled") == "LOAN_CLOSED"
