"""The set-based debit batch (``payments.batch``) against the per-row reference (``service.run_debits``):
on two copies of the same book, the same days, the same channel — identical ledgers and instalments.

The book mixes what changes an allocation: loans already late with penalties (end of day runs between
debit days), a loan holding an overpayment, a loan with a part-payment, all three allocation orders, a
loan with two instalments debited on the same day (a retry and a first attempt), a flat-fee product, and
the sandbox's random outcomes (successes, partials, failures, timeouts answered later by callback).
"""

from __future__ import annotations

import gc
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from support.databases import admin, pg_url
from support.payment_books import bind, borrower, card_number
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import LoanRow
from xiaodai.db.tables.payments import DebitAttemptRow, DebitInFlightRow
from xiaodai.ledger import service as ledger
from xiaodai.payments import batch, bulk_sql, debit_book, debit_claim, fastsql, service
from xiaodai.payments.channel import DebitRequest, DebitResponse, signature
from xiaodai.payments.debit_policy import RetryPolicy, default_policy
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.privacy.keys import current_ring
from xiaodai.servicing import service as servicing
from xiaodai.servicing.allocation import AllocationOrder
from xiaodai.servicing.eod import run_day

SEED = 11
START = date(2026, 1, 10)
POLICY = RetryPolicy((0, 1, 3, 28))
SCRIPTED = {"0666": Scenario.PARTIAL}
DAYS = [date(2026, 2, 10), date(2026, 2, 11), date(2026, 2, 13), date(2026, 3, 10), date(2026, 3, 11)]


def _loan(factory: sessionmaker[Session], who: int, *, order: AllocationOrder, flat: str = "0") -> int:
    terms = LoanTerms(
        principal=Decimal(6_000),
        term=3,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.15") if flat == "0" else Decimal("0.05"),
        start_on=START,
        fees=FeeSchedule(monthly_rate_on_principal=Decimal(flat)),
    )
    with factory() as s, s.begin():
        loan = servicing.create_loan(
            s,
            terms=terms,
            product="standard",
            config=servicing.ServicingConfig(allocation_order=order),
            cap_book=default_cap_book(),
        )
        loan.borrower_id = who
        loan_id = loan.id
    with factory() as s, s.begin():
        servicing.disburse(s, loan_id=loan_id, on=START, idempotency_key=f"disburse-{loan_id}")
    return loan_id


def build_book(factory: sessionmaker[Session], channel: SandboxChannel) -> None:
    orders = list(AllocationOrder)
    for i in range(18):
        who = borrower(factory)
        bind(factory, channel, who, card_number(f"{1000 + i * 37:04d}"[-4:]))
        loan_id = _loan(factory, who, order=orders[i % 3], flat="0.003" if i == 5 else "0")
        if i == 3:  # an overpayment held before the first due date
            with factory() as s, s.begin():
                servicing.repay(
                    s, loan_id=loan_id, amount_fen=30_000, on=date(2026, 2, 1), idempotency_key="op"
                )
    # a borrower whose card always pays half: late, penalties, and on 2026-03-10 two debits of one loan
    # (the first instalment's fourth attempt, T+28 in POLICY, and the second instalment's first)
    who = borrower(factory)
    bind(factory, channel, who, card_number("0666"))
    _loan(factory, who, order=AllocationOrder.OVERDUE_FIRST)


def clone(url: str, engine: Engine, tmp: Any) -> tuple[str, Callable[[], None]]:
    engine.dispose()
    if url.startswith("sqlite"):
        target = tmp / f"copy-{uuid.uuid4().hex[:6]}.db"
        shutil.copy(url[len("sqlite:///") :], target)
        return f"sqlite:///{target}", lambda: None
    source = url.rsplit("/", 1)[1]
    name = f"xiaodai_t_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return pg_url(name), lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "loans": """SELECT id, state, dpd, bucket, principal_outstanding_fen, interest_outstanding_fen,
                    fees_outstanding_fen, penalties_outstanding_fen, overpayment_fen, paid_total_fen,
                    penalties_charged_fen, closed_on, version FROM loans ORDER BY id""",
        "installments": """SELECT id, loan_id, period, active, billed, paid_principal_fen, paid_interest_fen,
                           paid_fee_fen, paid_on FROM installments ORDER BY id""",
        # billing is compared by what it made receivable per loan and by income totals (below): the batch's
        # columnar path bills a chunk in ONE entry (as end of day does), the per-row path one per instalment
        "entries": """SELECT idempotency_key, event, business_date, loan_id, memo FROM journal_entries
                      WHERE event <> 'billing' ORDER BY idempotency_key""",
        "postings": """SELECT e.idempotency_key, p.account, p.loan_id, p.amount_fen FROM postings p
                       JOIN journal_entries e ON e.id = p.entry_id WHERE e.event <> 'billing'
                       ORDER BY e.idempotency_key, p.account, p.amount_fen, p.loan_id""",
        "billed": """SELECT p.loan_id, p.account, SUM(p.amount_fen) FROM postings p
                     JOIN journal_entries e ON e.id = p.entry_id
                     WHERE e.event = 'billing' AND p.account NOT LIKE 'income:%'
                     GROUP BY p.loan_id, p.account ORDER BY p.loan_id, p.account""",
        "balances": """SELECT loan_id, account, SUM(amount_fen) FROM postings
                       WHERE account NOT LIKE 'income:%'
                       GROUP BY loan_id, account ORDER BY loan_id, account""",
        "income": """SELECT account, SUM(amount_fen) FROM postings WHERE account LIKE 'income:%'
                     GROUP BY account ORDER BY account""",
        "attempts": """SELECT channel_ref, loan_id, installment_id, attempt, business_date, amount_fen,
                       settled_fen, posted_fen, status, reason FROM debit_attempts ORDER BY channel_ref""",
    }
    with factory() as s:
        return {k: [tuple(r) for r in s.execute(text(q)).all()] for k, q in queries.items()}


def per_row(factory: sessionmaker[Session], channel: SandboxChannel, on: date) -> None:
    with factory() as s, s.begin():
        service.run_debits(s, channel=channel, ring=current_ring(), on=on, policy=POLICY)


PATHS: list[dict[str, int]] = []


def set_based(factory: sessionmaker[Session], channel: SandboxChannel, on: date) -> None:
    result = batch.run_debit_batch(
        factory, channel=channel, ring=current_ring(), on=on, policy=POLICY, chunk=7
    )
    PATHS.append(result["counts"])


def play(engine: Engine, channel: SandboxChannel, variant: Callable[..., None]) -> None:
    factory = session_factory(engine)
    for day in DAYS:
        variant(factory, channel, day)
        for callback in channel.late_callbacks():  # timeouts answered the same evening, in order
            body = callback.body()
            with factory() as s, s.begin():
                service.handle_callback(
                    s, secret=channel.secret, body=body, signature=signature(channel.secret, body), on=day
                )
        run_day(engine, day)


@pytest.fixture
def two_books(db_url: str, engine: Engine, tmp_path: Any) -> Iterator[tuple[Engine, Engine]]:
    build_book(session_factory(engine), SandboxChannel(seed=SEED, scripted=SCRIPTED))
    first = make_engine(db_url)
    url, drop = clone(db_url, engine, tmp_path)
    second = make_engine(url)
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()
        drop()


def test_set_based_batch_books_what_the_per_row_path_books(two_books: tuple[Engine, Engine]) -> None:
    per_row_engine, batch_engine = two_books
    play(per_row_engine, SandboxChannel(seed=SEED, scripted=SCRIPTED), per_row)
    PATHS.clear()
    play(batch_engine, SandboxChannel(seed=SEED, scripted=SCRIPTED), set_based)
    columnar = sum(c["columnar"] for c in PATHS)
    booked = sum(c["succeeded"] + c["partial"] for c in PATHS)
    assert 0 < columnar < booked  # both the columnar path and book_repayment were taken
    a, b = snapshot(session_factory(per_row_engine)), snapshot(session_factory(batch_engine))
    statuses = {row[8] for row in a["attempts"]}
    assert {"succeeded", "partial", "failed"} <= statuses  # the book exercises the outcomes
    assert len(a["attempts"]) >= 30
    assert any(r[1] == "apply-overpayment" for r in a["entries"])
    assert any(r[10] > 0 for r in a["loans"])  # penalties were charged
    same_day = {(r[1], r[4]) for r in a["attempts"] if r[7] > 0}
    assert len(same_day) < sum(1 for r in a["attempts"] if r[7] > 0)  # a loan paid twice on one day
    for key in a:
        assert a[key] == b[key], key
    with batch_engine.connect() as conn:  # the columnar path billed in one entry per chunk, with no loan
        chunk_bills = conn.execute(
            text("SELECT loan_id FROM journal_entries WHERE idempotency_key LIKE 'bill:debits:%'")
        ).all()
    assert chunk_bills
    assert all(loan_id is None for (loan_id,) in chunk_bills)
    for engine in two_books:
        with session_factory(engine)() as s:
            assert ledger.check(s) == []


def test_rerun_of_a_day_claims_and_posts_nothing(factory: sessionmaker[Session], engine: Engine) -> None:
    channel = SandboxChannel(seed=SEED)
    build_book(factory, channel)
    first = batch.run_debit_batch(
        factory, channel=channel, ring=current_ring(), on=DAYS[0], policy=default_policy()
    )
    assert first["counts"]["claimed"] == 19
    before = snapshot(factory)
    again = batch.run_debit_batch(
        factory, channel=channel, ring=current_ring(), on=DAYS[0], policy=default_policy()
    )
    assert again["counts"]["claimed"] == 0
    assert (
        again["counts"]["already_done"] + again["counts"]["skipped_in_flight"]
        >= 19 - first["counts"]["succeeded"]
    )
    assert snapshot(factory) == before


class CrashingChannel(SandboxChannel):
    """Answers, then the process 'dies' before booking (the exception stands for the crash)."""

    def debit_batch(self, requests: Any) -> list[DebitResponse]:
        super().debit_batch(requests)
        raise SystemExit("crash after the channel moved money")


def test_crash_after_the_channel_leaves_pending_attempts_that_the_rerun_books_once(
    factory: sessionmaker[Session],
) -> None:
    channel = SandboxChannel(seed=SEED)
    build_book(factory, channel)
    crashing = CrashingChannel(seed=SEED)
    with pytest.raises(SystemExit):
        batch.run_debit_batch(
            factory, channel=crashing, ring=current_ring(), on=DAYS[0], policy=default_policy()
        )
    with factory() as s:
        states = set(s.execute(select(DebitAttemptRow.status, DebitAttemptRow.reason)).all())
    assert states == {("pending", None)}  # claimed, committed, nothing booked
    # the rerun asks the channel again (idempotent per reference: the first answers) and books them once
    crashing.debit_batch = SandboxChannel.debit_batch.__get__(crashing)  # type: ignore[method-assign]
    result = batch.run_debit_batch(
        factory, channel=crashing, ring=current_ring(), on=DAYS[0], policy=default_policy()
    )
    assert result["counts"]["claimed"] == 0
    assert result["counts"]["succeeded"] > 0
    with factory() as s:
        assert ledger.check(s) == []
        booked = s.execute(select(DebitAttemptRow).where(DebitAttemptRow.posted_fen > 0)).scalars().all()
        keys = {k for (k,) in s.execute(text("SELECT idempotency_key FROM journal_entries")).all()}
    assert all(f"repay:{a.channel_ref}" in keys for a in booked)
    assert crashing.outcomes  # the channel kept its first answers


def test_a_loan_that_cannot_take_the_money_leaves_it_for_reconciliation(
    factory: sessionmaker[Session],
) -> None:
    channel = SandboxChannel(scripted={"0001": Scenario.SUCCESS})
    who = borrower(factory)
    bind(factory, channel, who, card_number("0001"))
    loan_id = _loan(factory, who, order=AllocationOrder.OVERDUE_FIRST)
    with factory() as s, s.begin():
        batch.claim(s, on=DAYS[0], policy=default_policy())
        s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(state="cancelled"))
    result = batch.run_debit_batch(
        factory, channel=channel, ring=current_ring(), on=DAYS[0], policy=default_policy()
    )
    assert len(result["refused"]) == 1
    with factory() as s:
        (attempt,) = s.execute(select(DebitAttemptRow)).scalars().all()
        assert (attempt.status, attempt.posted_fen, attempt.entry_id) == ("succeeded", 0, None)
        assert attempt.settled_fen > 0
    lines = channel.settlement_lines(DAYS[0])
    with factory() as s, s.begin():
        report = service.reconcile(s, lines=lines, on=DAYS[0])
    assert [b["kind"] for b in report["breaks"]] == ["missing_ours"]


def test_sandbox_batch_answers_as_single_debits() -> None:
    requests = [
        DebitRequest(f"debit:{i}:0", card_number(f"{i:04d}"), 10_000 + i, DAYS[0]) for i in range(1, 60)
    ]
    one, many = SandboxChannel(seed=3), SandboxChannel(seed=3)
    assert many.debit_batch(requests) == [one.debit(r) for r in requests]


class FailingOnCall(SandboxChannel):
    """The process 'dies' (``SystemExit``) when the channel is asked for the ``die_at``-th chunk: the
    chunks before it were sent and are booked, this one and the rest never reach the channel."""

    die_at: int = 2
    calls: int = 0

    def debit_batch(self, requests: Any) -> list[DebitResponse]:
        self.calls += 1
        if self.calls == self.die_at:
            raise SystemExit("crash while sending a later chunk")
        return super().debit_batch(requests)


@pytest.mark.parametrize("where", ["sending", "writing"])
def test_crash_mid_batch_and_rerun_post_exactly_what_an_uninterrupted_run_posts(
    two_books: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A crash after some chunks committed — while sending a later chunk, or in the middle of writing one
    (its entries, postings and loans written, not committed) — then a rerun of the day: the ledger, loans,
    instalments and attempts equal those of a run that never crashed; nothing is posted twice."""
    reference_engine, crashed_engine = two_books
    day = DAYS[0]
    reference = batch.run_debit_batch(
        session_factory(reference_engine),
        channel=SandboxChannel(seed=SEED, scripted=SCRIPTED),
        ring=current_ring(),
        on=day,
        policy=POLICY,
        chunk=5,
    )
    factory = session_factory(crashed_engine)
    channel = FailingOnCall(seed=SEED, scripted=SCRIPTED)
    if where == "writing":
        channel.die_at = 0  # the channel does not fail; the second chunk's write does, before its commit
        original = debit_book.write_chunk
        written: list[int] = []

        def dying(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            written.append(1)
            if len(written) == 2:
                raise SystemExit("crash after writing a chunk, before its commit")
            return result

        monkeypatch.setattr(debit_book, "write_chunk", dying)
    with pytest.raises(SystemExit):
        batch.run_debit_batch(
            factory, channel=channel, ring=current_ring(), on=day, policy=POLICY, chunk=5, workers=1
        )
    monkeypatch.undo()
    with factory() as s:
        booked = s.execute(select(DebitAttemptRow).where(DebitAttemptRow.status != "pending")).scalars().all()
        pending = (
            s.execute(select(DebitAttemptRow).where(DebitAttemptRow.status == "pending")).scalars().all()
        )
    assert 0 < len(booked) < len(booked) + len(pending)  # the crash fell between chunks that committed
    assert all(a.posted_fen == 0 and a.entry_id is None for a in pending)
    channel.die_at = 0
    again = batch.run_debit_batch(
        factory, channel=channel, ring=current_ring(), on=day, policy=POLICY, chunk=5
    )
    # the rerun claims only what the crashed run had not claimed yet (on PostgreSQL the day is claimed a chunk
    # at a time; on SQLite all of it first, so nothing) and sends the claimed attempts left unanswered
    claimed_before = len(booked) + len(pending)
    assert again["counts"]["claimed"] == reference["counts"]["claimed"] - claimed_before
    assert snapshot(factory) == snapshot(session_factory(reference_engine))
    with factory() as s:
        assert ledger.check(s) == []
        keys = [k for (k,) in s.execute(text("SELECT idempotency_key FROM journal_entries")).all()]
    assert len(keys) == len(set(keys))


def test_an_instalment_changed_under_the_sql_kernel_rolls_the_chunk_back_and_books_it_again(
    two_books: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's in-SQL columnar path (``fastsql``): when an instalment's ``billed`` flag is no longer what
    the kernel read (end of day billed it meanwhile), the guarded update misses it, the chunk's transaction
    is rolled back whole and booked again — ending exactly as a run that was never disturbed."""
    reference_engine, disturbed_engine = two_books
    if disturbed_engine.dialect.name != "postgresql":
        pytest.skip("the in-SQL kernel runs on PostgreSQL only (SQLite books the case in polars)")
    day = DAYS[0]
    original, first_bucket = fastsql.book_in_sql, fastsql.first_bucket
    connections: list[Any] = []
    disturbed: list[int] = []

    def flip(spec: str) -> str:  # runs after the kernel's table is built, before loans and instalments
        if not disturbed:  # once: flip one eligible instalment's flag, as end of day billing it would
            disturbed.append(
                connections[-1]
                .execute(
                    text(
                        "UPDATE installments SET billed = NOT billed WHERE id ="
                        " (SELECT min(installment_id) FROM batch_fast) RETURNING id"
                    )
                )
                .scalar_one()
            )
        return first_bucket(spec)

    def tracking(connection: Any, moved: Any, on: date) -> Any:
        connections.append(connection)
        return original(connection, moved, on)

    monkeypatch.setattr(debit_book, "book_in_sql", tracking)
    batch.run_debit_batch(
        session_factory(reference_engine),
        channel=SandboxChannel(seed=SEED, scripted=SCRIPTED),
        ring=current_ring(),
        on=day,
        policy=POLICY,
        chunk=7,
        workers=1,
    )
    undisturbed_calls = len(connections)
    monkeypatch.setattr(fastsql, "first_bucket", flip)
    factory = session_factory(disturbed_engine)
    result = batch.run_debit_batch(
        factory,
        channel=SandboxChannel(seed=SEED, scripted=SCRIPTED),
        ring=current_ring(),
        on=day,
        policy=POLICY,
        chunk=7,
        workers=1,
    )
    assert len(disturbed) == 1
    assert len(connections) == 2 * undisturbed_calls + 1  # the guard was hit: the chunk was booked again
    assert result["counts"]["columnar"] > 0
    assert snapshot(factory) == snapshot(session_factory(reference_engine))
    with factory() as s:
        assert ledger.check(s) == []


def test_the_sql_kernel_leaves_a_loan_owing_another_instalment_to_the_per_row_path(
    two_books: tuple[Engine, Engine],
) -> None:
    """The in-SQL kernel books a debit only when the loan owes nothing else billed or due (its other
    instalments are read per debit, by loan): the same debit is booked there while the loan's next
    instalment is unbilled, and left to the per-row path once that instalment is billed and unpaid."""
    engine = two_books[1]
    if engine.dialect.name != "postgresql":
        pytest.skip("the in-SQL kernel runs on PostgreSQL only (SQLite books the case in polars)")
    day = DAYS[0]
    with engine.connect() as conn:
        loan_id, first, owed, second = conn.execute(
            text(
                "SELECT i.loan_id, i.id, i.principal_fen + i.interest_fen + i.fee_fen, n.id"
                " FROM installments i JOIN loans l ON l.id = i.loan_id"
                " JOIN installments n ON n.loan_id = i.loan_id AND n.period = i.period + 1"
                " WHERE i.due_on = :day AND i.period = 1 AND NOT n.billed AND l.state = 'active'"
                " AND l.penalties_outstanding_fen = 0 AND l.overpayment_fen = 0 ORDER BY i.id LIMIT 1"
            ),
            {"day": day},
        ).one()
    moved = pl.DataFrame(
        [(1, "debit:kernel-test:1", loan_id, first, owed, day)], schema=fastsql.MOVED_SCHEMA, orient="row"
    )

    def book(next_billed: bool) -> fastsql.SqlBooked:
        with engine.connect() as conn:
            conn.execute(
                text("UPDATE installments SET billed = :b WHERE id = :i"), {"b": next_billed, "i": second}
            )
            booked = fastsql.book_in_sql(conn, moved, day)
            conn.rollback()
        return booked

    assert book(next_billed=False).booked == 1
    refused = book(next_billed=True)
    assert (refused.booked, refused.others) == (0, {1})


def test_the_sql_kernel_posts_nothing_for_a_chunk_with_a_broken_instalment(
    two_books: tuple[Engine, Engine],
) -> None:
    """An instalment paid beyond what it owes in one component (a broken row) would allocate a negative
    amount: the in-SQL kernel refuses the chunk — nothing of it is posted — instead of writing it."""
    engine = two_books[1]
    if engine.dialect.name != "postgresql":
        pytest.skip("the in-SQL kernel runs on PostgreSQL only (SQLite books the case in polars)")
    day = DAYS[0]
    with engine.begin() as conn:
        broken = conn.execute(
            text(
                "UPDATE installments SET paid_fee_fen = fee_fen + 1 WHERE id = (SELECT min(i.id)"
                " FROM installments i JOIN loans l ON l.id = i.loan_id"
                " WHERE i.due_on = :day AND l.allocation_order = 'overdue-first') RETURNING id"
            ),
            {"day": day},
        ).scalar_one()
    repayments = "SELECT count(*) FROM journal_entries WHERE event = 'repayment'"
    with engine.connect() as conn:
        before = conn.execute(text(repayments)).scalar_one()
    factory = session_factory(engine)
    with pytest.raises(RuntimeError, match="negative"):
        batch.run_debit_batch(
            factory,
            channel=SandboxChannel(seed=SEED, scripted=SCRIPTED),
            ring=current_ring(),
            on=day,
            policy=POLICY,
            chunk=1_000,
            workers=1,
        )
    with engine.connect() as conn:
        assert conn.execute(text(repayments)).scalar_one() == before
        statuses = dict(
            conn.execute(text("SELECT status, count(*) FROM debit_attempts GROUP BY status")).all()
        )
        claimed = conn.execute(
            text("SELECT count(*) FROM debit_attempts WHERE installment_id = :i"), {"i": broken}
        ).scalar_one()
    assert claimed == 1
    assert set(statuses) == {"pending"}  # claimed, answered by the channel, nothing booked


def test_the_batch_books_the_same_with_the_foreign_keys_checked_per_row(
    two_books: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role that may not set ``session_replication_role`` (or a table with a trigger of its own) runs the
    batch with every foreign key checked by its trigger: the same days give the same books as the
    set-based checks."""
    per_row_keys, set_based_keys = two_books
    used: list[bool] = []

    def spy(connection: Any) -> bool:
        used.append(bulk_sql.references_in_bulk(connection))
        return used[-1]

    monkeypatch.setattr(debit_claim, "references_in_bulk", spy)
    monkeypatch.setattr(debit_book, "references_in_bulk", spy)
    play(set_based_keys, SandboxChannel(seed=SEED, scripted=SCRIPTED), set_based)
    assert used
    assert all(used) == (set_based_keys.dialect.name == "postgresql")  # SQLite has no such mode
    monkeypatch.setattr(debit_claim, "references_in_bulk", lambda connection: False)
    monkeypatch.setattr(debit_book, "references_in_bulk", lambda connection: False)
    play(per_row_keys, SandboxChannel(seed=SEED, scripted=SCRIPTED), set_based)
    a, b = snapshot(session_factory(per_row_keys)), snapshot(session_factory(set_based_keys))
    for key in a:
        assert a[key] == b[key], key


def in_flight_and_pending(factory: sessionmaker[Session]) -> tuple[list[Any], list[Any]]:
    """(attempt, card, day) of ``debit_in_flight`` and of the pending attempts, in attempt order."""
    with factory() as s:
        listed = s.execute(
            select(
                DebitInFlightRow.attempt_id, DebitInFlightRow.card_id, DebitInFlightRow.business_date
            ).order_by(DebitInFlightRow.attempt_id)
        ).all()
        pending = s.execute(
            select(DebitAttemptRow.id, DebitAttemptRow.card_id, DebitAttemptRow.business_date)
            .where(DebitAttemptRow.status == "pending")
            .order_by(DebitAttemptRow.id)
        ).all()
    return [tuple(r) for r in listed], [tuple(r) for r in pending]


def test_in_flight_lists_exactly_the_pending_attempts_and_holds_their_cards(
    factory: sessionmaker[Session],
) -> None:
    """The batch's claim lists each attempt in flight, its booking and the callbacks take the final ones
    off; meanwhile the card cannot be unbound and the staff list shows the older ones."""
    channel = SandboxChannel(seed=SEED, scripted=SCRIPTED)
    build_book(factory, channel)
    crashing = CrashingChannel(seed=SEED)
    with pytest.raises(SystemExit):  # claimed and committed, nothing booked: all of them in flight
        batch.run_debit_batch(factory, channel=crashing, ring=current_ring(), on=DAYS[0], policy=POLICY)
    listed, pending = in_flight_and_pending(factory)
    assert len(listed) == 19
    assert listed == pending
    held: set[int] = set()
    for day in DAYS:
        set_based(factory, channel, day)
        listed, pending = in_flight_and_pending(factory)
        assert listed == pending
        held |= {card for _, card, _ in listed}
        with factory() as s:
            older = service.older_pending_debits(s, today=day + timedelta(days=1))
            known = select(DebitAttemptRow.id, DebitAttemptRow.channel_ref, DebitAttemptRow.amount_fen)
            shown = {a: (ref, fen) for a, ref, fen in s.execute(known)}
            assert older == [(shown[a][0], d, shown[a][1]) for a, _, d in listed]
            assert service.older_pending_debits(s, today=DAYS[0]) == []
        for _, card, _ in listed[:2]:  # a debit in flight: the card stays bound
            with pytest.raises(service.CardInUseError) as refused, factory() as s, s.begin():
                service.unbind(s, card_id=card)
            assert refused.value.reasons == ("CARD_DEBIT_IN_FLIGHT",)
        for callback in channel.late_callbacks():
            body = callback.body()
            with factory() as s, s.begin():
                service.handle_callback(
                    s, secret=channel.secret, body=body, signature=signature(channel.secret, body), on=day
                )
        listed, pending = in_flight_and_pending(factory)
        assert listed == pending == []
    assert held  # the sandbox timed some out: the refusal above was exercised
    with factory() as s, s.begin():  # nothing in flight any more: the card can go
        assert service.unbind(s, card_id=min(held))["status"] == "unbound"


def test_no_index_of_the_attempts_names_a_column_the_outcome_writes(engine: Engine) -> None:
    """Booking an outcome writes these columns; an index naming one (key or predicate) would keep that
    update from being HOT on PostgreSQL. The table leaves room on its pages for the new versions."""
    written = ("status", "settled_fen", "posted_fen", "reason", "entry_id", "updated_at")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            indexes = (
                conn.execute(
                    text(
                        "SELECT pg_get_indexdef(indexrelid) FROM pg_index"
                        " WHERE indrelid = 'debit_attempts'::regclass"
                    )
                )
                .scalars()
                .all()
            )
            options = conn.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = 'debit_attempts'::regclass")
            ).scalar_one()
            assert options == ["fillfactor=45"]
        else:
            indexes = (
                conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'debit_attempts'")
                )
                .scalars()
                .all()
            )
    definitions = [d for d in indexes if d]  # SQLite's own (unique constraint) indexes have no SQL text
    assert definitions
    assert not [d for d in definitions if any(c in d for c in written)]


class ThresholdsSeen(SandboxChannel):
    """Records the garbage collector's thresholds while it is asked."""

    seen: list[tuple[int, int, int]]

    def debit_batch(self, requests: Any) -> list[DebitResponse]:
        self.seen.append(gc.get_threshold())
        return super().debit_batch(requests)


def test_the_batch_runs_with_the_collector_relaxed_and_restores_it(factory: sessionmaker[Session]) -> None:
    build_book(factory, SandboxChannel(seed=SEED))
    channel = ThresholdsSeen(seed=SEED)
    channel.seen = []
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        result = batch.run_debit_batch(
            factory, channel=channel, ring=current_ring(), on=DAYS[0], policy=POLICY, chunk=7
        )
        after = gc.get_threshold()
    finally:
        gc.set_threshold(*before)
    assert result["counts"]["claimed"] == 19
    assert channel.seen
    assert set(channel.seen) == {batch.BATCH_GC_THRESHOLDS}
    assert after == (700, 10, 10)


def test_relaxed_collector_never_lowers_thresholds_and_nests() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(100_000, 5, 200)
        with batch.relaxed_collector():
            assert gc.get_threshold() == (100_000, 50, 200)
            with batch.relaxed_collector():
                assert gc.get_threshold() == (100_000, 50, 200)
            assert gc.get_threshold() == (100_000, 50, 200)  # the outer block still runs
        assert gc.get_threshold() == (100_000, 5, 200)
    finally:
        gc.set_threshold(*before)


def test_the_day_is_listed_first_part_then_rest_with_the_counts_of_one_listing(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``to_claim`` with ``limit`` then ``after`` lists what one listing lists, in the same order, with the
    same counts (attempts done and in flight included); the batch claims the first part before it lists
    the rest (a listing planned while a claim fills the attempts would scan the claim's rows per
    instalment), and claims the day in the same parts as one listing would give."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the day is claimed a part at a time on PostgreSQL only")
    channel = SandboxChannel(seed=SEED, scripted=SCRIPTED)
    build_book(factory, channel)
    batch.run_debit_batch(factory, channel=channel, ring=current_ring(), on=DAYS[0], policy=POLICY, chunk=7)
    day = DAYS[1]  # retries of the first day's failures and timeouts (in flight), first attempts too
    with factory() as s, s.begin():
        whole, counts, last = debit_claim.to_claim(s, on=day, policy=POLICY)
    assert last is None
    assert len(whole) >= 3
    assert counts["skipped_in_flight"] > 0  # the first day's timeouts
    for limit in range(1, len(whole) + 3):
        with factory() as s, s.begin():
            first, first_counts, after = debit_claim.to_claim(s, on=day, policy=POLICY, limit=limit)
            rest, rest_counts = [], {"already_done": 0, "skipped_in_flight": 0}
            if after is not None:
                rest, rest_counts, _ = debit_claim.to_claim(s, on=day, policy=POLICY, after=after)
        assert first + rest == whole, limit
        assert {k: first_counts[k] + rest_counts[k] for k in counts} == counts, limit
    calls: list[tuple[str, Any]] = []
    listing, claiming = batch.to_claim, batch.claim_part

    def listed(*args: Any, **kwargs: Any) -> Any:
        calls.append(("list", kwargs.get("limit")))
        return listing(*args, **kwargs)

    def claimed(*args: Any, **kwargs: Any) -> Any:
        result = claiming(*args, **kwargs)
        calls.append(("claimed", list(kwargs["installments"])))
        return result

    monkeypatch.setattr(batch, "to_claim", listed)
    monkeypatch.setattr(batch, "claim_part", claimed)
    chunk = 2
    result = batch.run_debit_batch(
        factory, channel=channel, ring=current_ring(), on=day, policy=POLICY, chunk=chunk
    )
    assert result["counts"]["claimed"] == len(whole)
    assert {k: result["counts"][k] for k in counts} == counts
    parts = [ids for kind, ids in calls if kind == "claimed"]
    assert parts == [whole[k : k + chunk] for k in range(0, len(whole), chunk)]
    rest = [k for k, (kind, limit) in enumerate(calls) if kind == "list" and limit is None]
    assert len(rest) == 1  # the rest of the day listed once, after the first part was claimed
    assert calls.index(("claimed", parts[0])) < rest[0]
