"""The set-based auto-debit batch: claim, call the channel, book — three steps, the channel outside any lock.

``run_debit_batch(factory, …)`` does for all due instalments of a day what ``service.run_debits`` does one
instalment at a time (the per-row reference, kept for the equivalence test), with the same results:

1. **Claim**: ``INSERT … SELECT`` creates the ``pending`` attempts of the day (attempt *n* of an
   instalment due on ``on − offset[n]``; unique ``channel_ref``; not when the attempt exists or the
   instalment has a debit in flight), in (loan, period) order. Committed before the channel is asked, so
   the channel is never called while we hold a lock. On PostgreSQL a chunk at a time, on a connection of
   its own, the next chunk claimed while the previous one is sent and booked (the two cores overlap); on
   SQLite the whole day in one transaction first.
2. **Send**: the claimed attempts not answered yet (``pending`` with no ``reason``: this day's, or those a
   crash left between claim and booking) are read in chunks, card numbers decrypted, and the channel asked
   with ``debit_batch``. The channel is idempotent per reference, so a rerun after a crash asks again and
   gets the first answer.
3. **Book** (one transaction per chunk): attempts still unanswered are locked and get their outcome;
   the money that moved is allocated by ``servicing.service.book_repayment`` — the very function
   ``servicing.repay`` runs, on the same records, in the same order (per loan, in attempt order), so
   billing, overdue-first allocation and overpayment are the servicing rules, not a copy of them — and
   written in bulk: journal entries (``repay:<channel_ref>``, one per debit, as the per-row path) and
   postings by ``COPY`` on PostgreSQL, loans, instalments and attempts by ``UPDATE … FROM`` a staged table.
   The common case (``fastpath``'s) is computed and written inside PostgreSQL (``fastsql``: no row of it
   passes through Python), by the polars kernel on SQLite.
   Loans are locked (``FOR UPDATE``, in id order); instalments are written only if their ``billed`` flag
   is still what was read (end of day bills without the loan lock), else the chunk is rolled back and
   booked again.

A crash between 1 and 3 leaves ``pending`` attempts without a reason: the next run of the day sends them
again; a callback or the settlement file (``reconcile``) resolves them too. A debit whose loan can no
longer take a repayment (state changed meanwhile) keeps its outcome with nothing posted: reconciliation
shows that money as missing on our side (suspense), never lost.

Not written by the batch: a ``commands`` row per debit. The attempt row (status under row lock) and the
journal's unique key ``repay:<channel_ref>`` make a debit post at most once.

The steps live in ``debit_claim`` (1), ``debit_send`` (2), ``debit_book`` (3, with the columnar kernel
``fastpath``) and the shared bulk SQL in ``bulk_sql``; this module runs them.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables.payments import DebitAttemptRow
from xiaodai.payments.bulk_sql import select_in
from xiaodai.payments.channel import DebitStatus, PaymentChannel
from xiaodai.payments.debit_book import book, retrying
from xiaodai.payments.debit_claim import claim, claim_part, to_claim
from xiaodai.payments.debit_policy import RetryPolicy
from xiaodai.payments.debit_send import send, unanswered, unanswered_span
from xiaodai.privacy.crypto import KeyRing

__all__ = ["CHUNK", "claim", "debits_of", "run_debit_batch"]

CHUNK = 20_000
BOOK_WORKERS = 2  # chunks booked at once on PostgreSQL (the machines have 2 cores)
# the cyclic collector while a batch runs: a young collection every 50,000 net allocations (CPython's
# default 700), a full one every 250 M (see ``relaxed_collector``)
BATCH_GC_THRESHOLDS = (50_000, 50, 100)


class _Relaxed:  # the process's batches running, and the thresholds to restore when none is
    lock = threading.Lock()
    depth = 0
    saved = (700, 10, 10)


@contextmanager
def relaxed_collector() -> Iterator[None]:
    """The cyclic garbage collector's thresholds raised to ``BATCH_GC_THRESHOLDS`` (never lowered) while
    the block runs, restored when the last such block of the process ends. A batch makes millions of
    short-lived objects (rows, requests, answers; few of them in cycles) beside a growing number of
    long-lived ones (the channel's records, the card numbers kept across chunks): with CPython's default
    thresholds the collector ran every 700 allocations and, ever more often, walked all the long-lived
    ones — about 40 % of the batch's Python CPU (100,000 debits: 2.4 → 1.4 s). Cycles made meanwhile are
    collected by the next collection, as before."""
    with _Relaxed.lock:
        if _Relaxed.depth == 0:
            _Relaxed.saved = gc.get_threshold()
            gc.set_threshold(*(max(a, b) for a, b in zip(_Relaxed.saved, BATCH_GC_THRESHOLDS, strict=True)))
        _Relaxed.depth += 1
    try:
        yield
    finally:
        with _Relaxed.lock:
            _Relaxed.depth -= 1
            if _Relaxed.depth == 0:
                gc.set_threshold(*_Relaxed.saved)


@relaxed_collector()
def run_debit_batch(
    factory: sessionmaker[Session],
    *,
    channel: PaymentChannel,
    ring: KeyRing,
    on: date,
    policy: RetryPolicy,
    chunk: int = CHUNK,
    progress: Callable[[str, int], None] | None = None,
    detail: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """The day's debit batch (see the module docstring). Each step commits on its own. ``detail``: also
    list the debits this run sent (``debits``, as ``service.run_debits`` does; for small batches).

    ``workers``: chunks booked at once, each in its own transaction and connection (default
    ``BOOK_WORKERS`` on PostgreSQL, 1 on SQLite, which serialises writers). The next chunk is read and sent
    while earlier ones are booked; at most ``workers`` chunks wait for booking. Chunks are disjoint
    ranges of attempts; a loan with debits in two chunks is locked by both in id order, so one waits for
    the other and reads what it committed.

    On PostgreSQL the day is claimed a chunk at a time (``debit_claim.claim_part``, in (loan, period)
    order, on a connection of its own): chunk *k + 1* is claimed while chunk *k* is sent and booked, each
    claim committed before its chunk is read and sent. Attempts a crashed run left unanswered are sent
    first. On SQLite the whole day is claimed first (one transaction), as before.

    The garbage collector runs less often meanwhile (``relaxed_collector``)."""
    with factory() as session:
        postgresql = session.get_bind().dialect.name == "postgresql"
    counts: dict[str, int] = {s.value: 0 for s in DebitStatus} | {
        "answered_elsewhere": 0,
        "posted_fen": 0,
        "claimed": 0,
        "already_done": 0,
        "skipped_in_flight": 0,
    }
    if not postgresql:
        with factory() as session, session.begin():
            counts |= claim(session, on=on, policy=policy)
        if progress:
            progress("claim", counts["claimed"])
    refused: list[dict[str, Any]] = []
    numbers: dict[int, str] = {}
    sent: list[int] = []
    with factory() as session:
        span = unanswered_span(session, on=on)  # on PostgreSQL: what a crashed run left
    booking: deque[tuple[int, Future[tuple[dict[str, int], list[dict[str, Any]]]]]] = deque()

    def booked(size: int, future: Future[tuple[dict[str, int], list[dict[str, Any]]]]) -> None:
        chunk_counts, chunk_refused = future.result()
        for key, value in chunk_counts.items():
            counts[key] = counts.get(key, 0) + value
        refused.extend(chunk_refused)
        if progress:
            progress("chunk", size)

    parallel = max(1, workers if workers is not None else (BOOK_WORKERS if postgresql else 1))

    def send_and_book(pool: ThreadPoolExecutor, low: int, high: int) -> None:
        with factory() as session:
            todo = unanswered(session, on=on, low=low, high=high)
        if not todo:
            return
        sent.extend(c.attempt_id for c in todo)
        answers = send(channel, ring, todo, numbers)
        work = partial(book, claimed=todo, answers=answers, on=on)
        booking.append((len(todo), pool.submit(retrying, factory, work)))
        while booking and (booking[0][1].done() or len(booking) > parallel):
            booked(*booking.popleft())

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="debit-book") as pool:
        for low in range(span[0], span[1] + 1, chunk) if span else ():
            send_and_book(pool, low, low + chunk)
        if postgresql:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="debit-claim") as claimer:
                for low, high in _claimed_parts(
                    factory, claimer, on=on, policy=policy, chunk=chunk, counts=counts, progress=progress
                ):
                    send_and_book(pool, low, high + 1)
        while booking:
            booked(*booking.popleft())
    result: dict[str, Any] = {"date": on.isoformat(), "counts": counts, "refused": refused}
    if detail:
        with factory() as session:
            result["debits"] = debits_of(session, sent)
    return result


def _claimed_parts(
    factory: sessionmaker[Session],
    claimer: ThreadPoolExecutor,
    *,
    on: date,
    policy: RetryPolicy,
    chunk: int,
    counts: dict[str, int],
    progress: Callable[[str, int], None] | None,
) -> Iterator[tuple[int, int]]:
    """The day's claim a chunk at a time (PostgreSQL): yields the id span of each part's attempts once its
    transaction has committed, the next part already being claimed on ``claimer`` meanwhile.

    The first part (the day's first ``chunk`` instalments to claim, in (loan, period) order: an index range
    in loan order, milliseconds) is listed and claimed at once; the rest of the day (a scan of the day's
    instalments, seconds) is listed on a connection of its own once that part has committed, while the
    first chunk is sent and booked. (Not before: the listing probes the attempts, and planned while a claim
    fills an empty table it would scan the claim's new rows for every instalment instead of probing the
    index.) The parts are those of one listing cut every ``chunk`` instalments."""
    listed: list[int] = []
    after: tuple[int, int, int] | None = None
    limit = chunk
    with factory() as session, session.begin():
        while True:  # due instalments already done or in flight are listed (counted), not claimed
            ids, listed_counts, after = to_claim(session, on=on, policy=policy, after=after, limit=limit)
            listed.extend(ids)
            for key, value in listed_counts.items():
                counts[key] += value
            if len(listed) >= chunk or after is None:
                break
            limit *= 2  # a day mostly done already: a few index ranges, then the listing of the rest
    queue: deque[list[int]] = deque()

    def cut(due: list[int]) -> None:
        queue.extend(due[k : k + chunk] for k in range(0, len(due), chunk))

    def list_rest(after: tuple[int, int, int]) -> tuple[list[int], dict[str, int]]:
        with factory() as session, session.begin():
            rest, rest_counts, _ = to_claim(session, on=on, policy=policy, after=after)
        return rest, rest_counts

    def claim_one(part: list[int]) -> tuple[int, tuple[int, int] | None]:
        with factory() as session, session.begin():
            return claim_part(session, on=on, policy=policy, installments=part)

    if after is None:
        cut(listed)
    elif len(listed) >= chunk:
        cut(listed[:chunk])
        listed = listed[chunk:]  # the start of the second part: the rest follows it
    rest: Future[tuple[list[int], dict[str, int]]] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="debit-list") as lister:

        def claim_next() -> Future[tuple[int, tuple[int, int] | None]] | None:
            nonlocal rest
            if not queue and rest is not None:
                due, rest_counts = rest.result()
                rest = None
                for key, value in rest_counts.items():
                    counts[key] += value
                cut(listed + due)
            return claimer.submit(claim_one, queue.popleft()) if queue else None

        ahead = claim_next()
        k = 0
        while ahead is not None:
            claimed, span = ahead.result()
            if k == 0 and after is not None and rest is None:  # the first part committed: list the rest
                rest = lister.submit(list_rest, after)
            waits = not queue and rest is not None  # the next part is not known yet
            ahead = None if waits else claim_next()
            counts["claimed"] += claimed
            if k == 0 and claimed:  # the day's first attempts: statistics for the booking and the staff list
                analyze(factory, "debit_attempts")
                analyze(factory, "debit_in_flight")
            k += 1
            if progress:
                progress("claim", claimed)
            if span is not None:
                yield span
            if waits:  # the first chunk is sent and booked meanwhile
                ahead = claim_next()


def analyze(factory: sessionmaker[Session], table: str) -> None:
    """``ANALYZE`` ``table`` after a bulk write (PostgreSQL), so that the next statements are not planned
    with the statistics of an empty or much smaller table (autovacuum would catch up minutes later)."""
    with factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"ANALYZE {table}"))


def debits_of(session: Session, attempt_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The attempts ``attempt_ids`` as ``service.run_debits`` lists its debits, in id order."""
    query: Select[Any] = select(  # type: ignore[assignment]
        DebitAttemptRow.channel_ref,
        DebitAttemptRow.loan_id,
        DebitAttemptRow.amount_fen,
        DebitAttemptRow.status,
        DebitAttemptRow.settled_fen,
        DebitAttemptRow.reason,
    ).order_by(DebitAttemptRow.id)
    keys = ("channel_ref", "loan_id", "amount_fen", "status", "settled_fen", "reason")
    rows = select_in(session.connection(), query, DebitAttemptRow.__table__.c.id, list(attempt_ids))
    return [dict(zip(keys, r, strict=True)) for r in rows]
