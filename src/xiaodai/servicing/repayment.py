"""A repayment, the hot path of servicing (shell): ``repay`` for staff, the CLI, debits and approvals, and
with ``borrower_id`` and ``within_payoff`` for a borrower's own payment (``journey.repay``).

What it asks the database, on PostgreSQL, for a new idempotency key: one statement that locks the loan
(the borrower's only, when ``borrower_id`` is given), claims the key for it and locks and reads the loan's
active instalments, and one that writes the journal, the changed rows and the stored result
(``loans.save``) — plus BEGIN and COMMIT: four round trips. A retry: the same first statement (which
claims nothing; the instalments it locked are released at the end of the transaction) and the stored
result. Elsewhere (SQLite) the first statement is three: the loan, the claim, the instalments. On
PostgreSQL the statements go straight to the driver (``db.driver.fetch_rows``: SQLAlchemy's per-statement
machinery cost more client CPU than the statements), on the session's connection, taken once per payment.
The API's hot path on PostgreSQL runs the same two statements with no session at all (``api.loop_repay``:
``pg_lock_and_claim`` and ``pg_locked``, ``rows_to_book``, then ``service.book_repayment`` and
``loans.pg_save``), so the rules of a payment live here once.

Order of locks: the loan row first, then the key (the claim waits for a concurrent request holding the
same key), then the instalments. Every payment on a loan takes the loan first, so two cannot deadlock
on it; a request that holds a loan and waits for a key holds nothing the key's holder waits for. In the
one PostgreSQL statement the order is the same: the first branch of its ``UNION ALL`` (the loan, locked,
and the claim) runs before the second (the instalments, which name the locked loan's id), and the
instalments of a loan that is not found (or not the borrower's) are not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Connection, Integer, bindparam, column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from xiaodai.db.driver import DriverStatement, fetch_rows
from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.servicing.commands import (
    CLAIM_ITEM,
    Result,
    check_key,
    claim,
    claim_params,
    fingerprint,
    replay,
    result_with_last_entry,
    run_claimed,
)
from xiaodai.servicing.errors import LoanNotFoundError, ServicingError
from xiaodai.servicing.lifecycle import LoanState, is_open
from xiaodai.servicing.loans import (
    INSTALLMENT_FIELDS,
    LOAN_FIELDS,
    Installment,
    Loan,
    installment_records,
    period_views,
    save,
)
from xiaodai.servicing.payoff import prepayment
from xiaodai.servicing.prepayment import payoff_quote
from xiaodai.servicing.service import _check_date, book_repayment

COMMAND = "repay"


class PayoffExceededError(ServicingError):
    """``within_payoff``: the amount is more than what settles the loan today (``payoff_fen``: that)."""

    def __init__(self, payoff_fen: int) -> None:
        super().__init__(f"the amount is more than the {payoff_fen} fen that settles this loan today")
        self.payoff_fen = payoff_fen


_LOANS = LoanRow.__table__.c
_INSTALLMENTS = InstallmentRow.__table__.c
_LOAN_COLUMNS = ", ".join(LOAN_FIELDS)
_OWNED = " AND borrower_id = :borrower_id"


_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


def _nulls(columns: list[Any], prefix: str | None = None) -> str:
    """Typed NULLs standing in for ``columns`` in the other branch of a ``UNION ALL`` (named ``prefix`` and
    the column's name when given: the first branch names the union's columns)."""
    return ", ".join(
        f"NULL::{c.type.compile(dialect=_POSTGRESQL)}" + ("" if prefix is None else f" AS {prefix}{c.name}")
        for c in columns
    )


def _lock_claim_and_read(owned: bool) -> DriverStatement:
    """PostgreSQL: lock the loan and claim the key for it (first branch: one row, the loan's columns and
    ``claimed``), then lock and read its active instalments (second branch: one row each, in period order;
    see the module docstring)."""
    loans = [_LOANS[name] for name in LOAN_FIELDS]
    installments = [_INSTALLMENTS[name] for name in INSTALLMENT_FIELDS]
    sql = (
        f"WITH loan AS (SELECT {_LOAN_COLUMNS} FROM loans WHERE id = :loan_id{_OWNED if owned else ''}"
        f" FOR UPDATE), {CLAIM_ITEM.format(source='loan')},"
        f" installment AS (SELECT {', '.join(INSTALLMENT_FIELDS)}, schedule_version FROM installments"
        " WHERE loan_id = (SELECT id FROM loan) AND active ORDER BY period, schedule_version FOR UPDATE)"
        f" SELECT 0 AS part, {_LOAN_COLUMNS}, EXISTS (SELECT FROM claim) AS claimed,"
        f" {_nulls(installments, 'i_')},"
        f" NULL::integer AS i_schedule_version FROM loan UNION ALL SELECT 1, {_nulls(loans)}, NULL::boolean,"
        f" {', '.join(INSTALLMENT_FIELDS)}, schedule_version FROM installment"
        # the loan's row first, then the instalments in the order ``installment_records`` gives them
        f" ORDER BY part, i_period, i_schedule_version"
    )
    return DriverStatement(
        text(sql).columns(
            column("part", Integer),
            *loans,
            column("claimed", Boolean),
            *(column(f"i_{c.name}", c.type) for c in installments),
            column("i_schedule_version", Integer),
        )
    )


# PostgreSQL, per ``borrower_id`` given or not: the loan locked, the key claimed, the instalments read
_PG_LOCK_AND_CLAIM: dict[bool, DriverStatement] = {
    owned: _lock_claim_and_read(owned) for owned in (False, True)
}
_LOAN_SIZE = len(LOAN_FIELDS)
# Elsewhere: the loan (SQLite takes the database's write lock at BEGIN), then ``commands.run_once``'s claim.
_LOAN: dict[bool, Any] = {
    owned: select(*(_LOANS[name] for name in LOAN_FIELDS)).where(
        _LOANS.id == bindparam("loan_id"),
        *([_LOANS.borrower_id == bindparam("borrower_id")] if owned else []),
    )
    for owned in (False, True)
}


def _lock_and_claim(
    session: Session, connection: Connection, *, loan_id: int, borrower_id: int | None, key: str, print_: str
) -> tuple[Loan, bool, list[Installment] | None]:
    """The loan as a locked :class:`Loan` record, whether this transaction claimed ``key`` for it (False: a
    retry) and, on PostgreSQL, its active instalments, locked (None elsewhere: read them with
    ``installment_records``). No such loan (or not the borrower's): ``LoanNotFoundError``, and nothing
    claimed. ``connection``: the session's."""
    owned = borrower_id is not None
    if connection.dialect.name == "postgresql":
        statement, claiming = pg_lock_and_claim(
            loan_id=loan_id, borrower_id=borrower_id, key=key, print_=print_
        )
        return pg_locked(fetch_rows(connection, statement, claiming), loan_id)  # the driver's: hot
    params: dict[str, Any] = {"loan_id": loan_id, **({"borrower_id": borrower_id} if owned else {})}
    row = connection.execute(_LOAN[owned], params).first()
    if row is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    values = tuple(row)
    claimed = claim(session, key=key, command=COMMAND, fingerprint=print_)
    loan = Loan(*values)
    loan.loaded = values
    return loan, bool(claimed), None


def pg_lock_and_claim(
    *, loan_id: int, borrower_id: int | None, key: str, print_: str
) -> tuple[DriverStatement, dict[str, Any]]:
    """PostgreSQL: the first statement of a repayment (the loan locked, the key claimed, the instalments
    locked and read; see the module docstring) and its parameters; ``pg_locked`` reads its rows."""
    owned = borrower_id is not None
    params: dict[str, Any] = {"loan_id": loan_id, **({"borrower_id": borrower_id} if owned else {})}
    params.update(claim_params(key=key, command=COMMAND, fingerprint=print_))
    return _PG_LOCK_AND_CLAIM[owned], params


def pg_locked(found: list[tuple[Any, ...]], loan_id: int) -> tuple[Loan, bool, list[Installment]]:
    """The rows of ``pg_lock_and_claim``'s statement as the locked loan record, whether the key was claimed
    and the loan's active instalments; no loan (or not the borrower's): ``LoanNotFoundError``."""
    if not found or found[0][0] != 0:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    first = found[0]
    values, claimed = first[1 : 1 + _LOAN_SIZE], first[1 + _LOAN_SIZE]
    rows = []
    for found_row in found[1:]:
        installment = found_row[2 + _LOAN_SIZE : -1]
        record = Installment(*installment)
        record.loaded = installment
        rows.append(record)
    loan = Loan(*values)
    loan.loaded = tuple(values)
    return loan, bool(claimed), rows


def request_print(*, loan_id: int, amount_fen: int, on: date, dated_by_platform: bool) -> str:
    """The repayment's request fingerprint (a retry of the key must be the same request); a positive amount
    only."""
    if amount_fen <= 0:
        raise ServicingError("a repayment must be a positive amount")
    request = {
        "loan_id": loan_id,
        "amount_fen": amount_fen,
        **({} if dated_by_platform else {"on": on.isoformat()}),
    }
    return fingerprint(COMMAND, request)


def rows_to_book(
    loan: Loan, read: list[Installment], *, amount_fen: int, on: date, within_payoff: bool
) -> tuple[list[Installment], bool]:
    """The instalment records a repayment books on (none for a written-off loan), and whether the amount is
    exactly what settles the loan (``within_payoff``: then ``payoff.prepayment`` settles it; more than that
    is refused with ``PayoffExceededError``)."""
    state = LoanState(loan.state)
    rows = [] if state is LoanState.WRITTEN_OFF else read
    if within_payoff and state in (LoanState.ACTIVE, LoanState.OVERDUE, LoanState.SETTLED):
        ceiling = payoff_fen(loan, rows, on)
        if amount_fen > ceiling:
            raise PayoffExceededError(ceiling)
        return rows, amount_fen == ceiling  # exactly the payoff: settled, not left open with a credit
    return rows, False


def payoff_fen(loan: Loan, rows: list[Installment], on: date) -> int:
    """What settles the loan on ``on``, from its records (``payoff.prepay_quote``'s figure: instalments due
    by ``on`` count as billed; nothing is posted); 0 when the loan is not open."""
    if not is_open(LoanState(loan.state)):
        return 0
    _check_date(loan, on)
    # instalments due by ``on`` count as billed (a copy only of those not billed yet)
    views = [v if v.billed or v.due_on > on else replace(v, billed=True) for v in period_views(rows)]
    quote = payoff_quote(
        views, on=on, penalties_fen=loan.penalties_outstanding_fen, overpayment_fen=loan.overpayment_fen
    )
    return quote.total_fen


def repay(
    session: Session,
    *,
    loan_id: int,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    dated_by_platform: bool = False,
    borrower_id: int | None = None,
    within_payoff: bool = False,
    collect: Callable[[], object] | None = None,
) -> Result:
    """Post a repayment booked on ``on``. ``dated_by_platform``: ``on`` is the platform's business date, not
    part of the client's request, so a retry of the same key on a later business date replays the first
    answer instead of being refused as a different request.

    A borrower's own payment: ``borrower_id`` (another borrower's loan is not found, and nothing is
    claimed), ``within_payoff`` (on a loan that is active, overdue or settled, more than the payoff is
    refused with ``PayoffExceededError`` and exactly the payoff settles the loan, ``payoff.prepayment``)
    and ``collect`` (called once the payment is accepted, before it is booked: the payment rail). A retry
    replays the first answer without any of these checks."""
    print_ = request_print(loan_id=loan_id, amount_fen=amount_fen, on=on, dated_by_platform=dated_by_platform)
    check_key(idempotency_key)
    session.flush()  # the records must see what the session holds (returns at once when nothing is pending)
    connection = session.connection()  # once: the statements below go to it
    postgres = connection.dialect.name == "postgresql"
    loan, claimed, read = _lock_and_claim(
        session, connection, loan_id=loan_id, borrower_id=borrower_id, key=idempotency_key, print_=print_
    )
    if not claimed:
        return replay(session, key=idempotency_key, command=COMMAND, fingerprint=print_)

    def action() -> Result:
        if read is not None or LoanState(loan.state) is LoanState.WRITTEN_OFF:
            found = read or []
        else:
            found = installment_records(connection, loan.id)
        rows, settles = rows_to_book(loan, found, amount_fen=amount_fen, on=on, within_payoff=within_payoff)
        if settles:
            if collect is not None:
                collect()
            return prepayment(session, loan_id=loan.id, on=on, key=idempotency_key)
        if collect is not None:
            collect()
        journal, result = book_repayment(
            session, loan, rows, amount_fen=amount_fen, on=on, key=f"repay:{idempotency_key}"
        )
        # on PostgreSQL the command's result is written by the journal's statement (one round trip fewer)
        item = result_with_last_entry(session, idempotency_key, result) if postgres else None
        result["entry_id"] = save(session, loan, rows, journal, with_item=item, connection=connection)[-1]
        return result

    return run_claimed(session, key=idempotency_key, action=action)
