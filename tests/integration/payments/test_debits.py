"""The auto-debit batch: posted once through servicing repay, retries on T/T+1/T+3, partial payments,
timeouts held until the callback, callbacks verified and idempotent, unbinding refused while in flight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import debited_loan, journal_count, repayments
from xiaodai.db.tables import LoanRow
from xiaodai.db.tables.payments import DebitAttemptRow
from xiaodai.ledger import service as ledger
from xiaodai.payments import service
from xiaodai.payments.channel import Callback, DebitStatus, signature
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.privacy.keys import current_ring

DUE = date(2026, 2, 10)  # first instalment of the standard loan: 902.58
FIRST = 90_258


def run(factory: sessionmaker[Session], channel: SandboxChannel, on: date) -> dict[str, Any]:
    with factory() as s, s.begin():
        return service.run_debits(s, channel=channel, ring=current_ring(), on=on, policy=default_policy())


def attempts(factory: sessionmaker[Session]) -> list[tuple[str, str, int, int]]:
    with factory() as s:
        rows = s.execute(select(DebitAttemptRow).order_by(DebitAttemptRow.id)).scalars()
        return [(r.channel_ref.rsplit(":", 1)[1], r.status, r.amount_fen, r.posted_fen) for r in rows]


def check(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        assert ledger.check(s) == []


def test_success_posts_once_and_rerun_is_idempotent(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    channel = SandboxChannel(scripted={"0001": Scenario.SUCCESS})
    _, _, loan_id = debited_loan(factory, new_loan, channel, "0001")
    assert run(factory, channel, date(2026, 2, 9))["debits"] == []  # not due yet
    first = run(factory, channel, DUE)
    assert [(d["status"], d["settled_fen"]) for d in first["debits"]] == [("succeeded", FIRST)]
    entries = journal_count(factory)
    again = run(factory, channel, DUE)
    assert again["debits"] == []  # paid: not due any more
    assert run(factory, channel, date(2026, 2, 11))["debits"] == []  # paid: no retry
    assert journal_count(factory) == entries
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.paid_total_fen == FIRST
    check(factory)


def test_retries_on_t_t1_t3_only(factory: sessionmaker[Session], new_loan: Callable[..., int]) -> None:
    channel = SandboxChannel(scripted={"0002": Scenario.INSUFFICIENT})
    debited_loan(factory, new_loan, channel, "0002")
    made = [len(run(factory, channel, date(2026, 2, d))["debits"]) for d in range(10, 16)]
    assert made == [1, 1, 0, 1, 0, 0]
    rerun = run(factory, channel, date(2026, 2, 13))  # the same day again: the attempt's key exists
    assert rerun["debits"] == []
    assert rerun["counts"]["already_done"] == 1
    assert attempts(factory) == [
        ("0", "failed", FIRST, 0),
        ("1", "failed", FIRST, 0),
        ("2", "failed", FIRST, 0),
    ]
    check(factory)


def test_partial_success_is_allocated_as_a_payment_and_the_retry_asks_the_rest(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    channel = SandboxChannel(scripted={"0003": Scenario.PARTIAL})
    _, _, loan_id = debited_loan(factory, new_loan, channel, "0003")
    run(factory, channel, DUE)
    run(factory, channel, date(2026, 2, 11))
    half = FIRST // 2
    assert attempts(factory) == [
        ("0", "partial", FIRST, half),
        ("1", "partial", FIRST - half, (FIRST - half) // 2),
    ]
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.paid_total_fen == half + (FIRST - half) // 2
        assert loan.interest_outstanding_fen == 0  # interest first, as any repayment
    check(factory)


def test_timeout_waits_for_the_verified_callback(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    channel = SandboxChannel(scripted={"0004": Scenario.TIMEOUT_SUCCESS})
    _, card, loan_id = debited_loan(factory, new_loan, channel, "0004")
    before = journal_count(factory)
    assert run(factory, channel, DUE)["counts"]["pending"] == 1
    assert journal_count(factory) == before  # nothing posted while pending
    with pytest.raises(service.CardInUseError) as refused, factory() as s, s.begin():
        service.unbind(s, card_id=card)
    assert refused.value.reasons == ("CARD_DEBIT_IN_FLIGHT",)
    assert run(factory, channel, date(2026, 2, 11))["counts"]["skipped_in_flight"] == 1
    (late,) = channel.late_callbacks()
    body = late.body()

    def deliver(payload: bytes, sig: str) -> dict[str, object]:
        with factory() as s, s.begin():
            return service.handle_callback(
                s, secret=channel.secret, body=payload, signature=sig, on=date(2026, 2, 12)
            )

    with pytest.raises(service.SignatureError):
        deliver(body, signature(b"not the secret", body))
    forged = body.replace(str(FIRST).encode(), b"1")
    with pytest.raises(service.SignatureError):
        deliver(forged, signature(channel.secret, body))
    assert journal_count(factory) == before
    good = signature(channel.secret, body)
    assert deliver(body, good) == {"event_id": late.event_id, "outcome": "applied", "replayed": False}
    assert deliver(body, good)["replayed"] is True
    other = channel.callback_for(late.channel_ref, event_suffix=":resent").body()
    assert deliver(other, signature(channel.secret, other))["outcome"] == "duplicate"
    failed = Callback("evt:contradiction", late.channel_ref, DebitStatus.FAILED, 0).body()
    assert deliver(failed, signature(channel.secret, failed))["outcome"] == "conflict"
    unknown = Callback("evt:stranger", "debit:999999:0", DebitStatus.SUCCEEDED, 500).body()
    assert deliver(unknown, signature(channel.secret, unknown))["outcome"] == "unknown_ref"
    assert repayments(factory) == 1  # one repayment, however many callbacks
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.paid_total_fen == FIRST
    with factory() as s, s.begin():
        assert service.unbind(s, card_id=card)["status"] == "unbound"
    check(factory)
