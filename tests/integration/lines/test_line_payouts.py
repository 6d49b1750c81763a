"""Drawdowns paid out through the payment channel (代付), on both backends: success posts the disbursement
once; a failure posts nothing, cancels the loan and frees the limit; a timeout leaves the loan signed with
its amount reserved until the (late, repeated, out-of-order) callback settles it; a re-sent payout moves
nothing twice; the single-loan journey pays out the same way."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY, Approved, draw_on_line, granted, user
from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanRow
from xiaodai.db.tables.payments import DisbursementRow, PaymentCallbackRow
from xiaodai.journey import service as journey
from xiaodai.ledger import service as ledger
from xiaodai.lines import service as lines
from xiaodai.payments import payout
from xiaodai.payments import service as payments
from xiaodai.payments.channel import Callback, DebitStatus, signature
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario

SECRET = SandboxChannel().secret


def _draw(
    factory: sessionmaker[Session], user_id: int, amount_fen: int, channel: SandboxChannel, key: str
) -> dict[str, Any]:
    with factory() as s, s.begin():
        return draw_on_line(s, user_id, amount_fen, key=key, channel=channel)


def _view(factory: sessionmaker[Session], user_id: int) -> dict[str, Any]:
    with factory() as s:
        return lines.line_view(s, user=user(s, user_id), today=TODAY)


def _disbursement_entries(factory: sessionmaker[Session], loan_id: int) -> int:
    with factory() as s:
        return int(
            s.execute(
                select(func.count())
                .select_from(JournalEntryRow)
                .where(JournalEntryRow.loan_id == loan_id, JournalEntryRow.event == "disbursement")
            ).scalar_one()
        )


def _clean(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        assert ledger.check(s) == []
        assert lines.check_commitments(s) == []


def _callback(factory: sessionmaker[Session], cb: Callback, on: date) -> dict[str, Any]:
    body = cb.body()
    with factory() as s, s.begin():
        return payments.handle_callback(s, secret=SECRET, body=body, signature=signature(SECRET, body), on=on)


def test_success_posts_the_disbursement_once(factory: sessionmaker[Session], approved: Approved) -> None:
    user_id = granted(factory, approved, "ok@example.com")
    channel = SandboxChannel()
    drawn = _draw(factory, user_id, 300_000, channel, "d1")
    assert drawn["state"] == "active"
    assert drawn["disbursement"]["status"] == "succeeded"
    assert drawn["disbursement"]["destination"] == f"account:{user_id}"  # no card bound: the account given
    assert channel.payouts[payout.payout_ref(drawn["loan_id"])][2] == 300_000
    again = _draw(factory, user_id, 300_000, channel, "d1")  # the same key: the same drawdown, no new payout
    assert again["replayed"] is True
    assert len(channel.payouts) == 1
    with factory() as s, s.begin():  # asked again for the same loan: answers the row it has
        loan = s.get(LoanRow, drawn["loan_id"])
        assert loan is not None
        assert payout.disburse(s, loan=loan, channel=channel, on=TODAY).status == "succeeded"
    assert _disbursement_entries(factory, drawn["loan_id"]) == 1
    view = _view(factory, user_id)
    assert view["outstanding_principal"] == "3000.00"
    assert view["pending_disbursement"] == "0.00"
    _clean(factory)


def test_failure_posts_nothing_cancels_the_loan_and_frees_the_limit(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    user_id = granted(factory, approved, "frozen@example.com")
    before = _view(factory, user_id)["available"]
    channel = SandboxChannel(payout_scripted={f"account:{user_id}": Scenario.FROZEN})
    drawn = _draw(factory, user_id, 300_000, channel, "d1")
    assert drawn["state"] == "cancelled"
    assert (drawn["disbursement"]["status"], drawn["disbursement"]["reason"]) == ("failed", "CARD_FROZEN")
    assert _disbursement_entries(factory, drawn["loan_id"]) == 0
    view = _view(factory, user_id)
    assert view["available"] == before
    assert view["due_this_month"]["items"] == []
    assert view["next_due"] is None  # a cancelled drawdown's instalments are owed by no one
    with factory() as s:
        active = s.execute(
            select(func.count()).where(InstallmentRow.loan_id == drawn["loan_id"], InstallmentRow.active)
        ).scalar_one()
        assert active == 0
    _clean(factory)


def test_timeout_reserves_the_amount_until_the_late_callback(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    user_id = granted(factory, approved, "late@example.com")
    limit = _view(factory, user_id)["limit"]
    channel = SandboxChannel(payout_scripted={f"account:{user_id}": Scenario.TIMEOUT_SUCCESS})
    drawn = _draw(factory, user_id, 300_000, channel, "d1")
    loan_id = drawn["loan_id"]
    assert drawn["state"] == "signed"
    assert (drawn["disbursement"]["status"], drawn["disbursement"]["reason"]) == ("pending", "TIMEOUT")
    assert _disbursement_entries(factory, loan_id) == 0
    view = _view(factory, user_id)
    assert view["outstanding_principal"] == "0.00"  # nothing is drawn in the ledger yet …
    assert view["pending_disbursement"] == "3000.00"  # … but the amount is not available twice
    assert float(view["available"]) == float(limit) - 3000
    _clean(factory)
    with factory() as s:
        assert [p["loan_id"] for p in payout.pending(s)] == [loan_id]
    (late,) = channel.payout_callbacks()
    later = TODAY + timedelta(days=1)
    assert _callback(factory, late, later) == {
        "event_id": late.event_id,
        "outcome": "applied",
        "replayed": False,
    }
    assert _callback(factory, late, later)["replayed"] is True  # the same event twice
    other = Callback("evt:other", late.channel_ref, DebitStatus.SUCCEEDED, late.settled_fen)
    assert _callback(factory, other, later)["outcome"] == "duplicate"  # another event, the same outcome
    wrong = Callback("evt:wrong", late.channel_ref, DebitStatus.FAILED, 0)
    assert _callback(factory, wrong, later)["outcome"] == "conflict"  # kept for operations, nothing moves
    assert _disbursement_entries(factory, loan_id) == 1
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        row = s.execute(select(DisbursementRow).where(DisbursementRow.loan_id == loan_id)).scalar_one()
        assert loan is not None
        assert loan.state == "active"
        # the money reached the borrower a day late: the loan starts then (payout.redate), no interest before
        assert (loan.disbursed_on, loan.start_on) == (later, later)
        assert (row.status, row.settled_on) == ("succeeded", later)
        assert payout.pending(s) == []
        outcomes = s.execute(select(PaymentCallbackRow.outcome).order_by(PaymentCallbackRow.id)).scalars()
        assert list(outcomes) == ["applied", "duplicate", "conflict"]
    view = _view(factory, user_id)
    assert (view["outstanding_principal"], view["pending_disbursement"]) == ("3000.00", "0.00")
    _clean(factory)


def test_timeout_that_fails_cancels_on_the_callback(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    user_id = granted(factory, approved, "latefail@example.com")
    channel = SandboxChannel(payout_scripted={f"account:{user_id}": Scenario.TIMEOUT_FAIL})
    drawn = _draw(factory, user_id, 300_000, channel, "d1")
    (late,) = channel.payout_callbacks()
    assert _callback(factory, late, TODAY)["outcome"] == "applied"
    with factory() as s:
        loan = s.get(LoanRow, drawn["loan_id"])
        assert loan is not None
        assert loan.state == "cancelled"
    assert _disbursement_entries(factory, drawn["loan_id"]) == 0
    assert _view(factory, user_id)["pending_disbursement"] == "0.00"
    _clean(factory)


def test_single_loan_journey_pays_out_through_the_channel(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    user_id, app_id = approved("single@example.com")
    channel = SandboxChannel(payout_scripted={f"account:{user_id}": Scenario.TIMEOUT_SUCCESS})
    with factory() as s, s.begin():
        me = user(s, user_id)
        choice = journey.OfferRequest()
        kfs = journey.offer_kfs(s, user=me, public_id=app_id, request=choice, today=TODAY)
        signed = journey.sign_offer(
            s,
            user=me,
            public_id=app_id,
            request=choice,
            seen_sha256=kfs["sha256"],
            ip="127.0.0.1",
            lang="en",
            today=TODAY,
            channel=channel,
        )
    assert (signed["state"], signed["disbursement"]["status"]) == ("signed", "pending")
    with factory() as s:
        detail = journey.loan_detail(s, user=user(s, user_id), loan_id=signed["loan_id"], today=TODAY)
        assert detail["disbursement"]["status"] == "pending"
    (late,) = channel.payout_callbacks()
    assert _callback(factory, late, TODAY)["outcome"] == "applied"
    with factory() as s:
        detail = journey.loan_detail(s, user=user(s, user_id), loan_id=signed["loan_id"], today=TODAY)
        assert (detail["state"], detail["disbursement"]["status"]) == ("active", "succeeded")
    _clean(factory)
