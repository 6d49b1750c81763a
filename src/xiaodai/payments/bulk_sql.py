"""Set-based SQL for the payment batches: ids as one array parameter, polars frames into tables (``COPY`` on
PostgreSQL, staged temporary tables), journal entries and their postings in bulk.

Nothing here knows about debits: the debit batch (``debit_book``), the settlement-file reconciliation
(``reconcile_file``) and any other bulk writer share these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, Select, String, any_, bindparam, cast, insert, text
from sqlalchemy.dialects.postgresql import ARRAY

from xiaodai.db.tables import JournalEntryRow, PostingRow
from xiaodai.ledger.journal import JournalEntry
from xiaodai.metrics import PAYMENT_EVENTS, PAYMENTS_POSTED, count_on_commit

SQLITE_IN = 500  # bound parameters per IN list on SQLite


class ChunkConflictError(RuntimeError):
    """A row changed under a bulk write (end of day billed an instalment): the chunk is booked again."""


def int_array(ids: Sequence[int]) -> str:
    """Integers as a PostgreSQL array literal (``'{1,2,3}'``, to be cast to ``BIGINT[]``): for 20,000 ids
    ~100 times cheaper for the client than the driver's dumping of a list."""
    return "{" + ",".join(map(str, ids)) + "}"


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
        if pg and all(type(v) is int for v in part):  # one text literal: the driver dumps a list per element
            listed = bindparam("ids", int_array(part), type_=String())
            return column == any_(cast(listed, ARRAY(column.type)))
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
                    # the sequence found once (an InitPlan), not per row (~10 µs of catalogue lookups each)
                    "SELECT nextval((SELECT CAST(pg_get_serial_sequence('journal_entries', 'id')"
                    " AS REGCLASS))) FROM generate_series(1, :n)"
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


# Foreign keys of a bulk write checked set-based instead of per row (PostgreSQL). A foreign key is a trigger
# per written row: a query that finds the referenced row and locks it ``FOR KEY SHARE`` — about half of the
# claim's CPU and a third of a booked chunk's (EXPLAIN ANALYZE at 100,000 claimed attempts: 1.48 of 2.76 s).
# ``references_in_bulk`` turns those triggers off for the current transaction only; the bulk writer then
# takes the same locks and makes the same checks for the whole set (``check_references``). Every other
# transaction keeps the per-row checks (the constraints stay): the database refuses an orphan posting.

BULK_TABLES = (
    "debit_attempts",
    "debit_in_flight",
    "installments",
    "journal_entries",
    "loans",
    "payment_cards",
    "postings",
)

_TABLES = ", ".join(f"'{t}'" for t in BULK_TABLES)
_OWN_TRIGGERS = f"""
SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid::regclass::text IN ({_TABLES}) AND NOT tgisinternal)
    OR EXISTS (SELECT 1 FROM pg_rules WHERE tablename IN ({_TABLES}))
"""
_MAY_SET = {  # PostgreSQL 15 grants SET on a superuser parameter to other roles
    True: "SELECT has_parameter_privilege('session_replication_role', 'SET')",
    False: "SELECT current_setting('is_superuser') = 'on'",
}


def references_in_bulk(connection: Connection) -> bool:
    """Turn this transaction's foreign-key triggers off (``SET LOCAL session_replication_role = replica``) so
    that the caller checks the references of its bulk write set-based. Only on PostgreSQL, only when this
    role may set that parameter (superuser, or ``GRANT SET ON PARAMETER session_replication_role``), and only
    when the tables the bulk writers touch (``BULK_TABLES``) have no trigger nor rule of their own — replica
    mode would skip those too. Returns whether it did; if not, nothing changed and every row is checked by its
    trigger as usual.

    The caller's duty while it is on (until ``references_per_row`` or the end of the transaction): every
    row it inserts references rows that this transaction read and locked ``FOR KEY SHARE`` in the same
    statement, or locked ``FOR UPDATE`` / created itself; no key column of an updated row changes; and
    ``check_references`` is run on what it wrote before anything else in the transaction."""
    if connection.dialect.name != "postgresql":
        return False
    version = connection.dialect.server_version_info or (0,)
    if not connection.execute(text(_MAY_SET[version >= (15,)])).scalar_one():
        return False
    if connection.execute(text(_OWN_TRIGGERS)).scalar_one():
        return False
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    return True


def references_per_row(connection: Connection) -> None:
    """Foreign keys checked per row again for the rest of the transaction (after ``references_in_bulk``)."""
    connection.execute(text("SET LOCAL session_replication_role = origin"))


@dataclass(frozen=True, slots=True)
class Marks:
    """Ids drawn from the journal's sequences when a bulk write began: every entry and posting this
    transaction writes afterwards has a greater id (a session's ``nextval`` only grows)."""

    entry: int
    posting: int


def reference_marks(connection: Connection) -> Marks:
    entry, posting = connection.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')),"
            " nextval(pg_get_serial_sequence('postings', 'id'))"
        )
    ).one()
    return Marks(int(entry), int(posting))


class OrphanReferenceError(RuntimeError):
    """A bulk write would have committed a row referencing nothing (what a foreign key refuses)."""


_WRITTEN = {  # table → the rows of it a bulk write may have written since ``Marks`` (an index range each)
    "journal_entries": "w.id > :entry",
    "postings": "w.id > :posting",
    # the chunk's id range (an attempt of it answered elsewhere is checked too: harmless)
    "debit_attempts": "w.id BETWEEN :low AND :high",
}
_UPDATED_ONLY = {"debit_attempts": ("entry_id",)}  # the attempts are updated: only this reference is written


def _foreign_keys(connection: Connection) -> list[tuple[str, str, str, str]]:
    """(table, column, referenced table, referenced column) of every single-column foreign key of the tables
    in ``_WRITTEN``, read from the catalogue (a key added later is checked too)."""
    rows = connection.execute(
        text(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, r.attname,"
            " cardinality(c.conkey)"
            " FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]"
            " WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(:tables)"
            " ORDER BY 1, 2"
        ),
        {"tables": list(_WRITTEN)},
    ).all()
    if any(r[4] != 1 for r in rows):
        raise RuntimeError("a multi-column foreign key: check_references does not know how to check it")
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def check_references(connection: Connection, marks: Marks, attempt_ids: Sequence[int]) -> None:
    """The foreign keys of what a bulk write wrote, for the whole set at once: journal entries and postings
    with ids above ``marks``, the attempts with ids from the lowest to the highest of ``attempt_ids``.
    Raises ``OrphanReferenceError`` (the transaction must not commit) when a row references nothing."""

    # the existence test per written row as a subplan: an index probe, or for a reference to an entry of this
    # transaction (id above the mark) a look-up in ONE hash of those entries; a join would scan the whole
    # referenced table for every chunk
    def exists(target: str, key: str, column: str) -> str:
        probe = f"EXISTS (SELECT 1 FROM {target} t WHERE t.{key} = w.{column})"
        if (target, key) != ("journal_entries", "id"):
            return probe
        new = f"w.{column} IN (SELECT t.id FROM journal_entries t WHERE t.id > :entry)"
        return f"CASE WHEN w.{column} > :entry THEN {new} ELSE {probe} END"

    checks = [
        f"(SELECT coalesce(sum(CASE WHEN {exists(target, key, column)} THEN 0 ELSE 1 END), 0)"
        f" FROM {table} w WHERE {_WRITTEN[table]} AND w.{column} IS NOT NULL)"
        for table, column, target, key in _foreign_keys(connection)
        if column in _UPDATED_ONLY.get(table, (column,))
    ]
    if not checks:
        return
    counts = connection.execute(
        text("SELECT " + ", ".join(checks)),
        {
            "entry": marks.entry,
            "posting": marks.posting,
            "low": min(attempt_ids, default=0),
            "high": max(attempt_ids, default=-1),
        },
    ).one()
    if any(counts):
        raise OrphanReferenceError(f"{sum(counts)} rows written in bulk reference nothing")
