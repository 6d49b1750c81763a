"""A payout whose callback never comes, and a payout that settles after the loan's start date (both
backends).

- The status query (``payout.query_pending``; the ``payout_query`` job, ``xiaodai debit payouts --query``):
  a payout pending longer than the policy interval is asked about and settled by the channel's answer;
  a payout the channel never received is sent again under its reference; one still processing waits; a
  settled one is not asked again.
- A late payout re-dates the loan (``payout.redate``): interest never runs for days before the money
  reached the borrower; the ledger's disbursement and the schedule both start on the settlement date,
  with the signed amounts (monthly plan) or the signed daily rate on the actual days (daily plan).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY, Approved, draw_on_line, granted, user
from xiaodai.db.tables import DisclosureRow, InstallmentRow, JobDefinitionRow, JournalEntryRow, LoanRow
from xiaodai.db.tables.payments import DisbursementRow
from xiaodai.jobs import runner
from xiaodai.journey import service as journey
from xiaodai.ledger import service as ledger
from xiaodai.lines import daily_interest
from xiaodai.lines import service as lines
from xiaodai.money.dates import add_months
from xiaodai.payments import payout
from xiaodai.payments import service as payments
from xiaodai.payments.channel import signature
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.servicing import service as servicing

SECRET = SandboxChannel().secret
CN = ZoneInfo("Asia/Shanghai")
LATER = timedelta(minutes=31)  # past the policy interval (payout.QUERY_AFTER, 30 minutes)


def _pending(factory: sessionmaker[Session], email: str, approved: Approved, scenario: Scenario,
             plan: str = "instalment") -> tuple[int, int, SandboxChannel]:  # fmt: skip
    """A drawdown whose payout timed out: (user id, loan id, the channel that sent it)."""
    user_id = granted(factory, approved, email)
    channel = SandboxChannel(payout_scripted={f"account:{user_id}": scenario})
    with factory() as s, s.begin():
        drawn = draw_on_line(
            s,
            user_id,
            300_000,
            key="d1",
            channel=channel,
            plan=plan,
            term=6 if plan == "instalment" else None,
        )
    assert (drawn["state"], drawn["disbursement"]["status"]) == ("signed", "pending")
    return user_id, int(drawn["loan_id"]), channel


def _query(
    factory: sessionmaker[Session], channel: SandboxChannel, *, on: date = TODAY, after: timedelta = LATER
) -> dict[str, Any]:
    with factory() as s, s.begin():
        return payout.query_pending(s, channel=channel, on=on, as_of=datetime.now(tz=UTC) + after)


def _loan(factory: sessionmaker[Session], loan_id: int) -> LoanRow:
    with factory() as s:
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        s.expunge(loan)
        return loan


def _clean(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        assert ledger.check(s) == []
        assert lines.check_commitments(s) == []


def test_the_status_query_settles_a_payout_whose_callback_never_came(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    _, loan_id, channel = _pending(factory, "q@example.com", approved, Scenario.TIMEOUT_SUCCESS)
    assert _query(factory, channel, after=timedelta(0))["asked"] == 0  # not waited the interval yet
    done = _query(factory, channel)
    assert (done["asked"], done["counts"]["succeeded"]) == (1, 1)
    assert done["payouts"] == [
        {"loan_id": loan_id, "channel_ref": f"payout:{loan_id}", "answer": "succeeded", "status": "succeeded"}
    ]
    assert _loan(factory, loan_id).state == "active"
    assert _query(factory, channel)["asked"] == 0  # settled: not asked again
    (late,) = channel.payout_callbacks()  # the callback, should it come after all, changes nothing
    body = late.body()
    with factory() as s, s.begin():
        answer = payments.handle_callback(
            s, secret=SECRET, body=body, signature=signature(SECRET, body), on=TODAY
        )
    assert answer["outcome"] == "duplicate"
    with factory() as s:
        entries = s.execute(
            select(JournalEntryRow).where(
                JournalEntryRow.loan_id == loan_id, JournalEntryRow.event == "disbursement"
            )
        ).all()
        assert len(entries) == 1
    _clean(factory)


def test_two_status_queries_at_once_ask_the_channel_once(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    if factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the second query waits for the first")
    _, loan_id, channel = _pending(factory, "twice@example.com", approved, Scenario.TIMEOUT_SUCCESS)
    as_of = datetime.now(tz=UTC) + LATER
    with factory() as first, first.begin():
        assert payout.query_pending(first, channel=channel, on=TODAY, as_of=as_of)["asked"] == 1
        with factory() as second, second.begin():  # while the first has not committed
            # without skipping, this query would wait for the first's lock: fail after 2 s instead of hanging
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert payout.query_pending(second, channel=channel, on=TODAY, as_of=as_of)["asked"] == 0
    assert _loan(factory, loan_id).state == "active"
    _clean(factory)


def test_the_status_query_resends_waits_and_fails(factory: sessionmaker[Session], approved: Approved) -> None:
    _, lost, _ = _pending(factory, "lost@example.com", approved, Scenario.TIMEOUT_SUCCESS)
    fresh = SandboxChannel()  # never received it (another process's channel): sent again, it succeeds
    resent = _query(factory, fresh)
    assert resent["payouts"][0] == {
        "loan_id": lost,
        "channel_ref": f"payout:{lost}",
        "answer": "resent",
        "status": "succeeded",
    }
    assert fresh.payouts[f"payout:{lost}"][2] == 300_000
    assert _loan(factory, lost).state == "active"

    _, slow, channel = _pending(factory, "slow@example.com", approved, Scenario.TIMEOUT_FAIL)
    channel.payouts_processing.add(f"payout:{slow}")
    assert _query(factory, channel)["counts"]["pending"] == 1  # still processing at the bank: waits
    assert _loan(factory, slow).state == "signed"
    channel.payouts_processing.clear()
    assert _query(factory, channel)["counts"]["failed"] == 1
    assert _loan(factory, slow).state == "cancelled"
    _clean(factory)


def _signed_schedule(factory: sessionmaker[Session], loan_id: int) -> list[dict[str, Any]]:
    with factory() as s:
        text = s.execute(
            select(DisclosureRow.canonical_json).where(DisclosureRow.loan_id == loan_id)
        ).scalar_one()
    return list(json.loads(text)["schedule"])


def _instalments(factory: sessionmaker[Session], loan_id: int) -> list[InstallmentRow]:
    with factory() as s:
        rows = list(
            s.execute(
                select(InstallmentRow)
                .where(InstallmentRow.loan_id == loan_id)
                .order_by(InstallmentRow.period)
            ).scalars()
        )
        s.expunge_all()
        return rows


def test_a_late_payout_starts_the_loan_on_the_day_the_money_arrived(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    user_id, loan_id, channel = _pending(factory, "late@example.com", approved, Scenario.TIMEOUT_SUCCESS)
    signed = _signed_schedule(factory, loan_id)
    apr_signed = _loan(factory, loan_id).apr_percent
    paid_on = TODAY + timedelta(days=10)
    assert _query(factory, channel, on=paid_on)["counts"]["succeeded"] == 1  # sent on an earlier day
    loan = _loan(factory, loan_id)
    assert (loan.state, loan.start_on, loan.disbursed_on) == ("active", paid_on, paid_on)
    assert loan.apr_percent == apr_signed  # the same cash flows, a period apart: the signed rate
    with factory() as s:
        entry = s.execute(
            select(JournalEntryRow).where(
                JournalEntryRow.loan_id == loan_id, JournalEntryRow.event == "disbursement"
            )
        ).scalar_one()
        assert entry.business_date == paid_on
        row = s.execute(select(DisbursementRow).where(DisbursementRow.loan_id == loan_id)).scalar_one()
        assert payout.redated_view(row, loan) == {
            "signed_on": TODAY.isoformat(),
            "paid_out_on": paid_on.isoformat(),
            "days": 10,
        }
    rows = _instalments(factory, loan_id)
    assert [r.due_on for r in rows] == [add_months(paid_on, k) for k in range(1, 7)]
    assert rows[0].start_on == paid_on
    assert [(r.principal_fen, r.interest_fen, r.fee_fen) for r in rows] == [
        (
            round(Decimal(x["principal"]) * 100),
            round(Decimal(x["interest"]) * 100),
            round(Decimal(x["fee"]) * 100),
        )
        for x in signed
    ]
    # pay it all off five days after the money arrived: interest for those five days, none for the ten before
    with factory() as s:
        payoff = servicing.prepay_quote(s, loan_id=loan_id, on=paid_on + timedelta(days=5))
    assert payoff.interest_fen == round(Decimal(rows[0].interest_fen) * 5 / (rows[0].due_on - paid_on).days)
    with factory() as s:
        detail = journey.loan_detail(s, user=user(s, user_id), loan_id=loan_id, today=paid_on)
    assert detail["schedule"][0]["due_date"] == add_months(paid_on, 1).isoformat()
    # the API's loan detail says so too (the page's words): signed on, paid out on, days moved
    moved = {"signed_on": TODAY.isoformat(), "paid_out_on": paid_on.isoformat(), "days": 10}
    assert detail["redated"] == moved
    assert detail["start_date"] == paid_on.isoformat()
    _clean(factory)


def test_a_late_daily_plan_payout_charges_the_daily_rate_from_the_day_it_arrived(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    _, loan_id, channel = _pending(factory, "daily@example.com", approved, Scenario.TIMEOUT_SUCCESS, "daily")
    signed = _signed_schedule(factory, loan_id)
    paid_on = TODAY + timedelta(days=15)
    (late,) = channel.payout_callbacks()
    body = late.body()
    with factory() as s, s.begin():
        payments.handle_callback(s, secret=SECRET, body=body, signature=signature(SECRET, body), on=paid_on)
    loan = _loan(factory, loan_id)
    assert (loan.start_on, loan.disbursed_on) == (paid_on, paid_on)
    rows = _instalments(factory, loan_id)
    assert rows[0].start_on == paid_on
    rate = Decimal(loan.annual_rate)
    for row, was in zip(rows, signed, strict=True):
        days = (row.due_on - row.start_on).days
        by_days = daily_interest.interest_fen(300_000, rate, days)
        assert row.interest_fen == min(by_days, round(Decimal(was["interest"]) * 100)), row.period
    assert sum(r.principal_fen for r in rows) == 300_000
    _clean(factory)


def test_debit_payouts_query_command(
    cli: Any, factory: sessionmaker[Session], approved: Approved, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", TODAY.isoformat())
    _, loan_id, _ = _pending(factory, "cli.q@example.com", approved, Scenario.TIMEOUT_SUCCESS)
    assert [p["loan_id"] for p in cli("debit", "payouts", "--json")] == [loan_id]
    assert cli("debit", "payouts", "--query", "--json")["asked"] == 0  # sent just now: within the interval
    assert "--query" in cli("debit", "payouts", "--older-than-minutes", "0", code=2).stderr
    assert "negative" in cli("debit", "payouts", "--query", "--older-than-minutes", "-1", code=2).stderr
    assert (
        "after today's business date"
        in cli("debit", "payouts", "--query", "--date", "2099-01-01", code=2).stderr
    )
    assert _loan(factory, loan_id).state == "signed"  # the refusals changed nothing
    # the command's own sandbox never received it (another process): sent again under its reference
    done = cli("debit", "payouts", "--query", "--older-than-minutes", "0", "--json")
    assert done["payouts"] == [
        {"loan_id": loan_id, "channel_ref": f"payout:{loan_id}", "answer": "resent", "status": "succeeded"}
    ]
    assert _loan(factory, loan_id).state == "active"
    told = cli("debit", "payouts", "--query", "--older-than-minutes", "0", "--lang", "en")
    assert "Payouts queried at the channel 2026-01-10: 0" in told.stdout
    assert cli("debit", "payouts", "--json") == []
    _clean(factory)


def test_the_payout_query_job_runs_on_the_schedule(
    factory: sessionmaker[Session], engine: Engine, approved: Approved
) -> None:
    """Migration 0038's ``payout_query`` job at 08:00 (Asia/Shanghai): the payout sent the day before is
    settled (the job's own sandbox never received it: sent again under its reference), on that business
    date (the loan re-dated to it); the next day's run finds nothing."""
    _, loan_id, _ = _pending(factory, "job.q@example.com", approved, Scenario.TIMEOUT_SUCCESS)
    with factory() as s, s.begin():
        definition = s.get(JobDefinitionRow, "payout_query")
        assert definition is not None, "migration 0038 schedules the status query"
        assert (definition.handler, definition.run_at_local) == ("payments.query_payouts", "08:00")
        s.query(JobDefinitionRow).where(JobDefinitionRow.name != "payout_query").update({"enabled": False})
    day = TODAY + timedelta(days=1)
    at = datetime.combine(day, datetime.min.time(), tzinfo=CN) + timedelta(hours=8, minutes=1)
    (result,) = runner.tick(engine, worker="w", clock=lambda: at)
    assert (result.outcome, result.business_date) == ("succeeded", day)
    assert result.summary == {
        "asked": 1,
        "counts": {"succeeded": 0, "failed": 0, "pending": 0, "resent": 1, "conflict": 0},
    }
    loan = _loan(factory, loan_id)
    assert (loan.state, loan.disbursed_on, loan.start_on) == ("active", day, day)
    (later,) = runner.tick(engine, worker="w", clock=lambda: at + timedelta(days=1))
    assert later.summary is not None
    assert later.summary["asked"] == 0
    _clean(factory)


def test_a_late_payout_of_a_fee_product_keeps_its_signed_amounts(
    factory: sessionmaker[Session], approved: Approved
) -> None:
    """The single-loan journey, product ``everyday`` (1.5 % kept back, 8.00 a month): re-dated with every
    signed amount and its APR, the fee kept back posted once on the settlement date."""
    user_id, app_id = approved("fees@example.com")
    channel = SandboxChannel(payout_scripted={f"account:{user_id}": Scenario.TIMEOUT_SUCCESS})
    with factory() as s, s.begin():
        me = user(s, user_id)
        choice = journey.OfferRequest(product="everyday")
        kfs = journey.offer_kfs(s, user=me, public_id=app_id, request=choice, today=TODAY)
        signed = journey.sign_offer(
            s, user=me, public_id=app_id, request=choice, seen_sha256=kfs["sha256"], ip="127.0.0.1",
            lang="zh", today=TODAY, channel=channel,
        )  # fmt: skip
    loan_id = int(signed["loan_id"])
    before = [(r.principal_fen, r.interest_fen, r.fee_fen) for r in _instalments(factory, loan_id)]
    apr = _loan(factory, loan_id).apr_percent
    paid_on = TODAY + timedelta(days=3)
    assert _query(factory, channel, on=paid_on)["counts"]["succeeded"] == 1
    loan = _loan(factory, loan_id)
    assert (loan.state, loan.start_on, loan.apr_percent) == ("active", paid_on, apr)
    rows = _instalments(factory, loan_id)
    assert [(r.principal_fen, r.interest_fen, r.fee_fen) for r in rows] == before
    assert rows[0].fee_fen == 800
    assert rows[0].due_on == add_months(paid_on, 1)
    with factory() as s:
        assert ledger.trial_balance(s)["income:fees"] == -loan.upfront_fee_fen
    _clean(factory)
