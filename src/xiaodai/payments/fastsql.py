"""The debit batch's columnar path inside PostgreSQL: ``payments.fastpath``'s case and rules, computed and
written by SQL from the chunk's staged debits, so that the common debit costs no Python object, no frame
and no transfer of its loan, instalment, journal rows or postings.

Same case (a loan that is ``active``, holds no penalty and no overpayment, takes one debit in the chunk, for
an instalment due *today*, attempt's day today, owing nothing else billed or due), same allocation, same
journal: ONE billing entry ``bill:debits:<date>:<first attempt id>`` for the chunk's instalments billed now
(a receivable posting per loan, one income posting per account), one ``repayment`` entry
``repay:<channel_ref>`` per debit with ``fastpath``'s memo and legs. ``fastpath`` stays the kernel on
SQLite; the equivalence test runs both against the per-row reference.

``book_in_sql`` is called with the loans already locked (``FOR UPDATE``, in id order). It leaves a temporary
table ``batch_fast`` (one row per debit it booked: ``attempt_id``, ``entry_id``) for the attempts' update,
and writes the repayment entries, their postings, the billing entry, loans and instalments (the instalments
guarded on ``billed``, as ``write_chunk`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, Date, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from xiaodai.ledger.chart import Account
from xiaodai.metrics import PAYMENTS_POSTED, count_on_commit
from xiaodai.payments.bulk_sql import ChunkConflictError, stage
from xiaodai.payments.fastpath import ORDERS, first_bucket
from xiaodai.servicing.allocation import AllocationOrder

MOVED_SCHEMA = {
    "attempt_id": pl.Int64,
    "channel_ref": pl.String,
    "loan_id": pl.Int64,
    "installment_id": pl.Int64,
    "amount_fen": pl.Int64,
    "on_date": pl.Date,
}

_UNPAID = (
    "(o.principal_fen + o.interest_fen + o.fee_fen - o.paid_principal_fen - o.paid_interest_fen"
    " - o.paid_fee_fen)"
)

# the eligible debits and what they book (the steps of ``fastpath.book_fast``, one query). What the loan's
# other instalments owe is a LATERAL aggregate per debit (an index range of the loan's instalments, no sort
# or hash of the chunk's instalments); the entry ids are drawn from the sequence found once (an InitPlan),
# not by ``pg_get_serial_sequence`` per row (a catalogue lookup each: ~40 % of the statement's CPU).
_FAST = f"""
CREATE TEMP TABLE batch_fast ON COMMIT DROP AS
WITH per_loan AS (
    SELECT loan_id, count(*) AS debits FROM batch_moved GROUP BY loan_id
), base AS (
    SELECT m.attempt_id, m.channel_ref, m.loan_id, m.installment_id, m.amount_fen,
           l.buckets, l.principal_outstanding_fen, l.interest_outstanding_fen, l.fees_outstanding_fen,
           l.paid_total_fen, l.version,
           i.period, i.principal_fen, i.interest_fen, i.fee_fen, i.billed,
           i.paid_principal_fen, i.paid_interest_fen, i.paid_fee_fen,
           o.other_unpaid,
           l.allocation_order = :interest_first AS interest_first,
           NOT i.billed AS bill,
           i.principal_fen - i.paid_principal_fen AS d_principal,
           i.interest_fen - i.paid_interest_fen AS d_interest,
           i.fee_fen - i.paid_fee_fen AS d_fee
    FROM batch_moved m
    JOIN per_loan p ON p.loan_id = m.loan_id AND p.debits = 1
    JOIN loans l ON l.id = m.loan_id
    JOIN installments i ON i.id = m.installment_id AND i.active AND i.loan_id = m.loan_id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE (o.billed OR o.due_on <= :on) AND ({_UNPAID} > 0 OR NOT o.billed))
                   AS other_dues,
               count(*) FILTER (WHERE {_UNPAID} > 0) AS other_unpaid
        FROM installments o
        WHERE o.loan_id = m.loan_id AND o.active AND o.id <> m.installment_id
    ) o
    WHERE l.state = 'active' AND l.penalties_outstanding_fen = 0 AND l.overpayment_fen = 0
      AND l.disbursed_on IS NOT NULL AND l.disbursed_on <= :on
      AND i.due_on = :on AND m.on_date = :on AND o.other_dues = 0
      AND l.allocation_order = ANY(:orders)
), one AS (
    SELECT b.*, least(b.amount_fen,
                      CASE WHEN b.interest_first THEN b.d_interest ELSE b.d_fee END) AS t1
    FROM base b
), two AS (
    SELECT o.*, least(o.amount_fen - o.t1,
                      CASE WHEN o.interest_first THEN o.d_fee ELSE o.d_interest END) AS t2
    FROM one o
), three AS (
    SELECT t.*, least(t.amount_fen - t.t1 - t.t2, t.d_principal) AS t3 FROM two t
), takes AS (
    SELECT t.*, t.amount_fen - t.t1 - t.t2 - t.t3 AS remainder,
           CASE WHEN t.interest_first THEN 'interest' ELSE 'fee' END AS c1,
           CASE WHEN t.interest_first THEN 'fee' ELSE 'interest' END AS c2,
           CASE WHEN t.interest_first THEN t.t2 ELSE t.t1 END AS take_fee,
           CASE WHEN t.interest_first THEN t.t1 ELSE t.t2 END AS take_interest,
           t.t3 AS take_principal
    FROM three t
), after AS (
    SELECT k.*,
           k.paid_principal_fen + k.take_principal AS pp,
           k.paid_interest_fen + k.take_interest AS pi,
           k.paid_fee_fen + k.take_fee AS pf,
           k.principal_outstanding_fen - k.take_principal AS new_principal,
           k.interest_outstanding_fen + CASE WHEN k.bill THEN k.interest_fen ELSE 0 END - k.take_interest
               AS new_interest,
           k.fees_outstanding_fen + CASE WHEN k.bill THEN k.fee_fen ELSE 0 END - k.take_fee AS new_fees
    FROM takes k
)
SELECT a.*,
       nextval((SELECT CAST(pg_get_serial_sequence('journal_entries', 'id') AS REGCLASS))) AS entry_id,
       (a.pp = a.principal_fen AND a.pi = a.interest_fen AND a.pf = a.fee_fen) AS paid_up,
       (a.new_principal + a.new_interest + a.new_fees = 0
        AND a.pp = a.principal_fen AND a.pi = a.interest_fen AND a.pf = a.fee_fen
        AND a.other_unpaid = 0) AS settled
FROM after a
"""

_ITEM = "CASE WHEN f.{take} > 0 THEN '[' || f.period || ', \"' || {comp} || '\", ' || f.{take} || ']' END"
_MEMO = (
    "'{\"allocations\": [' || concat_ws(', ', "
    + ", ".join(
        _ITEM.format(take=take, comp=comp)
        for take, comp in (("t1", "f.c1"), ("t2", "f.c2"), ("t3", "'principal'"))
    )
    + ") || '], \"overpayment\": ' || f.remainder || '}'"
)
_RECEIVABLE = (
    f"CASE {{c}} WHEN 'interest' THEN '{Account.LOAN_INTEREST.value}'"
    f" WHEN 'fee' THEN '{Account.LOAN_FEES.value}' END"
)

_ENTRIES = f"""
INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
SELECT f.entry_id, :on, 'repayment', 'repay:' || f.channel_ref, f.loan_id, {_MEMO}
FROM batch_fast f ORDER BY f.entry_id
"""

_POSTINGS = f"""
INSERT INTO postings (entry_id, account, loan_id, amount_fen)
SELECT f.entry_id, v.account, f.loan_id, v.amount_fen
FROM batch_fast f CROSS JOIN LATERAL (VALUES
    (0, '{Account.CASH.value}', f.amount_fen),
    (1, {_RECEIVABLE.format(c="f.c1")}, -f.t1),
    (2, {_RECEIVABLE.format(c="f.c2")}, -f.t2),
    (3, '{Account.LOAN_PRINCIPAL.value}', -f.t3),
    (4, '{Account.OVERPAYMENT.value}', -f.remainder)
) AS v(leg, account, amount_fen)
WHERE v.amount_fen <> 0
ORDER BY f.entry_id, v.leg
"""

# the chunk's billing in one entry, as end of day bills (no entry when nothing is billed)
_BILLING = f"""
WITH b AS (
    SELECT * FROM batch_fast WHERE bill AND (interest_fen <> 0 OR fee_fen <> 0)
), e AS (
    INSERT INTO journal_entries (business_date, event, idempotency_key, loan_id, memo)
    SELECT :on, 'billing', 'bill:debits:' || :day || ':' || min(attempt_id), NULL,
           '{{"loans": ' || count(*) || ', "detail": "postings.loan_id"}}'
    FROM b HAVING count(*) > 0
    RETURNING id
)
INSERT INTO postings (entry_id, account, loan_id, amount_fen)
SELECT e.id, x.account, x.loan_id, x.amount_fen
FROM e, (
    SELECT b.loan_id, v.leg, v.account, v.amount_fen
    FROM b CROSS JOIN LATERAL (VALUES
        (0, '{Account.LOAN_INTEREST.value}', b.interest_fen),
        (1, '{Account.LOAN_FEES.value}', b.fee_fen)
    ) AS v(leg, account, amount_fen)
    UNION ALL
    SELECT NULL, 2, '{Account.INTEREST_INCOME.value}', -sum(b.interest_fen) FROM b
    UNION ALL
    SELECT NULL, 3, '{Account.FEE_INCOME.value}', -sum(b.fee_fen) FROM b
) AS x
WHERE x.amount_fen <> 0
ORDER BY x.leg >= 2, x.loan_id, x.leg
"""

_LOANS = """
UPDATE loans SET
    state = CASE WHEN f.settled THEN 'settled' ELSE 'active' END,
    principal_outstanding_fen = f.new_principal,
    interest_outstanding_fen = f.new_interest,
    fees_outstanding_fen = f.new_fees,
    overpayment_fen = loans.overpayment_fen + f.remainder,
    paid_total_fen = loans.paid_total_fen + f.amount_fen,
    dpd = 0,
    bucket = b.first,
    closed_on = CASE WHEN f.settled THEN CAST(:on AS DATE) END,
    version = loans.version + 1
FROM batch_fast f JOIN unnest(CAST(:specs AS VARCHAR[]), CAST(:firsts AS VARCHAR[])) AS b(spec, first)
    ON b.spec = f.buckets
WHERE loans.id = f.loan_id
"""

_INSTALLMENTS = """
UPDATE installments SET
    billed = TRUE,
    paid_principal_fen = f.pp,
    paid_interest_fen = f.pi,
    paid_fee_fen = f.pf,
    paid_on = CASE WHEN f.paid_up THEN CAST(:on AS DATE) END
FROM batch_fast f
WHERE installments.id = f.installment_id AND installments.billed = f.billed
"""


@dataclass(frozen=True, slots=True)
class SqlBooked:
    others: set[int]  # attempt ids of the staged debits this path did not book (left to book_repayment)
    booked: int
    posted_fen: int


def book_in_sql(connection: Connection, moved: pl.DataFrame, on: date) -> SqlBooked:
    """Book the eligible debits of ``moved`` (``MOVED_SCHEMA``: one row per debit that moved money) in
    PostgreSQL; see the module docstring. Raises ``ChunkConflictError`` when an instalment's
    ``billed`` changed since it was read (nothing of the chunk may then commit)."""
    dated = {"on": on}
    stage(connection, "batch_moved", moved)
    connection.execute(
        text(_FAST).bindparams(bindparam("on", type_=Date), bindparam("orders", type_=ARRAY(String()))),
        {
            **dated,
            "interest_first": AllocationOrder.INTEREST_FIRST.value,
            "orders": list(ORDERS),
        },
    )
    booked, posted, negative = connection.execute(
        text(
            "SELECT count(*), coalesce(sum(amount_fen), 0),"
            " count(*) FILTER (WHERE least(t1, t2, t3, remainder) < 0) FROM batch_fast"
        )
    ).one()
    if negative:  # each repayment entry nets to zero by construction (cash = t1 + t2 + t3 + remainder);
        # a negative part would be a broken instalment or loan row, never something to post
        raise RuntimeError(f"{negative} debits allocate a negative amount")
    others = set(
        connection.execute(
            text(
                "SELECT m.attempt_id FROM batch_moved m"
                " WHERE NOT EXISTS (SELECT 1 FROM batch_fast f WHERE f.attempt_id = m.attempt_id)"
            )
        ).scalars()
    )
    if booked:
        specs = list(connection.execute(text("SELECT DISTINCT buckets FROM batch_fast")).scalars())
        day = on.isoformat()
        date_param = bindparam("on", type_=Date)
        connection.execute(text(_ENTRIES).bindparams(date_param), dated)
        connection.execute(text(_POSTINGS))
        connection.execute(text(_BILLING).bindparams(bindparam("on", type_=Date)), {**dated, "day": day})
        count_on_commit(connection, PAYMENTS_POSTED.labels(kind="repayment"), booked)
        done = connection.execute(
            text(_LOANS).bindparams(bindparam("on", type_=Date)),
            {**dated, "specs": specs, "firsts": [first_bucket(s) for s in specs]},
        ).rowcount
        if done != booked:
            raise RuntimeError(f"{done} loans updated of {booked}")
        done = connection.execute(text(_INSTALLMENTS).bindparams(bindparam("on", type_=Date)), dated).rowcount
        if done != booked:
            raise ChunkConflictError(f"{booked - done} instalments changed under the batch")
    return SqlBooked(others=others, booked=int(booked), posted_fen=int(posted))
