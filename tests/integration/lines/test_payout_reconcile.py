"""Payouts (代付) in the channel's settlement file and its reconciliation, on both backends and both paths
(``payments.service.reconcile`` line by line, ``reconcile_file`` the whole file): a payout the channel
settled that the ledger did not post, a posted payout the channel never settled and an amount mismatch are
breaks with their suspense (money out: ``Dr suspense / Cr cash``); a pending payout the file settles is
posted; replaying the file posts nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY, Approved, draw_on_line, granted
from xiaodai.db.tables import JournalEntryRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.lines import service as lines
from xiaodai.payments import service as payments
from xiaodai.payments.channel import DebitStatus
from xiaodai.payments.reconcile_file import reconcile_file
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.payments.settlement_file import SettlementLine, parse, render, reports_payouts

AMOUNT = 300_000  # each drawdown: 3,000.00 paid out whole (no fee kept back on the line's product)


def _entries(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())


def _cash(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return ledger.trial_balance(s).get(Account.CASH.value, 0)


@pytest.mark.parametrize("path", ["per-row", "file"])
def test_payout_breaks_suspense_and_replay(
    factory: sessionmaker[Session], approved: Approved, path: str
) -> None:
    scenarios = {
        "matched": Scenario.SUCCESS,
        "confirmed": Scenario.TIMEOUT_SUCCESS,  # pending with us: the file settles it
        "ours_missing": Scenario.FROZEN,  # failed with us (loan cancelled); the file says it went out
        "theirs_missing": Scenario.SUCCESS,  # posted by us; the file lacks it
        "mismatch": Scenario.SUCCESS,  # the file's amount differs by one fen
    }
    users = {name: granted(factory, approved, f"{name}@example.com") for name in scenarios}
    channel = SandboxChannel(
        payout_scripted={f"account:{users[name]}": scenario for name, scenario in scenarios.items()}
    )
    refs: dict[str, str] = {}
    for name, user_id in users.items():
        with factory() as s, s.begin():
            drawn = draw_on_line(s, user_id, AMOUNT, key=f"d-{name}", channel=channel)
        refs[name] = drawn["disbursement"]["channel_ref"]
    cash_before = _cash(factory)
    file_lines = {line.channel_ref: line for line in channel.settlement_lines(TODAY)}
    assert {line.kind for line in file_lines.values()} == {"payout"}
    assert set(file_lines) == set(refs.values())
    file_lines[refs["ours_missing"]] = replace(
        file_lines[refs["ours_missing"]], status=DebitStatus.SUCCEEDED, amount_fen=AMOUNT
    )
    del file_lines[refs["theirs_missing"]]
    file_lines[refs["mismatch"]] = replace(file_lines[refs["mismatch"]], amount_fen=AMOUNT + 1)
    stranger = SettlementLine("payout:999999", TODAY, DebitStatus.SUCCEEDED, 777, "payout")
    text = render([*file_lines.values(), stranger])
    assert parse(text, on=TODAY)  # the format round-trips

    def run() -> dict[str, Any]:
        if path == "file":
            return reconcile_file(factory, text.encode(), on=TODAY)
        with factory() as s, s.begin():
            return payments.reconcile(s, lines=parse(text, on=TODAY), on=TODAY)

    first = run()
    assert first["confirmed"] == [refs["confirmed"]]
    assert first["counts"] == {
        "matched": 2,
        "missing_ours": 2,
        "missing_theirs": 1,
        "amount_mismatch": 1,
        "unresolved": 0,
    }
    breaks = {b["channel_ref"]: (b["kind"], b["suspense_fen"], b["direction"]) for b in first["breaks"]}
    assert breaks == {
        refs["ours_missing"]: ("missing_ours", AMOUNT, "payout"),
        refs["theirs_missing"]: ("missing_theirs", -AMOUNT, "payout"),
        refs["mismatch"]: ("amount_mismatch", 1, "payout"),
        "payout:999999": ("missing_ours", 777, "payout"),
    }
    # cash in the ledger moved by exactly the money the channel paid out: the confirmed payout is posted
    # (−3,000.00), and suspense explains each difference the other way round from a debit's
    paid_out_by_channel = sum(line.amount_fen for line in parse(text, on=TODAY))
    posted_before = 3 * AMOUNT  # matched, theirs_missing, mismatch were posted when drawn
    assert _cash(factory) - cash_before == -(paid_out_by_channel - posted_before)
    with factory() as s:
        assert ledger.trial_balance(s)[Account.PAYMENT_SUSPENSE.value] == AMOUNT - AMOUNT + 1 + 777
        loan_id = int(refs["confirmed"].split(":")[1])
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.state == "active"
        assert ledger.check(s) == []
        assert lines.check_commitments(s) == []

    entries = _entries(factory)
    again = run()  # the same file again: nothing posted, the same breaks
    assert again["suspense_posted_fen"] == 0
    assert again["confirmed"] == []
    assert again["breaks"] == first["breaks"]
    assert _entries(factory) == entries

    # the channel corrects its file (the mismatch was a typo): only that suspense moves back
    file_lines[refs["mismatch"]] = replace(file_lines[refs["mismatch"]], amount_fen=AMOUNT)
    text = render([*file_lines.values(), stranger])
    corrected = run()
    assert corrected["suspense_posted_fen"] == -1
    assert refs["mismatch"] not in {b["channel_ref"] for b in corrected["breaks"]}
    with factory() as s:
        assert ledger.trial_balance(s)[Account.PAYMENT_SUSPENSE.value] == 777
        assert ledger.check(s) == []


@pytest.mark.parametrize("path", ["per-row", "file"])
def test_a_debits_only_file_says_nothing_of_the_days_payouts(
    factory: sessionmaker[Session], approved: Approved, path: str
) -> None:
    """A version 1 file (debits only: e.g. the job worker's sandbox, which paid nothing out) does not make
    the day's posted payouts breaks; a version 2 file without them does (the channel never settled them)."""
    user_id = granted(factory, approved, "v1@example.com")
    with factory() as s, s.begin():
        drawn = draw_on_line(s, user_id, AMOUNT, key="d1", channel=SandboxChannel())
    ref = drawn["disbursement"]["channel_ref"]
    worker = SandboxChannel()  # another process's sandbox: it paid nothing out
    assert not worker.reports_payouts
    debits_only = render(worker.settlement_lines(TODAY), payouts=worker.reports_payouts)
    assert debits_only.splitlines()[0] == "channel_ref,settled_on,status,amount"
    full = render([])

    def run(text: str) -> dict[str, Any]:
        if path == "file":
            return reconcile_file(factory, text.encode(), on=TODAY)
        with factory() as s, s.begin():
            return payments.reconcile(
                s, lines=parse(text, on=TODAY), on=TODAY, payouts_of_day=reports_payouts(text)
            )

    assert run(debits_only)["breaks"] == []
    (gap,) = run(full)["breaks"]
    assert (gap["channel_ref"], gap["kind"], gap["suspense_fen"]) == (ref, "missing_theirs", -AMOUNT)
