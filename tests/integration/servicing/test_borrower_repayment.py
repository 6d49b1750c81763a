"""A borrower's repayment (``journey.repay`` → ``servicing.repayment.repay``): the loan is locked and the key
claimed in one go, so the checks that come before the booking (ownership, the payoff ceiling) must still
leave nothing behind when they refuse, a retry must replay whatever the first answer was (a settling
payment included), and concurrent payments and retries on the same loans post each payment exactly once."""

from __future__ import annotations

import random
import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import borrower, standard_loan
from xiaodai.db.tables import CommandRow, JournalEntryRow, LoanRow, PostingRow, UserRow
from xiaodai.journey import service as journey
from xiaodai.ledger import service as ledger

ON = date(2026, 2, 10)  # the first instalment's due date


def user(factory: sessionmaker[Session], user_id: int) -> UserRow:
    with factory() as s:
        row = s.get(UserRow, user_id)
        assert row is not None
        s.expunge(row)
        return row


def pay(factory: sessionmaker[Session], who: UserRow, loan_id: int, fen: int, key: str) -> dict[str, object]:
    with factory() as s, s.begin():
        return journey.repay(s, user=who, loan_id=loan_id, amount_fen=fen, on=ON, key=key)


def claimed(factory: sessionmaker[Session], who: UserRow, key: str) -> bool:
    with factory() as s:
        return s.get(CommandRow, f"u{who.id}:{key}") is not None


def test_a_refused_payment_leaves_nothing_behind_and_its_key_stays_free(
    factory: sessionmaker[Session],
) -> None:
    owner = user(factory, borrower(factory))
    stranger = user(factory, borrower(factory))
    loan_id = standard_loan(factory, owner.id)
    with pytest.raises(journey.NotFoundError):
        pay(factory, stranger, loan_id, 100, "k1")
    assert not claimed(factory, stranger, "k1")
    with pytest.raises(journey.NotFoundError):
        pay(factory, owner, 10**9, 100, "k1")  # no such loan
    payoff = _payoff(factory, loan_id)
    with pytest.raises(journey.OverpaymentRefusedError) as refused:
        pay(factory, owner, loan_id, payoff + 1, "k1")
    assert refused.value.payoff_fen == payoff
    assert not claimed(factory, owner, "k1")
    assert _entries(factory, "repayment") == 0
    paid = pay(factory, owner, loan_id, 100, "k1")  # the same key, now with an amount that is accepted
    assert paid["replayed"] is False
    assert paid["amount"] == "1.00"


def test_paying_exactly_the_payoff_settles_the_loan_and_a_retry_replays_it(
    factory: sessionmaker[Session],
) -> None:
    owner = user(factory, borrower(factory))
    loan_id = standard_loan(factory, owner.id)
    pay(factory, owner, loan_id, 50_000, "part")  # something paid first, so the payoff is not the principal
    payoff = _payoff(factory, loan_id)
    first = pay(factory, owner, loan_id, payoff, "all")
    assert first["replayed"] is False
    assert first["state"] == "settled"
    again = pay(factory, owner, loan_id, payoff, "all")
    assert again == {**first, "replayed": True}
    assert _entries(factory, "prepayment") == 1
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.state == "settled"
        assert loan.principal_outstanding_fen == 0
        assert ledger.check(s) == []
    with pytest.raises(journey.OverpaymentRefusedError):  # a settled loan takes no new payment
        pay(factory, owner, loan_id, 100, "after")


def test_a_retry_replays_even_when_the_amount_is_now_above_the_payoff(factory: sessionmaker[Session]) -> None:
    owner = user(factory, borrower(factory))
    loan_id = standard_loan(factory, owner.id)
    first = pay(factory, owner, loan_id, 60_000, "big")
    payoff = _payoff(factory, loan_id)
    pay(factory, owner, loan_id, payoff - 60_000 + 1, "more")  # now less than 600.00 settles the loan
    assert _payoff(factory, loan_id) < 60_000
    assert pay(factory, owner, loan_id, 60_000, "big") == {**first, "replayed": True}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_payments_and_retries_on_shared_loans_post_each_payment_once(
    factory: sessionmaker[Session],
) -> None:
    """8 threads, 4 borrowers' loans, 240 payments of which every fourth is sent twice at the same moment
    (a client retrying while its first request still runs): no error of any kind (no deadlock, no
    unique-key violation), every submission is answered, both answers of a key name the same entry."""
    owners = [user(factory, borrower(factory)) for _ in range(4)]
    loans = [(who, standard_loan(factory, who.id, term=12, principal=30_000)) for who in owners]
    rng = random.Random(14)
    payments = [(f"p{n}", *rng.choice(loans), rng.randint(100, 2_000)) for n in range(240)]
    work = [[p] if n % 4 else [p, p] for n, p in enumerate(payments)]  # a pair: sent by two threads at once
    answers: dict[str, list[object]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send(key: str, who: UserRow, loan_id: int, fen: int, gate: threading.Barrier | None) -> None:
        try:
            if gate is not None:
                gate.wait()
            result = pay(factory, who, loan_id, fen, key)
            with lock:
                answers.setdefault(key, []).append(result["entry_id"])
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)

    for n in range(0, len(work), 8):
        threads = []
        for item in work[n : n + 8]:
            gate = threading.Barrier(len(item)) if len(item) > 1 else None
            threads += [threading.Thread(target=send, args=(*p, gate)) for p in item]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sum(len(ids) for ids in answers.values()) == sum(len(item) for item in work)
    assert all(len(set(ids)) == 1 for ids in answers.values()), "a retried key posted a second entry"
    assert _entries(factory, "repayment") == len(payments)
    with factory() as s:
        cash = s.execute(
            select(func.sum(PostingRow.amount_fen))
            .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
            .where(JournalEntryRow.event == "repayment", PostingRow.account == "assets:cash:settlement")
        ).scalar_one()
        assert cash == sum(fen for *_, fen in payments)
        assert ledger.check(s) == []


def _payoff(factory: sessionmaker[Session], loan_id: int) -> int:
    with factory() as s:
        return journey.payoff_fen(s, loan_id=loan_id, on=ON)


def _entries(factory: sessionmaker[Session], event: str) -> int:
    with factory() as s:
        query = select(func.count()).select_from(JournalEntryRow).where(JournalEntryRow.event == event)
        return int(s.execute(query).scalar_one())
