"""Reconciliation of a whole file with polars (``reconcile_file``) against the per-line reference
(``service.reconcile``): the same report and the same ledger on two copies of a book; replays post nothing;
malformed files refused with the line the line-by-line parser names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from test_debit_batch import SEED, _loan, clone, snapshot

from support.payment_books import bind, borrower, card_number
from xiaodai.db.session import make_engine, session_factory
from xiaodai.payments import batch, service
from xiaodai.payments.channel import DebitStatus
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.reconcile_file import read_file, reconcile_file
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.payments.settlement_file import SettlementFileError, SettlementLine, parse, render
from xiaodai.privacy.keys import current_ring
from xiaodai.servicing.allocation import AllocationOrder

DAY = date(2026, 2, 10)


def _book(engine: Engine) -> SandboxChannel:
    factory = session_factory(engine)
    channel = SandboxChannel(seed=SEED)
    for i in range(30):
        who = borrower(factory)
        bind(factory, channel, who, card_number(f"{2000 + i * 53:04d}"[-4:]))
        _loan(factory, who, order=AllocationOrder.OVERDUE_FIRST)
    batch.run_debit_batch(factory, channel=channel, ring=current_ring(), on=DAY, policy=default_policy())
    return channel


def files(channel: SandboxChannel) -> tuple[list[SettlementLine], list[SettlementLine]]:
    lines = channel.settlement_lines(DAY)
    moved = [k for k, line in enumerate(lines) if line.status is DebitStatus.SUCCEEDED]
    broken = list(lines)
    broken[moved[1]] = SettlementLine(lines[moved[1]].channel_ref, DAY, DebitStatus.SUCCEEDED, 1_000)
    del broken[moved[0]]
    broken.append(SettlementLine("debit:999999:0", DAY, DebitStatus.SUCCEEDED, 4_200))
    return broken, lines


@pytest.fixture
def two(db_url: str, engine: Engine, tmp_path: Any) -> Iterator[tuple[Engine, Engine, SandboxChannel]]:
    channel = _book(engine)
    url, drop = clone(db_url, engine, tmp_path)
    first, second = make_engine(db_url), make_engine(url)
    try:
        yield first, second, channel
    finally:
        first.dispose()
        second.dispose()
        drop()


def test_file_reconciliation_equals_the_per_line_reference(
    two: tuple[Engine, Engine, SandboxChannel],
) -> None:
    reference, polars_engine, channel = two
    broken, corrected = files(channel)
    ref_factory, pl_factory = session_factory(reference), session_factory(polars_engine)
    for lines in (broken, broken, corrected, broken):  # a break, its replay, the correction, back again
        with ref_factory() as s, s.begin():
            expected = service.reconcile(s, lines=lines, on=DAY)
        got = reconcile_file(pl_factory, render(lines).encode(), on=DAY)
        assert got == expected
        assert snapshot(ref_factory) == snapshot(pl_factory)
    first = reconcile_file(pl_factory, render(broken).encode(), on=DAY)
    assert first["suspense_posted_fen"] == 0  # a replay posts nothing
    assert {b["kind"] for b in first["breaks"]} == {"missing_ours", "missing_theirs", "amount_mismatch"}


def test_pending_debits_confirmed_by_the_file_are_booked_once(
    two: tuple[Engine, Engine, SandboxChannel],
) -> None:
    _, engine, channel = two
    factory = session_factory(engine)
    lines = channel.settlement_lines(DAY)
    report = reconcile_file(factory, render(lines).encode(), on=DAY)
    assert report["confirmed"] == sorted(channel.late)
    assert report["confirmed"]  # the seed has timeouts
    assert report["breaks"] == []
    again = reconcile_file(factory, render(lines).encode(), on=DAY)
    assert again["confirmed"] == []
    assert again["suspense_posted_fen"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "channel_ref,settled_on,status\n",
        "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-10,succeeded,1.5\n",
        "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-10,failed,1.00\n",
        "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-10,pending,0.00\n",
        "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-11,failed,0.00\n",
        (
            "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-10,failed,0.00\nx,2026-02-10,failed,0.00\n"
            "debit:1:0,2026-02-10,failed,0.00\n"
        ),
        "channel_ref,settled_on,status,amount\n,2026-02-10,failed,0.00\n",
        "channel_ref,settled_on,status,amount\ndebit:1:0,2026-02-10,succeeded,-1.00\n",
    ],
)
def test_bad_files_are_refused_at_the_line_the_parser_names(text: str) -> None:
    with pytest.raises(SettlementFileError) as expected:
        parse(text, on=DAY)
    with pytest.raises(SettlementFileError) as got:
        read_file(text.encode(), on=DAY)
    assert str(got.value).split(":")[0] == str(expected.value).split(":")[0]
