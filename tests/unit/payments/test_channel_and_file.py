"""Callback signatures and parsing; the settlement file format; the retry policy."""

from __future__ import annotations

from datetime import date

import pytest

from xiaodai.payments.channel import (
    Callback,
    CallbackError,
    DebitStatus,
    parse_callback,
    signature,
    verify_signature,
)
from xiaodai.payments.debit_policy import RetryPolicy, default_policy
from xiaodai.payments.settlement_file import (
    SettlementFileError,
    SettlementLine,
    parse,
    render,
    reports_payouts,
)

SECRET = b"s3cret"
DAY = date(2026, 2, 10)


def test_signature_verifies_only_the_exact_body_and_secret() -> None:
    body = Callback("e1", "debit:1:0", DebitStatus.SUCCEEDED, 100).body()
    sig = signature(SECRET, body)
    assert verify_signature(SECRET, body, sig)
    assert not verify_signature(b"other", body, sig)
    assert not verify_signature(SECRET, body.replace(b"100", b"101"), sig)
    assert parse_callback(body) == Callback("e1", "debit:1:0", DebitStatus.SUCCEEDED, 100)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"event_id":"e","channel_ref":"r","status":"pending","settled_fen":0}',
        b'{"event_id":"e","channel_ref":"r","status":"succeeded","settled_fen":0}',
        b'{"event_id":"e","channel_ref":"r","status":"failed","settled_fen":5}',
        b'{"event_id":"e","channel_ref":"r","status":"succeeded","settled_fen":1.5}',
        b'{"event_id":"","channel_ref":"r","status":"failed","settled_fen":0}',
    ],
)
def test_malformed_callbacks_are_refused(body: bytes) -> None:
    with pytest.raises(CallbackError):
        parse_callback(body)


def test_file_round_trip() -> None:
    lines = [
        SettlementLine("debit:1:0", DAY, DebitStatus.SUCCEEDED, 90_258),
        SettlementLine("debit:2:0", DAY, DebitStatus.PARTIAL, 5),
        SettlementLine("debit:3:1", DAY, DebitStatus.FAILED, 0),
    ]
    text = render(lines)
    assert text.splitlines()[0] == "channel_ref,settled_on,status,amount,kind"  # version 2
    assert text.splitlines()[1] == "debit:1:0,2026-02-10,succeeded,902.58,debit"
    assert text.splitlines()[2].endswith(",0.05,debit")
    assert parse(text, on=DAY) == lines


def test_version_1_files_still_parse_and_payout_lines() -> None:
    """A file written before payouts were reconciled (4 columns) reads as it did; the kind comes from the
    reference. A payout line is never partial."""
    old = (
        "channel_ref,settled_on,status,amount\n"
        "debit:1:0,2026-02-10,succeeded,902.58\n"
        "payout:7,2026-02-10,succeeded,98.50\n"
    )
    assert parse(old, on=DAY) == [
        SettlementLine("debit:1:0", DAY, DebitStatus.SUCCEEDED, 90_258),
        SettlementLine("payout:7", DAY, DebitStatus.SUCCEEDED, 9_850, "payout"),
    ]
    new = "channel_ref,settled_on,status,amount,kind\npayout:7,2026-02-10,failed,0.00,payout\n"
    assert parse(new, on=DAY) == [SettlementLine("payout:7", DAY, DebitStatus.FAILED, 0, "payout")]
    with pytest.raises(SettlementFileError, match="line 2: a payout is never partial"):
        parse("channel_ref,settled_on,status,amount,kind\npayout:7,2026-02-10,partial,1.00,payout\n", on=DAY)
    with pytest.raises(SettlementFileError, match=r"line 2: .*kind"):
        parse("channel_ref,settled_on,status,amount,kind\npayout:7,2026-02-10,failed,0.00,refund\n", on=DAY)
    v1 = render([SettlementLine("debit:1:0", DAY, DebitStatus.SUCCEEDED, 90_258)], payouts=False)
    assert v1 == "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-10,succeeded,902.58\n"
    assert (reports_payouts(v1), reports_payouts(render([])), reports_payouts(render([]).encode())) == (
        False,
        True,
        True,
    )
    with pytest.raises(ValueError, match="debits-only"):
        render([SettlementLine("payout:7", DAY, DebitStatus.FAILED, 0, "payout")], payouts=False)
    with pytest.raises(SettlementFileError, match=r"line 2: .*5 expected"):
        parse("channel_ref,settled_on,status,amount,kind\npayout:7,2026-02-10,failed,0.00\n", on=DAY)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("debit:1:0,2026-02-10,succeeded,902.5", "two decimals"),
        ("debit:1:0,2026-02-10,succeeded,0.00", "positive exactly"),
        ("debit:1:0,2026-02-10,failed,1.00", "positive exactly"),
        ("debit:1:0,2026-02-10,pending,0.00", "final outcomes"),
        ("debit:1:0,2026-02-11,succeeded,1.00", "not the file's date"),
        ("debit:1:0,2026-02-10,succeeded", "fields"),
        ("debit:1:0,2026-02-10,succeeded,-1.00", "two decimals"),
        (",2026-02-10,succeeded,1.00", "empty"),
    ],
)
def test_bad_lines_refuse_the_file_with_the_line_number(line: str, error: str) -> None:
    with pytest.raises(SettlementFileError, match=rf"line 2: .*{error}"):
        parse(f"channel_ref,settled_on,status,amount\n{line}\n", on=DAY)


def test_header_and_duplicates() -> None:
    with pytest.raises(SettlementFileError, match="line 1"):
        parse("ref,date,status,amount\n", on=DAY)
    twice = "channel_ref,settled_on,status,amount\na,2026-02-10,failed,0.00\na,2026-02-10,failed,0.00\n"
    with pytest.raises(SettlementFileError, match=r"line 3: .*twice"):
        parse(twice, on=DAY)
    assert parse("channel_ref,settled_on,status,amount\n", on=DAY) == []


def test_retry_policy_attempts_on_t_t1_t3_only() -> None:
    policy = default_policy()
    assert policy == RetryPolicy((0, 1, 3))
    due = date(2026, 2, 10)
    assert [policy.attempt_on(due, date(2026, 2, d)) for d in range(9, 15)] == [None, 0, 1, None, 2, None]
    with pytest.raises(ValueError, match="increasing"):
        RetryPolicy((0, 3, 1))
    with pytest.raises(ValueError, match="before the due date"):
        RetryPolicy((-1, 0))
