"""Property: random debits with channel failures, callbacks in any order and twice, settlement files with
injected breaks replayed → the ledger checks clean, every settled debit is posted exactly once, cash is the
money that moved, and reconciliation finds exactly the injected breaks. Fresh database per example."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from support.databases import new_pg_copy
from support.payment_books import bind, borrower, card_number, standard_loan
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import JournalEntryRow
from xiaodai.db.tables.payments import DebitAttemptRow, DebitInFlightRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.payments import service
from xiaodai.payments.channel import DebitStatus, signature
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.payments.settlement_file import SettlementLine
from xiaodai.privacy.keys import current_ring

DUE = date(2026, 2, 10)
DAYS = [DUE + timedelta(days=d) for d in default_policy().offsets_days]
EXAMPLES = {"sqlite": 12, "postgresql": 8}

# per line of a day's file: keep it, drop it (missing theirs when money moved), or change its amount
Injection = st.sampled_from(["keep", "keep", "drop", "alter"])


def in_flight_is_pending(factory: sessionmaker[Session]) -> None:
    """``debit_in_flight`` lists exactly the pending attempts, each with its card and day."""
    with factory() as s:
        listed = set(
            s.execute(
                select(DebitInFlightRow.attempt_id, DebitInFlightRow.card_id, DebitInFlightRow.business_date)
            )
        )
        pending = set(
            s.execute(
                select(DebitAttemptRow.id, DebitAttemptRow.card_id, DebitAttemptRow.business_date).where(
                    DebitAttemptRow.status == "pending"
                )
            )
        )
    assert listed == pending


def check_run(
    factory: sessionmaker[Session],
    scenarios: list[Scenario],
    injections: list[str],
    strangers: list[int],
    deliveries: list[int],
    replays: int,
    seed: int,
) -> None:
    channel = SandboxChannel(seed=seed, scripted={f"{9000 + i}": s for i, s in enumerate(scenarios)})
    for i in range(len(scenarios)):
        who = borrower(factory)
        bind(factory, channel, who, card_number(f"{9000 + i}"))
        standard_loan(factory, who)
    with factory() as s:
        cash_before = ledger.trial_balance(s).get(Account.CASH.value, 0)

    def deliver(on: date, order: list[int]) -> None:
        late = channel.late_callbacks()
        for k in order:
            if late:
                body = late[k % len(late)].body()
                with factory() as s, s.begin():
                    service.handle_callback(
                        s, secret=channel.secret, body=body, signature=signature(channel.secret, body), on=on
                    )

    files: dict[date, list[SettlementLine]] = {}
    expected: dict[date, dict[str, str]] = {}
    picks = itertools.cycle(injections)  # one pick per settlement line, however many lines a day has
    for n, day in enumerate(DAYS):
        with factory() as s, s.begin():
            service.run_debits(s, channel=channel, ring=current_ring(), on=day, policy=default_policy())
        deliver(day, deliveries[n::3])  # some of the owed callbacks, in any order, some twice
        in_flight_is_pending(factory)
        lines, want = [], {}
        for truth in channel.settlement_lines(day):
            what = next(picks)
            if what == "drop":
                if truth.amount_fen:
                    want[truth.channel_ref] = "missing_theirs"
                continue
            if what == "alter" and truth.amount_fen > 1 and truth.channel_ref not in channel.late:
                lines.append(replace(truth, amount_fen=truth.amount_fen - 1))
                want[truth.channel_ref] = "amount_mismatch"
            else:
                lines.append(truth)
        for k, fen in enumerate(strangers):
            ref = f"stranger:{day.isoformat()}:{k}"
            lines.append(SettlementLine(ref, day, DebitStatus.SUCCEEDED, fen))
            want[ref] = "missing_ours"
        files[day], expected[day] = lines, want
        for _ in range(replays):
            with factory() as s, s.begin():
                service.reconcile(s, lines=lines, on=day)
    deliver(DAYS[-1], list(range(len(channel.late))))  # every owed callback arrives in the end
    in_flight_is_pending(factory)
    for day in DAYS:  # every file again: callbacks that came after it may move suspense (new facts) ...
        with factory() as s, s.begin():
            service.reconcile(s, lines=files[day], on=day)
    for day in DAYS:  # ... and a replay after that posts nothing
        with factory() as s, s.begin():
            report = service.reconcile(s, lines=files[day], on=day)
        assert report["suspense_posted_fen"] == 0
        assert {b["channel_ref"]: b["kind"] for b in report["breaks"]} == expected[day]
    with factory() as s:
        assert ledger.check(s) == []
        attempts = list(s.execute(select(DebitAttemptRow)).scalars())
        assert all(a.status != "pending" for a in attempts)
        assert s.execute(select(func.count()).select_from(DebitInFlightRow)).scalar_one() == 0
        for a in attempts:  # what the channel did is what we booked, once
            _, status, moved = channel.outcomes[a.channel_ref]
            assert (a.status, a.posted_fen) == (status.value, moved)
            keys = s.execute(
                select(func.count()).where(JournalEntryRow.idempotency_key == f"repay:{a.channel_ref}")
            ).scalar_one()
            assert keys == (1 if moved else 0)
        trial = ledger.trial_balance(s)
    moved_in_files = sum(line.amount_fen for lines in files.values() for line in lines)
    assert trial.get(Account.CASH.value, 0) - cash_before == moved_in_files


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_random_debits_callbacks_and_replays(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")

        def new_url() -> tuple[str, Callable[[], None]]:
            target = tmp_path / f"{uuid.uuid4().hex}.db"
            shutil.copy(template, target)
            return f"sqlite:///{target}", lambda: target.unlink(missing_ok=True)
    else:
        pg = request.getfixturevalue("pg_template")

        def new_url() -> tuple[str, Callable[[], None]]:
            return new_pg_copy(pg)

    @settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        scenarios=st.lists(st.sampled_from(list(Scenario)), min_size=1, max_size=4),
        injections=st.lists(Injection, min_size=1, max_size=6),
        strangers=st.lists(st.integers(1, 10_000), max_size=1),
        deliveries=st.lists(st.integers(0, 20), max_size=12),
        replays=st.integers(1, 2),
        seed=st.integers(0, 1000),
    )
    def example(
        scenarios: list[Scenario],
        injections: list[str],
        strangers: list[int],
        deliveries: list[int],
        replays: int,
        seed: int,
    ) -> None:
        url, drop = new_url()
        engine = make_engine(url)
        try:
            check_run(session_factory(engine), scenarios, injections, strangers, deliveries, replays, seed)
        finally:
            engine.dispose()
            drop()

    example()
