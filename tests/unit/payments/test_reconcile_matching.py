"""Matching settlement lines against our debit records; the sandbox is deterministic."""

from __future__ import annotations

from datetime import date

from xiaodai.payments.channel import DebitRequest, DebitStatus
from xiaodai.payments.reconcile import DebitRecord, Kind, match
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.payments.settlement_file import SettlementLine

DAY = date(2026, 2, 10)


def line(ref: str, fen: int, status: DebitStatus = DebitStatus.SUCCEEDED) -> SettlementLine:
    return SettlementLine(ref, DAY, status, fen)


def test_every_kind() -> None:
    lines = [
        line("a", 100),
        line("b", 100),
        line("c", 90),
        line("d", 50),
        line("f", 0, DebitStatus.FAILED),
        line("g", 0, DebitStatus.FAILED),
    ]
    records = [
        DebitRecord("a", 100, pending=False),  # matched
        DebitRecord("c", 100, pending=False),  # mismatch
        DebitRecord("d", 0, pending=True),  # confirm
        DebitRecord("e", 70, pending=False),  # missing theirs (no line)
        DebitRecord("f", 0, pending=False),  # matched failure
        DebitRecord("g", 30, pending=False),  # posted but the channel failed it
        DebitRecord("h", 0, pending=True),  # still waiting
    ]
    got = {o.channel_ref: (o.kind, o.suspense_fen) for o in match(lines, records)}
    assert got == {
        "a": (Kind.MATCHED, 0),
        "b": (Kind.MISSING_OURS, 100),
        "c": (Kind.AMOUNT_MISMATCH, -10),
        "d": (Kind.CONFIRM, 0),
        "e": (Kind.MISSING_THEIRS, -70),
        "f": (Kind.MATCHED, 0),
        "g": (Kind.MISSING_THEIRS, -30),
        "h": (Kind.UNRESOLVED, 0),
    }


def test_amounts_one_fen_apart_are_a_mismatch() -> None:
    (outcome,) = match([line("a", 101)], [DebitRecord("a", 100, pending=False)])
    assert (outcome.kind, outcome.suspense_fen) == (Kind.AMOUNT_MISMATCH, 1)


def test_sandbox_is_deterministic_per_seed_card_and_reference() -> None:
    card = "6222021234567890"
    one, two, other = SandboxChannel(seed=1), SandboxChannel(seed=1), SandboxChannel(seed=2)
    refs = [f"debit:{i}:0" for i in range(200)]
    draws = [one.scenario(card, r) for r in refs]
    assert draws == [two.scenario(card, r) for r in refs]
    assert draws != [other.scenario(card, r) for r in refs]
    assert set(draws) == set(Scenario)  # every mode appears in 200 draws


def test_sandbox_scripted_timeout_then_late_callback_and_file() -> None:
    sandbox = SandboxChannel(scripted={"7890": Scenario.TIMEOUT_SUCCESS, "1111": Scenario.PARTIAL})
    answer = sandbox.debit(DebitRequest("r1", "6222021234567890", 500, DAY))
    assert (answer.status, answer.settled_fen, answer.reason) == (DebitStatus.PENDING, 0, "TIMEOUT")
    partial = sandbox.debit(DebitRequest("r2", "6222020000001111", 501, DAY))
    assert (partial.status, partial.settled_fen) == (DebitStatus.PARTIAL, 250)
    (late,) = sandbox.late_callbacks()
    assert (late.channel_ref, late.status, late.settled_fen) == ("r1", DebitStatus.SUCCEEDED, 500)
    assert [(x.channel_ref, x.amount_fen) for x in sandbox.settlement_lines(DAY)] == [
        ("r1", 500),
        ("r2", 250),
    ]
    code = sandbox.code_for(ref := sandbox.send_verification(card_number="6222021234567890", phone_hint="1"))
    assert sandbox.confirm_verification(verify_ref=ref, code=code)
    assert not sandbox.confirm_verification(verify_ref=ref, code=f"{(int(code) + 1) % 1_000_000:06d}")


def test_payouts_are_matched_alike_and_move_cash_the_other_way() -> None:
    from xiaodai.payments.reconcile import cash_sign

    lines = [
        SettlementLine("payout:1", DAY, DebitStatus.SUCCEEDED, 9_850, "payout"),  # ours failed: missing ours
        SettlementLine("payout:3", DAY, DebitStatus.SUCCEEDED, 500, "payout"),  # unknown to us
        line("debit:1:0", 100),
    ]
    records = [
        DebitRecord("payout:1", 0, pending=False, payout=True),
        DebitRecord("payout:2", 700, pending=False, payout=True),  # posted, not in the file
        DebitRecord("debit:1:0", 100, pending=False),
    ]
    got = {o.channel_ref: (o.kind, o.suspense_fen, o.payout) for o in match(lines, records)}
    assert got == {
        "payout:1": (Kind.MISSING_OURS, 9_850, True),
        "payout:2": (Kind.MISSING_THEIRS, -700, True),
        "payout:3": (Kind.MISSING_OURS, 500, True),
        "debit:1:0": (Kind.MATCHED, 0, False),
    }
    # money paid out that we did not post leaves cash; a debit's unexplained money came in
    assert (cash_sign(True), cash_sign(False)) == (-1, 1)
