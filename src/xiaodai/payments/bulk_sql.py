"""Set-based SQL for the payment batches: ids as one array parameter, polars frames into tables (``COPY`` on
PostgreSQL, staged temporary tables), journal entries and their postings in bulk.

Nothing here knows about debits: the debit batch (``debit_book``), the settlement-file reconciliation
(``reconcile_file``) and any other bulk writer share these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, Select, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY

from xiaodai.db.tables import JournalEntryRow, PostingRow
from xiaodai.ledger.journal import JournalEntry
from xiaodai.metrics import PAYMENT_EVENTS, PAYMENTS_POSTED, count_on_commit

SQLITE_IN = 500  # bound parameters per IN list on SQLite


class ChunkConflictError(RuntimeError):
    """A row changed under a bulk write (end of day billed an instalment): the chunk is booked again."""


def select_in(
    connection: Connection,
    query: Select[Any],
    column: ColumnElement[Any],
    ids: Sequence[Any],
    *,
    lock: bool = False,
) -> list[Any]:
    """``query`` restricted to ``column`` in ``ids``: one array parameter on PostgreSQL (``= ANY``), lists of
    ``SQLITE_IN`` elsewhere. ``lock``: ``FOR UPDATE`` (PostgreSQL; SQLite serialises writers)."""
    out: list[Any] = []
    pg = connection.dialect.name == "postgresql"

    def where(part: Sequence[Any]) -> ColumnElement[bool]:
        if pg:
            return column == any_(bindparam("ids", list(part), type_=ARRAY(column.type)))
        return column.in_(part)

    chunks = [ids] if pg else [ids[k : k + SQLITE_IN] for k in range(0, len(ids), SQLITE_IN)]
    for part in chunks:
        if part:
            q = query.where(where(part))
            out.extend(connection.execute(q.with_for_update() if lock else q).all())
    return out


ENTRY_SCHEMA = {
    "seq": pl.Int64,
    "business_date": pl.Date,
    "event": pl.String,
    "idempotency_key": pl.String,
    "loan_id": pl.Int64,
    "memo": pl.String,
    "attempt_id": pl.Int64,
}
POSTING_SCHEMA = {
    "seq": pl.Int64,
    "leg": pl.Int64,
    "account": pl.String,
    "loan_id": pl.Int64,
    "amount_fen": pl.Int64,
}
_SQL_TYPES: dict[Any, str] = {
    pl.Int64: "BIGINT",
    pl.String: "VARCHAR(200)",
    pl.Date: "DATE",
    pl.Boolean: "BOOLEAN",
}


def copy_frame(connection: Connection, table: str, frame: pl.DataFrame) -> None:
    """``COPY table (columns) FROM STDIN`` of the frame, as CSV written by polars."""
    raw = connection.connection.driver_connection
    assert raw is not None
    data = frame.write_csv(include_header=False, null_value="", quote_style="non_numeric")
    columns = ", ".join(frame.columns)
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        copy.write(data)


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores them on SQLite: dates as ISO text, booleans as 0/1."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def stage(connection: Connection, name: str, frame: pl.DataFrame) -> None:
    """A temporary table (dropped at commit on PostgreSQL) holding ``frame``."""
    definition = ", ".join(f"{c} {_SQL_TYPES[t]}" for c, t in frame.schema.items())
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"CREATE TEMP TABLE {name} ({definition}) ON COMMIT DROP"))
        copy_frame(connection, name, frame)
        connection.execute(text(f"ANALYZE {name}"))
        return
    connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    connection.execute(text(f"CREATE TEMP TABLE {name} ({definition})"))
    if frame.height:
        marks = ", ".join(f":{c}" for c in frame.columns)
        connection.execute(
            text(f"INSERT INTO {name} VALUES ({marks})"),
            [{k: _sqlite_value(v) for k, v in row.items()} for row in frame.iter_rows(named=True)],
        )


def entry_frames(entries: Sequence[JournalEntry], first_seq: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Journal entries as the frames ``insert_entry_frames`` takes (``attempt_id`` null)."""
    rows = [
        (first_seq + k, e.business_date, e.event, e.idempotency_key, e.loan_id, e.memo, None)
        for k, e in enumerate(entries)
    ]
    legs = [
        (first_seq + k, n, p.account.value, p.loan_id, p.amount_fen)
        for k, e in enumerate(entries)
        for n, p in enumerate(e.postings)
    ]
    return (
        pl.DataFrame(rows, schema=ENTRY_SCHEMA, orient="row"),
        pl.DataFrame(legs, schema=POSTING_SCHEMA, orient="row"),
    )


def insert_entry_frames(
    connection: Connection, entries: pl.DataFrame, postings: pl.DataFrame
) -> pl.DataFrame:
    """Insert the entries (by ``seq``) and their postings (by ``seq``, ``leg``); returns (seq, id).
    PostgreSQL: ids drawn from the sequence at once, both tables loaded by ``COPY``; elsewhere one
    ``INSERT … RETURNING id`` per entry and its postings."""
    if entries.height == 0:
        return pl.DataFrame(schema={"seq": pl.Int64, "id": pl.Int64})
    entries = entries.sort("seq")
    for event, number in entries.group_by("event").len().iter_rows():  # counted once committed
        if event in PAYMENT_EVENTS:
            count_on_commit(connection, PAYMENTS_POSTED.labels(kind=event), number)
    if connection.dialect.name == "postgresql":
        ids = sorted(
            connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"n": entries.height},
            ).scalars()
        )
        entries = entries.with_columns(id=pl.Series(ids, dtype=pl.Int64))
        copy_frame(
            connection,
            "journal_entries",
            entries.select("id", "business_date", "event", "idempotency_key", "loan_id", "memo"),
        )
        copy_frame(
            connection,
            "postings",
            postings.join(entries.select("seq", "id"), on="seq")
            .sort("seq", "leg")
            .select(entry_id="id", account="account", loan_id="loan_id", amount_fen="amount_fen"),
        )
        return entries.select("seq", "id")
    out = []
    legs = postings.sort("seq", "leg").partition_by("seq", as_dict=True)
    for row in entries.iter_rows(named=True):
        entry_id = connection.execute(
            insert(JournalEntryRow).returning(JournalEntryRow.id),
            {k: row[k] for k in ("business_date", "event", "idempotency_key", "loan_id", "memo")},
        ).scalar_one()
        mine = legs.get((row["seq"],))
        if mine is not None:
            connection.execute(
                insert(PostingRow),
                [
                    {"entry_id": entry_id, "account": a, "loan_id": lo, "amount_fen": amt}
                    for a, lo, amt in mine.select("account", "loan_id", "amount_fen").iter_rows()
                ],
            )
        out.append((row["seq"], entry_id))
    return pl.DataFrame(out, schema={"seq": pl.Int64, "id": pl.Int64}, orient="row")


def insert_entries(connection: Connection, entries: Sequence[JournalEntry]) -> list[int]:
    """The entries and their postings, in order; returns their ids (``insert_entry_frames``)."""
    ids = insert_entry_frames(connection, *entry_frames(entries))
    return ids.sort("seq")["id"].to_list()
