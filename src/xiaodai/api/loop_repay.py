"""On PostgreSQL, a borrower's repayment on the event loop straight on psycopg's asynchronous connection: no
SQLAlchemy session, engine connection or greenlet, and two round trips instead of four.

The same transaction as ``journey.repay_as`` → ``servicing.repayment.repay`` sends through a session, built
by the same functions, with the same answer and the same rows written:

1. ``BEGIN`` and the first statement (``repayment.pg_lock_and_claim``: the borrower's loan locked, the key
   claimed, the active instalments locked and read) sent together in psycopg's pipeline mode: one round trip;
2. the booking computed from those records (``repayment.rows_to_book``, ``service.book_repayment``: the
   pure core), the payment rail's ``collect`` called (only a rail that does not block comes this way);
3. the second statement (``loans.pg_save``: journal, postings, the changed rows and the stored result) and
   ``COMMIT`` sent together: one round trip. The answer is sent only after the ``COMMIT`` succeeded.

A retry of the key (nothing claimed) reads the stored result and ends the transaction in one more round
trip (``commands.replayed``'s rule). What this path does not do, it hands back before anything is written
(``SessionPathError``, its transaction rolled back, the claim with it): a payment of exactly the payoff, which
``payoff.prepayment`` settles through the ORM, and a first round trip that failed (the caller runs the
session path, which answers a database error as every other request does). A failure after ``collect``:
the statement refused by the server is rolled back and raised (a 500 with a reference: the client retries
with its key; the rail is idempotent by reference); a connection lost while ``COMMIT`` was on its way is
raised too — whether it committed is unknown, and the retry of the key tells.

The connections are a pool of this worker's own (``async_reads.AsyncReads``: autocommit, so that ``BEGIN``
and ``COMMIT`` are the statements sent; at most ``SIZE`` payments hold one at once, the others wait in
order). The statements are reported to the pool's ``observers`` before they are sent, as the reads' are.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects import postgresql

from xiaodai.api.async_reads import AsyncReads
from xiaodai.journey.payment_rail import RAIL
from xiaodai.journey.service import repay_refusals
from xiaodai.metrics import payments_committed
from xiaodai.servicing import repayment
from xiaodai.servicing.commands import FIRST_RESULT, Result, check_key, replayed, result_item
from xiaodai.servicing.loans import pg_save
from xiaodai.servicing.service import book_repayment

SIZE = 8  # payments holding a connection at once, per worker
_DIALECT = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
_FIRST_RESULT = FIRST_RESULT.sql(_DIALECT)


class SessionPathError(Exception):
    """Not a payment for this path: nothing was written (its transaction rolled back); run the session's."""


async def repay_on_loop(
    pool: AsyncReads, *, user_id: int, loan_id: int, amount_fen: int, on: date, key: str
) -> Result:
    """``journey.repay_as(session, user_id=…, …)``'s answer and writes, on a connection of ``pool`` (see the
    module docstring); its errors (``NotFoundError``, ``OverpaymentRefusedError``, ``ServicingError``,
    ``IdempotencyConflictError``), or ``SessionPathError``."""
    held = f"u{user_id}:{key}"  # as ``repay_as`` keys it
    print_ = repayment.request_print(loan_id=loan_id, amount_fen=amount_fen, on=on, dated_by_platform=True)
    check_key(held)
    statement, params = repayment.pg_lock_and_claim(
        loan_id=loan_id, borrower_id=user_id, key=held, print_=print_
    )
    try:
        connection = await pool.take()
    except psycopg.Error:
        raise SessionPathError from None  # no connection here: the session path's pool may have one
    try:
        return await _repay(pool, connection, held, print_, statement.sql(_DIALECT), params, amount_fen, on)
    finally:
        if connection.closed or connection.info.transaction_status is not TransactionStatus.IDLE:
            pool.lost(connection)  # not known to be idle: never handed to another request
        else:
            pool.give(connection)


async def _repay(
    pool: AsyncReads,
    connection: psycopg.AsyncConnection[Any],
    held: str,
    print_: str,
    first_sql: str,
    params: dict[str, Any],
    amount_fen: int,
    on: date,
) -> Result:
    """The transaction on ``connection`` (see ``repay_on_loop``); it ends committed or rolled back, unless
    the connection failed (then the caller drops it)."""
    try:
        found = await _begin_and_fetch(pool, connection, first_sql, params)
    except psycopg.Error:
        await _roll_back(pool, connection)
        raise SessionPathError from None
    user_id, loan_id = params["borrower_id"], params["loan_id"]
    with repay_refusals():  # refused as ``repay_as`` refuses, once the transaction is rolled back
        try:
            loan, claimed, read = repayment.pg_locked(found, loan_id)
            if not claimed:
                first = await _fetch(pool, connection, _FIRST_RESULT, {"key": held})
                await _end(pool, connection, "ROLLBACK")  # nothing was written: the locks released
                return replayed(
                    first[0] if first else None, key=held, command=repayment.COMMAND, fingerprint=print_
                )
            rows, settles = repayment.rows_to_book(
                loan, read, amount_fen=amount_fen, on=on, within_payoff=True
            )
            if settles:
                raise SessionPathError
            RAIL.collect(reference=f"repay:{held}", amount_fen=amount_fen, account=f"borrower:{user_id}")
            journal, result = book_repayment(
                None, loan, rows, amount_fen=amount_fen, on=on, key=f"repay:{held}"
            )
            write, values = pg_save(loan, rows, journal, with_item=result_item(held, result))
        except BaseException:
            await _roll_back(pool, connection)
            raise
    try:
        ids = await _fetch_and_commit(pool, connection, write.sql(_DIALECT), values)
    except psycopg.Error:
        await _roll_back(pool, connection)
        raise
    payments_committed(e.event for e in journal)
    result["entry_id"] = ids[-1][0]
    return {**result, "replayed": False}


async def _begin_and_fetch(
    pool: AsyncReads, connection: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any]
) -> list[Any]:
    """``BEGIN`` and one statement's rows, in one round trip."""
    _observe(pool, "BEGIN", sql)
    cursor = connection.cursor()
    async with connection.pipeline() as pipeline:
        await connection.execute("BEGIN")
        await cursor.execute(sql, params)
        await pipeline.sync()
    return await cursor.fetchall()


async def _fetch_and_commit(
    pool: AsyncReads, connection: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any]
) -> list[Any]:
    """One statement's rows and ``COMMIT``, in one round trip (the statement refused: ``COMMIT`` is not run,
    the transaction stays to be rolled back)."""
    _observe(pool, sql, "COMMIT")
    cursor = connection.cursor()
    async with connection.pipeline() as pipeline:
        await cursor.execute(sql, params)
        await connection.execute("COMMIT")
        await pipeline.sync()
    return await cursor.fetchall()


async def _fetch(
    pool: AsyncReads, connection: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any]
) -> list[Any]:
    _observe(pool, sql)
    cursor = connection.cursor()
    await cursor.execute(sql, params)
    return await cursor.fetchall()


async def _end(pool: AsyncReads, connection: psycopg.AsyncConnection[Any], command: str) -> None:
    _observe(pool, command)
    await connection.execute(command)


async def _roll_back(pool: AsyncReads, connection: psycopg.AsyncConnection[Any]) -> None:
    """End a transaction that failed or is given up; a connection that cannot is left for the pool to drop."""
    if connection.closed or connection.broken:
        return
    if connection.info.transaction_status is TransactionStatus.IDLE:
        return
    with contextlib.suppress(psycopg.Error):  # not idle after this: the caller's ``lost`` closes it
        await _end(pool, connection, "ROLLBACK")


def _observe(pool: AsyncReads, *statements: str) -> None:
    for observe in pool.observers:
        for statement in statements:
            observe(statement)
