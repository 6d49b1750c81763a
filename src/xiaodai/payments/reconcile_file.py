"""Reconciliation of a whole settlement file at once (polars): the same result as ``service.reconcile``,
without a Python object or a query per line.

1. The CSV is read and checked by polars with the rules of ``settlement_file`` (header, dates, statuses,
   two-decimal amounts, positive exactly when money moved, unique references); a file breaking one is
   refused whole with the first bad line's number (``SettlementFileError``), nothing reconciled.
2. Our attempts of the day (PostgreSQL: ``COPY … TO STDOUT`` into polars) and those of other days the file
   names, and our payouts (代付, ``payments.payout``: one per loan, few) sent that day or named, are joined
   with the file on ``channel_ref``.
3. Pending attempts the file settles (``confirm``) are booked by the batch kernel
   (``payments.debit_book.book``: locked, allocated by the servicing rules, posted once), pending payouts
   by ``payout.confirm``; then classified again.
4. Every reference is classified as ``reconcile.match`` does (vectorised), and the suspense account is moved
   by difference for every reference of the file or the day (``want − held``, entries
   ``suspense:<ref>:<n>``; a payout's moves cash the other way, ``reconcile.cash_sign``), in one
   transaction: a replayed file posts nothing, a corrected one moves only the change, a break that
   disappears clears its suspense.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, cast

import polars as pl
from sqlalchemy import ColumnElement, Connection, Select, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import JournalEntryRow, PostingRow
from xiaodai.db.tables.payments import DebitAttemptRow, PaymentCallbackRow
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.payments.batch import BOOK_WORKERS
from xiaodai.payments.bulk_sql import insert_entries, select_in
from xiaodai.payments.channel import DebitResponse, DebitStatus
from xiaodai.payments.debit_book import book, retrying
from xiaodai.payments.debit_send import Claimed
from xiaodai.payments.reconcile import BREAKS, Kind, cash_sign
from xiaodai.payments.settlement_file import (
    HEADER,
    HEADER_V1,
    KINDS,
    SettlementFileError,
    parse,
    reports_payouts,
)

CONFIRM_CHUNK = 20_000
_STATUSES = [s.value for s in DebitStatus if s is not DebitStatus.PENDING]
_MOVED = [s.value for s in DebitStatus if s.moved_money]


def _header(data: bytes) -> tuple[str, ...]:
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    return tuple(first.split(","))


def read_file(source: Path | bytes, *, on: date) -> pl.DataFrame:
    """The file as (channel_ref, status, amount_fen, payout), checked; ``SettlementFileError`` with a line
    number. Version 1 files (no ``kind`` column) take the kind from the reference."""
    data = source.read_bytes() if isinstance(source, Path) else source
    columns = list(HEADER_V1) if _header(data) == HEADER_V1 else list(HEADER)
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            infer_schema=False,
            new_columns=columns,
            encoding="utf8",
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        parse(data.decode("utf-8"), on=on)  # the line-by-line parser names the bad line
        raise SettlementFileError("the file is not a well-formed CSV") from None
    if frame.height == 0 or tuple(frame.row(0)) not in (HEADER, HEADER_V1):
        raise SettlementFileError(f"line 1: the header must be {','.join(HEADER)}")
    frame = frame.slice(1).with_row_index("line", offset=2)
    frame = frame.filter(~pl.all_horizontal(pl.col(columns).is_null()))  # blank lines
    if "kind" not in columns:  # version 1: the kind from our reference
        frame = frame.with_columns(
            kind=pl.when(pl.col("channel_ref").str.starts_with("payout:"))
            .then(pl.lit("payout"))
            .otherwise(pl.lit("debit"))
        )
    amount = pl.col("amount").str.extract_groups(r"^(0|[1-9][0-9]{0,9})\.([0-9]{2})$")
    frame = frame.with_columns(
        amount_fen=amount.struct.field("1").cast(pl.Int64) * 100 + amount.struct.field("2").cast(pl.Int64)
    )
    checks: list[tuple[pl.Expr, str]] = [
        (pl.any_horizontal(pl.col(columns).is_null()), f"{len(columns)} fields expected"),
        (pl.col("channel_ref") == "", "empty channel_ref"),
        (~pl.col("status").is_in(_STATUSES), "status must be succeeded, partial or failed"),
        (pl.col("amount_fen").is_null(), "amount is not CNY with two decimals"),
        (
            pl.col("status").is_in(_MOVED) != (pl.col("amount_fen") > 0),
            "amount must be positive exactly when money moved",
        ),
        (pl.col("settled_on") != on.isoformat(), f"settled_on is not the file's date {on}"),
        (pl.col("channel_ref").is_duplicated(), "channel_ref appears twice"),
        (~pl.col("kind").is_in(list(KINDS)), f"kind must be {' or '.join(KINDS)}"),
        ((pl.col("kind") == "payout") & (pl.col("status") == "partial"), "a payout is never partial"),
    ]
    bad = frame.select(
        pl.col("line"), *(expr.fill_null(True).alias(f"c{k}") for k, (expr, _) in enumerate(checks))
    ).filter(pl.any_horizontal(pl.exclude("line")))
    if bad.height:
        first = bad.row(0, named=True)
        if first["c6"]:  # a duplicate: the error names its second occurrence, as the parser does
            line = cast(
                int,
                frame.filter(pl.col("channel_ref").is_duplicated())
                .group_by("channel_ref")
                .agg(pl.col("line").sort().get(1))["line"]
                .min(),
            )
            raise SettlementFileError(f"line {line}: channel_ref appears twice")
        why = next(msg for k, (_, msg) in enumerate(checks) if first[f"c{k}"])
        raise SettlementFileError(f"line {first['line']}: {why}")
    return frame.select("channel_ref", "status", "amount_fen", payout=pl.col("kind") == "payout")


_OURS_SCHEMA = {
    "id": pl.Int64,
    "channel_ref": pl.String,
    "loan_id": pl.Int64,
    "amount_fen": pl.Int64,
    "business_date": pl.Date,
    "posted_fen": pl.Int64,
    "pending": pl.Boolean,
}
_PAYOUT_SCHEMA = {**_OURS_SCHEMA, "payout": pl.Boolean}
_REF: ColumnElement[Any] = DebitAttemptRow.__table__.c.channel_ref
_OURS_COLUMNS = (
    DebitAttemptRow.id,
    DebitAttemptRow.channel_ref,
    DebitAttemptRow.loan_id,
    DebitAttemptRow.amount_fen,
    DebitAttemptRow.business_date,
    DebitAttemptRow.posted_fen,
    DebitAttemptRow.status == "pending",
)


def _ours_of_day(connection: Connection, on: date) -> pl.DataFrame:
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        buffer = io.BytesIO()
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY (SELECT id, channel_ref, loan_id, amount_fen, business_date, posted_fen,"
                " status = 'pending' FROM debit_attempts"
                f" WHERE business_date = '{on.isoformat()}') TO STDOUT WITH (FORMAT csv)"
            ) as copy,
        ):
            for block in copy:
                buffer.write(block)
        if not buffer.tell():
            return pl.DataFrame(schema=_OURS_SCHEMA)
        buffer.seek(0)
        return pl.read_csv(
            buffer,
            has_header=False,
            new_columns=list(_OURS_SCHEMA),
            schema_overrides={k: (pl.String if v is pl.Boolean else v) for k, v in _OURS_SCHEMA.items()},
        ).with_columns(pl.col("pending") == "t")
    rows = connection.execute(select(*_OURS_COLUMNS).where(DebitAttemptRow.business_date == on)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=_OURS_SCHEMA, orient="row")


def _ours_by_ref(connection: Connection, refs: Sequence[str]) -> pl.DataFrame:
    query = cast(Select[Any], select(*_OURS_COLUMNS))
    rows = select_in(connection, query, _REF, list(refs))
    return pl.DataFrame([tuple(r) for r in rows], schema=_OURS_SCHEMA, orient="row")


def _payouts(session: Session, on: date, theirs: pl.DataFrame, *, of_day: bool) -> pl.DataFrame:
    """Our payouts sent on ``on`` (when the file reports the day's payouts) or named by the file (one per
    loan: a plain query)."""
    from xiaodai.payments import payout

    named = theirs.filter(pl.col("payout"))["channel_ref"].to_list()
    rows = []
    for row in payout.records(session, on, named, of_day=of_day).values():
        mine = payout.record(row)
        ids = (row.id, row.channel_ref, row.loan_id, row.amount_fen, row.business_date)
        rows.append((*ids, mine.posted_fen, mine.pending, True))
    return pl.DataFrame(rows, schema=_PAYOUT_SCHEMA, orient="row")


def _ours(session: Session, on: date, theirs: pl.DataFrame, *, payouts_of_day: bool) -> pl.DataFrame:
    """Our debits of the day and those the file names, then our payouts (column ``payout``)."""
    connection = session.connection()
    ours = _ours_of_day(connection, on)
    others = theirs.join(ours, on="channel_ref", how="anti")["channel_ref"].to_list()
    if others:
        ours = pl.concat([ours, _ours_by_ref(connection, others)]).unique("channel_ref", keep="first")
    payouts = _payouts(session, on, theirs, of_day=payouts_of_day).join(ours, on="channel_ref", how="anti")
    return pl.concat([ours.with_columns(payout=pl.lit(False)), payouts])


def classify(theirs: pl.DataFrame, ours: pl.DataFrame) -> pl.DataFrame:
    """``reconcile.match`` over frames: one row per reference of either side, in reference order, with
    ``kind``, ``ours_fen``, ``theirs_fen`` (null: no line) and ``suspense_fen``."""
    both = theirs.rename({"amount_fen": "theirs_fen", "payout": "payout_theirs"}).join(
        ours.select("channel_ref", "posted_fen", "pending", "payout"),
        on="channel_ref",
        how="full",
        coalesce=True,
    )
    ours_fen = pl.col("posted_fen").fill_null(0)
    line = pl.col("theirs_fen").is_not_null()
    kind = (
        pl.when(pl.col("pending").fill_null(False) & line)
        .then(pl.lit(Kind.CONFIRM.value))
        .when(pl.col("pending").fill_null(False))
        .then(pl.lit(Kind.UNRESOLVED.value))
        .when(~line | (pl.col("theirs_fen") == 0))
        .then(
            pl.when(ours_fen > 0)
            .then(pl.lit(Kind.MISSING_THEIRS.value))
            .otherwise(pl.lit(Kind.MATCHED.value))
        )
        .when(ours_fen == 0)
        .then(pl.lit(Kind.MISSING_OURS.value))
        .when(ours_fen != pl.col("theirs_fen"))
        .then(pl.lit(Kind.AMOUNT_MISMATCH.value))
        .otherwise(pl.lit(Kind.MATCHED.value))
    )
    money_break = pl.col("kind").is_in(
        [Kind.MISSING_OURS.value, Kind.MISSING_THEIRS.value, Kind.AMOUNT_MISMATCH.value]
    )
    return (
        both.with_columns(
            ours_fen=ours_fen, kind=kind, payout=pl.col("payout").fill_null(pl.col("payout_theirs"))
        )
        .with_columns(
            suspense_fen=pl.when(money_break)
            .then(pl.col("theirs_fen").fill_null(0) - pl.col("ours_fen"))
            .otherwise(0)
        )
        .select("channel_ref", "kind", "ours_fen", "theirs_fen", "suspense_fen", "status", "payout")
        .sort("channel_ref")
    )


def _confirm(factory: sessionmaker[Session], theirs: pl.DataFrame, ours: pl.DataFrame, on: date) -> list[str]:
    """Book the pending attempts that the file settles (batch kernel, chunked transactions; on PostgreSQL
    ``BOOK_WORKERS`` chunks at once, as the debit batch books)."""
    todo = (
        ours.filter(pl.col("pending") & ~pl.col("payout"))
        .join(theirs, on="channel_ref", how="inner", suffix="_theirs")
        .sort("id")
    )
    chunks = [todo.slice(k, CONFIRM_CHUNK) for k in range(0, todo.height, CONFIRM_CHUNK)]
    with factory() as session:
        workers = BOOK_WORKERS if session.get_bind().dialect.name == "postgresql" else 1
    confirmed: list[str] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="confirm") as pool:
        for refs in pool.map(partial(_confirm_chunk, factory, on=on), chunks):
            confirmed += refs
    return confirmed


def _confirm_chunk(factory: sessionmaker[Session], rows: pl.DataFrame, *, on: date) -> list[str]:
    columns = ("id", "channel_ref", "loan_id", "amount_fen", "business_date", "status", "amount_fen_theirs")
    claimed, answers = [], []
    for attempt_id, ref, loan_id, asked, day, status, settled in rows.select(columns).iter_rows():
        claimed.append(Claimed(attempt_id, ref, loan_id, asked, day, 0, "", 0))
        answers.append(DebitResponse(ref, DebitStatus(status), settled))
    retrying(factory, partial(book, claimed=claimed, answers=answers, on=on, unanswered_only=False))
    return rows["channel_ref"].to_list()


def _confirm_payouts(
    factory: sessionmaker[Session], theirs: pl.DataFrame, ours: pl.DataFrame, on: date
) -> list[str]:
    """Settle the pending payouts the file settles (``payout.confirm``), in one transaction."""
    from xiaodai.payments import payout
    from xiaodai.payments.settlement_file import SettlementLine

    todo = ours.filter(pl.col("pending") & pl.col("payout")).join(
        theirs.select("channel_ref", "status", theirs_fen="amount_fen"), on="channel_ref", how="inner"
    )
    if not todo.height:
        return []
    with factory() as session, session.begin():
        for ref, status, fen in todo.select("channel_ref", "status", "theirs_fen").iter_rows():
            line = SettlementLine(ref, on, DebitStatus(status), fen, "payout")
            payout.confirm(session, ref=ref, line=line, on=on)
    return list(todo["channel_ref"])


def _held(session: Session, refs: pl.DataFrame) -> pl.DataFrame:
    """(channel_ref, held, entries) of the suspense account for the references that have any (a debit's
    held as a credit, a payout's as a debit: compared with ``suspense_fen``)."""
    rows = session.execute(
        select(JournalEntryRow.idempotency_key, PostingRow.amount_fen)
        .join(PostingRow, PostingRow.entry_id == JournalEntryRow.id)
        .where(JournalEntryRow.event == "suspense", PostingRow.account == Account.PAYMENT_SUSPENSE.value)
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows], schema={"key": pl.String, "amount": pl.Int64}, orient="row"
    )
    return (
        frame.with_columns(
            channel_ref=pl.col("key").str.strip_prefix("suspense:").str.replace(r":[0-9]+$", "")
        )
        .group_by("channel_ref")
        .agg(held=-pl.col("amount").sum(), entries=pl.col("key").n_unique())
        .join(refs, on="channel_ref", how="inner")
        .with_columns(held=pl.when(pl.col("payout")).then(-pl.col("held")).otherwise(pl.col("held")))
        .drop("payout")
    )


def reconcile_file(factory: sessionmaker[Session], source: Path | bytes, *, on: date) -> dict[str, Any]:
    """Reconcile the day's settlement file (see the module docstring); the report of ``service.reconcile``."""
    theirs = read_file(source, on=on)
    data = source.read_bytes() if isinstance(source, Path) else source
    of_day = reports_payouts(data[:200])  # a debits-only file (version 1) says nothing of the day's payouts
    with factory() as session:
        ours = _ours(session, on, theirs, payouts_of_day=of_day)
    debits_pending = ours.filter(~pl.col("payout"))["pending"].any()
    confirmed = _confirm(factory, theirs, ours, on) if debits_pending else []
    confirmed += _confirm_payouts(factory, theirs, ours, on)
    with factory() as session, session.begin():
        if confirmed:  # the attempts just booked, read again (not the whole day)
            fresh = pl.concat(
                [
                    _ours_by_ref(session.connection(), confirmed).select(
                        "channel_ref", "posted_fen", "pending"
                    ),
                    _payouts(session, on, theirs, of_day=of_day).select(
                        "channel_ref", "posted_fen", "pending"
                    ),
                ]
            )
            ours = ours.update(fresh, on="channel_ref")
        outcomes = classify(theirs, ours)
        held = _held(session, outcomes.select("channel_ref", "payout"))
        moves = (
            outcomes.join(held, on="channel_ref", how="left")
            .with_columns(pl.col("held").fill_null(0), pl.col("entries").fill_null(0))
            .with_columns(delta=pl.col("suspense_fen") - pl.col("held"))
            .filter(pl.col("delta") != 0)
        )
        entries = [
            entry(
                on,
                "suspense",
                f"suspense:{ref}:{count + 1}",
                [(Account.CASH, cash_sign(out) * delta), (Account.PAYMENT_SUSPENSE, -cash_sign(out) * delta)],
                memo=json.dumps(
                    {"channel_ref": ref, "break": kind} | ({"direction": "payout"} if out else {})
                ),
            )
            for ref, kind, count, delta, out in moves.select(
                "channel_ref", "kind", "entries", "delta", "payout"
            ).iter_rows()
        ]
        insert_entries(session.connection(), entries)
        unmatched = [
            {
                "event_id": r.event_id,
                "channel_ref": r.channel_ref,
                "outcome": r.outcome,
                "settled_fen": r.settled_fen,
            }
            for r in session.execute(
                select(PaymentCallbackRow)
                .where(PaymentCallbackRow.outcome.in_(("unknown_ref", "conflict")))
                .order_by(PaymentCallbackRow.id)
            ).scalars()
        ]
    counts = {k.value: 0 for k in Kind if k is not Kind.CONFIRM}
    for kind, number in outcomes.group_by("kind").len().iter_rows():
        counts[kind] = number
    breaks = outcomes.filter(pl.col("kind").is_in([k.value for k in BREAKS]))
    return {
        "date": on.isoformat(),
        "counts": counts,
        "confirmed": sorted(confirmed),
        "breaks": breaks.select(
            "kind",
            "channel_ref",
            "ours_fen",
            "theirs_fen",
            "suspense_fen",
            direction=pl.when(pl.col("payout")).then(pl.lit("payout")).otherwise(pl.lit("debit")),
        ).to_dicts(),
        "suspense_posted_fen": int(moves["delta"].sum()) if moves.height else 0,
        "callbacks_unmatched": unmatched,
    }
