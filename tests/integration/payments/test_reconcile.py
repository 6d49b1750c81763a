"""Reconciliation of the channel's settlement file: every kind of break, the suspense account, replays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import debited_loan, journal_count, repayments
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.payments import service
from xiaodai.payments.channel import DebitStatus
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.payments.settlement_file import SettlementLine, parse, render
from xiaodai.privacy.keys import current_ring

DUE = date(2026, 2, 10)
FIRST = 90_258


def balances(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as s:
        return ledger.trial_balance(s)


def reconcile(factory: sessionmaker[Session], lines: list[SettlementLine]) -> dict[str, Any]:
    with factory() as s, s.begin():
        return service.reconcile(s, lines=lines, on=DUE)


def test_breaks_suspense_and_replays(factory: sessionmaker[Session], new_loan: Callable[..., int]) -> None:
    channel = SandboxChannel(
        scripted={
            "0011": Scenario.SUCCESS,  # matched
            "0012": Scenario.TIMEOUT_SUCCESS,  # pending: the file confirms it
            "0013": Scenario.INSUFFICIENT,  # failed both sides; then the file says it moved
            "0014": Scenario.SUCCESS,  # the file's amount differs
            "0015": Scenario.SUCCESS,  # the file lacks it
        }
    )
    for last4 in ("0011", "0012", "0013", "0014", "0015"):
        debited_loan(factory, new_loan, channel, last4)
    cash_before = balances(factory).get(Account.CASH.value, 0)
    with factory() as s, s.begin():
        ran = service.run_debits(s, channel=channel, ring=current_ring(), on=DUE, policy=default_policy())
    lines = {line.channel_ref: line for line in channel.settlement_lines(DUE)}
    refs = [d["channel_ref"] for d in ran["debits"]]  # one per loan, in order of creation
    matched, pending, failed, mismatched, dropped = refs
    assert (lines[matched].status, lines[matched].amount_fen) == (DebitStatus.SUCCEEDED, FIRST)
    lines[failed] = replace(lines[failed], status=DebitStatus.SUCCEEDED, amount_fen=5_000)  # missing ours
    lines[mismatched] = replace(lines[mismatched], amount_fen=FIRST - 1)  # mismatch by one fen
    del lines[dropped]  # missing theirs
    stranger = SettlementLine("debit:999999:0", DUE, DebitStatus.SUCCEEDED, 777)  # missing ours, unknown
    text = render([*lines.values(), stranger])
    file_lines = parse(text, on=DUE)  # through the file format, as the CLI does

    first = reconcile(factory, file_lines)
    assert first["confirmed"] == [pending]
    assert first["counts"] == {
        "matched": 2,  # the matched one and the confirmed one
        "missing_ours": 2,
        "missing_theirs": 1,
        "amount_mismatch": 1,
        "unresolved": 0,
    }
    kinds = {b["channel_ref"]: (b["kind"], b["suspense_fen"]) for b in first["breaks"]}
    assert kinds == {
        failed: ("missing_ours", 5_000),
        mismatched: ("amount_mismatch", -1),
        dropped: ("missing_theirs", -FIRST),
        "debit:999999:0": ("missing_ours", 777),
    }
    assert first["suspense_posted_fen"] == 5_000 - 1 - FIRST + 777
    after = balances(factory)
    # cash in the ledger moved by exactly the money the channel says moved
    assert after[Account.CASH.value] - cash_before == sum(line.amount_fen for line in file_lines)
    assert after[Account.PAYMENT_SUSPENSE.value] == -(5_000 - 1 - FIRST + 777)
    assert repayments(factory) == 4  # matched, confirmed, mismatched, dropped: each booked once

    entries = journal_count(factory)
    for _ in range(2):  # replayed twice: nothing lost, nothing posted twice
        again = reconcile(factory, file_lines)
        assert again["breaks"] == first["breaks"]
        assert again["suspense_posted_fen"] == 0
        assert again["confirmed"] == []
        assert journal_count(factory) == entries
        assert balances(factory) == after
    with factory() as s:
        assert ledger.check(s) == []


def test_a_corrected_file_moves_suspense_by_the_difference_only(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    channel = SandboxChannel(scripted={"0021": Scenario.SUCCESS})
    debited_loan(factory, new_loan, channel, "0021")
    with factory() as s, s.begin():
        service.run_debits(s, channel=channel, ring=current_ring(), on=DUE, policy=default_policy())
    (line,) = channel.settlement_lines(DUE)
    assert reconcile(factory, [replace(line, amount_fen=FIRST + 100)])["suspense_posted_fen"] == 100
    assert reconcile(factory, [line])["suspense_posted_fen"] == -100  # corrected: the break clears
    assert reconcile(factory, [line])["breaks"] == []
    assert balances(factory).get(Account.PAYMENT_SUSPENSE.value, 0) == 0


def test_a_pending_debit_absent_from_the_file_stays_unresolved(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    channel = SandboxChannel(scripted={"0031": Scenario.TIMEOUT_FAIL})
    debited_loan(factory, new_loan, channel, "0031")
    with factory() as s, s.begin():
        service.run_debits(s, channel=channel, ring=current_ring(), on=DUE, policy=default_policy())
    result = reconcile(factory, [])
    assert [(b["kind"], b["suspense_fen"]) for b in result["breaks"]] == [("unresolved", 0)]
    (line,) = channel.settlement_lines(DUE)  # the channel's file says it failed
    result = reconcile(factory, [line])
    assert result["breaks"] == []
    assert repayments(factory) == 0
