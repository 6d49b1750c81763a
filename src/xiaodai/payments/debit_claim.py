"""Step 1 of the debit batch: claim the day's due instalments — one ``INSERT … SELECT`` creates the
``pending`` attempts (attempt *n* of an instalment due on ``on − offset[n]``; unique ``channel_ref``; not
when the attempt exists or the instalment has a debit in flight), in (loan, period) order, committed
before the channel is asked. On PostgreSQL the attempts' foreign keys are checked set-based when allowed
(``bulk_sql.references_in_bulk``): the statement locks the instalment, loan and card it reads
``FOR KEY SHARE``, the lock each row's foreign-key trigger would take.

Every claimed attempt is listed in ``debit_in_flight`` by the same transaction (on PostgreSQL by the same
statement): what the unbinding refusal and the staff list read for "in flight"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import CursorResult, Date, String, bindparam, text
from sqlalchemy.orm import Session

from xiaodai.db.driver import DriverStatement, fetch_rows
from xiaodai.payments.bulk_sql import int_array, references_in_bulk, references_per_row
from xiaodai.payments.debit_policy import RetryPolicy

OPEN_STATES = ("active", "overdue")
LIST_WORK_MEM = "64MB"  # ``to_claim``: the day's due instalments hashed and sorted without spilling
REMAINING = (
    "(i.principal_fen + i.interest_fen + i.fee_fen - i.paid_principal_fen - i.paid_interest_fen"
    " - i.paid_fee_fen)"
)


def _attempt_case(policy: RetryPolicy, on: date) -> tuple[str, str, dict[str, date]]:
    dates = {f"d{n}": on - timedelta(days=offset) for n, offset in enumerate(policy.offsets_days)}
    case = "CASE i.due_on " + " ".join(f"WHEN :d{n} THEN {n}" for n in range(len(dates))) + " END"
    listed = ", ".join(f":{name}" for name in dates)
    return case, listed, dates


def _dated(sql: str, names: Iterable[str]) -> Any:
    return text(sql).bindparams(*(bindparam(n, type_=Date) for n in names))


def _due(listed: str) -> str:
    return f"""
        FROM installments i
        JOIN loans l ON l.id = i.loan_id
        JOIN payment_cards c ON c.borrower_id = l.borrower_id AND c.is_default
        WHERE i.active AND i.due_on IN ({listed}) AND {REMAINING} > 0
          AND l.state IN ('active', 'overdue') AND c.status = 'bound'
    """


def _counts(session: Session, case: str, listed: str, dates: dict[str, date]) -> dict[str, int]:
    counted = session.execute(
        _dated(
            f"""SELECT
              COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                             AND d.attempt = {case}) THEN 1 ELSE 0 END), 0),
              COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM debit_attempts d
                                                 WHERE d.installment_id = i.id AND d.attempt = {case})
                                 AND EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                             AND d.status = 'pending') THEN 1 ELSE 0 END), 0)
            {_due(listed)}""",
            dates,
        ),
        dates,
    ).one()
    return {"already_done": int(counted[0]), "skipped_in_flight": int(counted[1])}


def claim(session: Session, *, on: date, policy: RetryPolicy) -> dict[str, int]:
    """Create the day's ``pending`` attempts (set-based). Returns the counts ``claimed``,
    ``already_done`` (this attempt exists) and ``skipped_in_flight`` (another attempt is pending)."""
    case, listed, dates = _attempt_case(policy, on)
    counts = _counts(session, case, listed, dates)
    claimed, _ = _insert(session, case=case, listed=listed, dates=dates, on=on, installments=None)
    return {"claimed": claimed, **counts}


# the day's pending attempts not listed in flight yet (after the one-statement claim)
_LIST_IN_FLIGHT = """
INSERT INTO debit_in_flight (card_id, attempt_id, business_date)
SELECT d.card_id, d.id, d.business_date FROM debit_attempts d
WHERE d.business_date = :on AND d.status = 'pending'
  AND NOT EXISTS (SELECT 1 FROM debit_in_flight f WHERE f.attempt_id = d.id)
"""


def to_claim(
    session: Session,
    *,
    on: date,
    policy: RetryPolicy,
    after: tuple[int, int, int] | None = None,
    limit: int | None = None,
) -> tuple[list[int], dict[str, int], tuple[int, int, int] | None]:
    """The instalments the day's claim would take now, in (loan, period) order, and the counts
    ``already_done`` and ``skipped_in_flight`` (as ``claim``); nothing is written. ``claim_part`` claims
    them a part at a time (PostgreSQL).

    ``after``: only the instalments after this (loan, period, id). ``limit``: only the first ``limit`` due
    instalments (those already done or in flight included); then the third value is the (loan, period)
    and id of the last of them, to continue from with ``after`` (``None`` when there is nothing after them).
    The first part of the day is listed so (an index range in loan order, milliseconds) and claimed first;
    the rest (a scan of the day's instalments, seconds) while the first chunk is sent and booked.

    One statement, read through the driver (``db.driver.fetch_rows``: plain tuples, the engine's listeners
    and error handling kept): each due instalment comes back as its id, or 0 (this attempt exists) or -1
    (another attempt is in flight)."""
    case, listed, dates = _attempt_case(policy, on)
    params: dict[str, Any] = dict(dates)
    sql = f"""SELECT CASE WHEN EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                       AND d.attempt = {case}) THEN 0
                     WHEN EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                  AND d.status = 'pending') THEN -1
                     ELSE i.id END{", i.loan_id, i.period, i.id" if limit is not None else ""}
            {_due(listed)}"""
    if after is not None:
        sql += " AND (i.loan_id, i.period, i.id) > (:after_loan, :after_period, :after_id)"
        params |= {"after_loan": after[0], "after_period": after[1], "after_id": after[2]}
    sql += " ORDER BY i.loan_id, i.period, i.id"  # the id: a key to continue after, whatever the schedules
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    connection = session.connection()
    connection.execute(text(f"SET LOCAL work_mem = '{LIST_WORK_MEM}'"))  # the sort of the day in memory
    connection.execute(text("SET LOCAL jit = off"))
    rows = fetch_rows(connection, DriverStatement(_dated(sql, dates)), params)  # a million ints: plain tuples
    codes = [int(r[0]) for r in rows]
    counts = {"already_done": codes.count(0), "skipped_in_flight": codes.count(-1)}
    last = (
        (int(rows[-1][1]), int(rows[-1][2]), int(rows[-1][3]))
        if limit is not None and len(rows) == limit
        else None
    )
    return [i for i in codes if i > 0], counts, last


def claim_part(
    session: Session, *, on: date, policy: RetryPolicy, installments: Sequence[int]
) -> tuple[int, tuple[int, int] | None]:
    """``claim`` restricted to ``installments`` (each checked again: due, owing, loan open, card bound, no
    attempt yet nor one in flight), in (loan, period) order (PostgreSQL). Returns how many were claimed and
    the lowest and highest id of their attempts."""
    case, listed, dates = _attempt_case(policy, on)
    return _insert(session, case=case, listed=listed, dates=dates, on=on, installments=installments)


def _insert(
    session: Session,
    *,
    case: str,
    listed: str,
    dates: dict[str, date],
    on: date,
    installments: Sequence[int] | None,
) -> tuple[int, tuple[int, int] | None]:
    # the foreign keys of the claimed rows (instalment, loan, card): set-based when allowed — the rows they
    # reference are the ones this statement reads, locked FOR KEY SHARE as each key's trigger would
    connection = session.connection()
    bulk = references_in_bulk(connection)
    lock = "FOR KEY SHARE OF i, l, c" if bulk else ""
    part = "" if installments is None else "AND i.id = ANY(CAST(:part AS BIGINT[]))"
    # the anti-join as a subplan per instalment (OFFSET 0): while the day is claimed a part at a time, the
    # attempts' statistics lag behind the table, and a join planned on them could scan it for every part
    probe = "" if installments is None else "OFFSET 0"
    insert = f"""INSERT INTO debit_attempts (channel_ref, loan_id, installment_id, attempt, card_id,
                                            business_date, amount_fen, settled_fen, posted_fen, status)
            SELECT 'debit:' || CAST(i.id AS VARCHAR) || ':' || CAST({case} AS VARCHAR), i.loan_id, i.id,
                   {case}, c.id, :on, {REMAINING}, 0, 0, 'pending'
            {_due(listed)} {part}
              AND NOT EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                              AND (d.attempt = {case} OR d.status = 'pending') {probe})
            ORDER BY i.loan_id, i.period
            {lock}
            ON CONFLICT (channel_ref) DO NOTHING"""
    params: dict[str, Any] = {**dates, "on": on}
    names = [*dates, "on"]
    if installments is not None:  # a part's plan is a few milliseconds: JIT compiling it costs more
        connection.execute(text("SET LOCAL jit = off"))
    if installments is None:
        inserted: CursorResult[Any] = session.execute(_dated(insert, names), params)  # type: ignore[assignment]
        claimed, span = int(inserted.rowcount), None
    else:  # the part's attempts and their in-flight rows in one statement
        counted = _dated(
            f"""WITH claimed AS ({insert} RETURNING id, card_id, business_date),
                flight AS (INSERT INTO debit_in_flight (card_id, attempt_id, business_date)
                           SELECT card_id, id, business_date FROM claimed)
            SELECT count(*), min(id), max(id) FROM claimed""",
            names,
        ).bindparams(bindparam("part", int_array(installments), type_=String()))
        count, low, high = session.execute(counted, params).one()
        claimed, span = int(count), (None if low is None else (int(low), int(high)))
    if bulk:
        references_per_row(connection)
    if installments is None:  # checked per row: this statement does not lock the cards itself
        session.execute(_dated(_LIST_IN_FLIGHT, ["on"]), {"on": on})
    return claimed, span
