"""The debit batch's columnar path (polars): the common case of a debit booked without a Python object per
loan, with exactly the servicing rules' result for that case.

The case: a loan that is ``active``, holds no penalty and no overpayment, takes one debit in the chunk,
for an instalment due *today* (attempt 0), and owes nothing else that is billed or due (every other
instalment billed or due by today is paid). For it, ``servicing.book_repayment`` does:

- bill the instalment if end of day has not (its interest and fee become receivable; no overpayment to
  apply). ``book_repayment`` writes an entry ``bill:<loan>:<instalment>`` per instalment; here the chunk's
  billing is ONE entry ``bill:debits:<date>:<first attempt id>`` (no loan; memo ``{"loans": n, …}``) with a
  receivable posting per loan and one income posting per account for the total — the shape end of day
  bills in (``servicing.eod._post_day_entry``): each loan's balances stay derivable from
  ``postings.loan_id``, and a 1,000,000-debit day writes 750,000 fewer journal rows and postings;
- allocate the amount to the instalment's unpaid fee, interest and principal — all current, so in the
  order fee → interest → principal for ``overdue-first`` and ``penalty-fee-interest-principal``, interest
  → fee → principal for ``interest-first`` — and the rest to the overpayment account;
- one ``repayment`` entry ``repay:<channel_ref>`` (cash; receivables in allocation order; overpayment),
  memo ``{"allocations": [[period, component, fen], …], "overpayment": fen}``;
- DPD 0, the first bucket, ``settled`` (closed today) when nothing at all is owed any more, else
  ``active``; version + 1; the instalment's paid columns, ``paid_on`` today when fully paid.

On PostgreSQL the same case is booked by ``payments.fastsql`` in SQL; this kernel books it on SQLite.
Every other debit goes through ``book_repayment`` itself (``payments.debit_book.allocate_chunk``). The
equivalence test runs books where both paths are taken against the per-row reference (identical loans,
instalments, attempts, repayment entries and per-loan receivable balances; billing compared by totals).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import polars as pl
from sqlalchemy import Connection, text

from xiaodai.ledger.chart import Account
from xiaodai.payments.bulk_sql import ENTRY_SCHEMA, POSTING_SCHEMA
from xiaodai.servicing.allocation import AllocationOrder
from xiaodai.servicing.delinquency import parse_buckets

LOAN_COLUMNS = {
    "id": pl.Int64,
    "state": pl.String,
    "allocation_order": pl.String,
    "buckets": pl.String,
    "principal_outstanding_fen": pl.Int64,
    "interest_outstanding_fen": pl.Int64,
    "fees_outstanding_fen": pl.Int64,
    "penalties_outstanding_fen": pl.Int64,
    "overpayment_fen": pl.Int64,
    "paid_total_fen": pl.Int64,
    "disbursed_on": pl.Date,
    "version": pl.Int64,
}
INSTALLMENT_COLUMNS = {
    "id": pl.Int64,
    "loan_id": pl.Int64,
    "period": pl.Int64,
    "due_on": pl.Date,
    "principal_fen": pl.Int64,
    "interest_fen": pl.Int64,
    "fee_fen": pl.Int64,
    "billed": pl.Boolean,
    "paid_principal_fen": pl.Int64,
    "paid_interest_fen": pl.Int64,
    "paid_fee_fen": pl.Int64,
}


def read_frame(
    connection: Connection, sql: str, schema: dict[str, Any], params: dict[str, Any]
) -> pl.DataFrame:
    """A query's rows as a frame: ``COPY (…) TO STDOUT`` on PostgreSQL (``params`` inlined: integers
    only), rows elsewhere. Dates and booleans are normalised from either database's text."""
    as_text = {k: (pl.String if v in (pl.Date, pl.Boolean) else v) for k, v in schema.items()}
    if connection.dialect.name == "postgresql":
        query = sql
        for name, value in params.items():
            if not isinstance(value, int):
                raise TypeError("only integer parameters are inlined into COPY")
            query = query.replace(f":{name}", str(value))
        raw = connection.connection.driver_connection
        assert raw is not None
        buffer = io.BytesIO()
        with raw.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
        if buffer.tell():
            buffer.seek(0)
            frame = pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema_overrides=as_text)
        else:
            frame = pl.DataFrame(schema=as_text)
    else:
        rows = [tuple(r) for r in connection.execute(text(sql), params).all()]
        frame = pl.DataFrame(
            [
                tuple(
                    None if v is None else (str(v) if as_text[k] is pl.String else v)
                    for k, v in zip(schema, r, strict=True)
                )
                for r in rows
            ],
            schema=as_text,
            orient="row",
        )
    casts = []
    for name, kind in schema.items():
        if kind is pl.Date:
            casts.append(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d"))
        elif kind is pl.Boolean:
            casts.append(pl.col(name).is_in(["t", "1", "true", "True"]))
    return frame.with_columns(casts) if casts else frame


@dataclass(slots=True)
class FastBooked:
    attempt_ids: set[int]
    entries: (
        pl.DataFrame
    )  # seq, business_date, event, idempotency_key, loan_id, memo, attempt_id (null: billing)
    postings: pl.DataFrame  # seq, leg, account, loan_id, amount_fen
    loans: pl.DataFrame  # id + debit_book.LOAN_WRITTEN
    installments: pl.DataFrame  # id, was_billed + debit_book.INSTALLMENT_WRITTEN


def first_bucket(spec: str) -> str:
    return parse_buckets(spec)[0].name


ORDERS = {
    AllocationOrder.OVERDUE_FIRST.value: ("fee", "interest", "principal"),
    AllocationOrder.PENALTY_FEE_INTEREST_PRINCIPAL.value: ("fee", "interest", "principal"),
    AllocationOrder.INTEREST_FIRST.value: ("interest", "fee", "principal"),
}
_RECEIVABLE = {
    "principal": Account.LOAN_PRINCIPAL.value,
    "interest": Account.LOAN_INTEREST.value,
    "fee": Account.LOAN_FEES.value,
}


def book_fast(moved: pl.DataFrame, loans: pl.DataFrame, rows: pl.DataFrame, on: date) -> FastBooked:
    """``moved``: attempt_id, channel_ref, loan_id, installment_id, amount_fen, on (one row per debit that
    moved money); ``loans`` and ``rows`` (active instalments) of those loans. Returns what the eligible
    debits book (``attempt_ids``); the others are left to ``book_repayment``."""
    per_loan = moved.group_by("loan_id").len("debits")
    target = rows.join(moved.select("installment_id", "attempt_id"), left_on="id", right_on="installment_id")
    unpaid = (
        pl.col("principal_fen")
        + pl.col("interest_fen")
        + pl.col("fee_fen")
        - pl.col("paid_principal_fen")
        - pl.col("paid_interest_fen")
        - pl.col("paid_fee_fen")
    )
    others = (
        rows.join(moved.select("installment_id"), left_on="id", right_on="installment_id", how="anti")
        .group_by("loan_id")
        .agg(
            other_dues=(
                (pl.col("billed") | (pl.col("due_on") <= on)) & ((unpaid > 0) | ~pl.col("billed"))
            ).sum(),
            other_unpaid=(unpaid > 0).sum(),
        )
    )
    known_orders = list(ORDERS)
    frame = (
        moved.join(per_loan, on="loan_id")
        .join(loans.rename({"id": "loan_id"}), on="loan_id")
        .join(
            target.drop("attempt_id").rename({"id": "installment_id", "loan_id": "i_loan"}),
            on="installment_id",
        )
        .join(others, on="loan_id", how="left")
        .with_columns(pl.col("other_dues").fill_null(0), pl.col("other_unpaid").fill_null(0))
        .filter(
            (pl.col("debits") == 1)
            & (pl.col("i_loan") == pl.col("loan_id"))
            & (pl.col("state") == "active")
            & (pl.col("penalties_outstanding_fen") == 0)
            & (pl.col("overpayment_fen") == 0)
            & pl.col("disbursed_on").is_not_null()
            & (pl.col("disbursed_on") <= on)
            & (pl.col("due_on") == on)
            & (pl.col("on") == on)
            & (pl.col("other_dues") == 0)
            & pl.col("allocation_order").is_in(known_orders)
        )
    )
    bill = ~pl.col("billed")
    frame = frame.with_columns(
        bill=bill,
        interest_o=pl.col("interest_outstanding_fen")
        + pl.when(bill).then(pl.col("interest_fen")).otherwise(0),
        fees_o=pl.col("fees_outstanding_fen") + pl.when(bill).then(pl.col("fee_fen")).otherwise(0),
        d_principal=pl.col("principal_fen") - pl.col("paid_principal_fen"),
        d_interest=pl.col("interest_fen") - pl.col("paid_interest_fen"),
        d_fee=pl.col("fee_fen") - pl.col("paid_fee_fen"),
        interest_first=pl.col("allocation_order") == AllocationOrder.INTEREST_FIRST.value,
    )
    # slot 1, 2, 3 of the allocation order: (fee, interest, principal) or (interest, fee, principal)
    first = pl.when(pl.col("interest_first")).then(pl.col("d_interest")).otherwise(pl.col("d_fee"))
    second = pl.when(pl.col("interest_first")).then(pl.col("d_fee")).otherwise(pl.col("d_interest"))
    frame = frame.with_columns(t1=pl.min_horizontal(pl.col("amount_fen"), first))
    frame = frame.with_columns(t2=pl.min_horizontal(pl.col("amount_fen") - pl.col("t1"), second))
    frame = frame.with_columns(
        t3=pl.min_horizontal(pl.col("amount_fen") - pl.col("t1") - pl.col("t2"), pl.col("d_principal"))
    )
    frame = frame.with_columns(
        remainder=pl.col("amount_fen") - pl.col("t1") - pl.col("t2") - pl.col("t3"),
        c1=pl.when(pl.col("interest_first")).then(pl.lit("interest")).otherwise(pl.lit("fee")),
        c2=pl.when(pl.col("interest_first")).then(pl.lit("fee")).otherwise(pl.lit("interest")),
        c3=pl.lit("principal"),
    )
    frame = frame.with_columns(
        take_fee=pl.when(pl.col("interest_first")).then(pl.col("t2")).otherwise(pl.col("t1")),
        take_interest=pl.when(pl.col("interest_first")).then(pl.col("t1")).otherwise(pl.col("t2")),
        take_principal=pl.col("t3"),
    )
    # after: the instalment and the loan
    frame = frame.with_columns(
        pp=pl.col("paid_principal_fen") + pl.col("take_principal"),
        pi=pl.col("paid_interest_fen") + pl.col("take_interest"),
        pf=pl.col("paid_fee_fen") + pl.col("take_fee"),
        new_principal=pl.col("principal_outstanding_fen") - pl.col("take_principal"),
        new_interest=pl.col("interest_o") - pl.col("take_interest"),
        new_fees=pl.col("fees_o") - pl.col("take_fee"),
    )
    paid_up = (
        (pl.col("pp") == pl.col("principal_fen"))
        & (pl.col("pi") == pl.col("interest_fen"))
        & (pl.col("pf") == pl.col("fee_fen"))
    )
    settled = (
        (pl.col("new_principal") + pl.col("new_interest") + pl.col("new_fees") == 0)
        & paid_up
        & (pl.col("other_unpaid") == 0)
    )
    buckets = {spec: first_bucket(spec) for spec in frame["buckets"].unique().to_list()}
    frame = frame.with_columns(
        paid_up=paid_up,
        settled=settled,
        first_bucket=pl.col("buckets").replace_strict(buckets, return_dtype=pl.String),
    ).sort("loan_id")
    # journal: ONE billing entry for the chunk's instalments billed now (as end of day bills: a receivable
    # posting per loan, one income posting per account for the total), a repayment entry per debit
    n = frame.height
    frame = frame.with_row_index("k").with_columns(pl.col("k").cast(pl.Int64))
    billing = frame.filter(pl.col("bill") & ((pl.col("interest_fen") != 0) | (pl.col("fee_fen") != 0)))
    first_billed = int(cast(int, billing["attempt_id"].min())) if billing.height else 0
    billing_entries = (
        pl.DataFrame(
            {
                "seq": [0],
                "business_date": [on],
                "event": ["billing"],
                "idempotency_key": [f"bill:debits:{on.isoformat()}:{first_billed}"],
                "loan_id": [None],
                "memo": [json.dumps({"loans": billing.height, "detail": "postings.loan_id"})],
                "attempt_id": [None],
            },
            schema=ENTRY_SCHEMA,
        )
        if billing.height
        else pl.DataFrame(schema=ENTRY_SCHEMA)
    )

    def item(take: str, comp: str) -> pl.Expr:
        return pl.when(pl.col(take) > 0).then(
            pl.format('[{}, "{}", {}]', pl.col("period"), pl.col(comp), pl.col(take))
        )

    memo = pl.concat_str(
        [
            pl.lit('{"allocations": ['),
            pl.concat_str(
                [item("t1", "c1"), item("t2", "c2"), item("t3", "c3")], separator=", ", ignore_nulls=True
            ),
            pl.lit('], "overpayment": '),
            pl.col("remainder").cast(pl.String),
            pl.lit("}"),
        ]
    )
    repayment_entries = frame.select(
        seq=pl.col("k") + 1,
        business_date=pl.lit(on),
        event=pl.lit("repayment"),
        idempotency_key=pl.format("repay:{}", pl.col("channel_ref")),
        loan_id=pl.col("loan_id"),
        memo=memo,
        attempt_id=pl.col("attempt_id"),
    )
    entries = pl.concat([billing_entries, repayment_entries.cast(ENTRY_SCHEMA)]).sort("seq")  # type: ignore[arg-type]
    legs = [
        billing.select(
            seq=pl.lit(0, dtype=pl.Int64),
            leg=pl.col("k") * 2 + offset,
            account=pl.lit(account),
            loan_id="loan_id",
            amount_fen=pl.col(column),
        )
        for offset, (account, column) in enumerate(
            ((Account.LOAN_INTEREST.value, "interest_fen"), (Account.LOAN_FEES.value, "fee_fen"))
        )
    ]
    legs.append(
        pl.DataFrame(
            {
                "seq": [0, 0],
                "leg": [2 * n, 2 * n + 1],
                "account": [Account.INTEREST_INCOME.value, Account.FEE_INCOME.value],
                "loan_id": [None, None],
                "amount_fen": [-int(billing["interest_fen"].sum()), -int(billing["fee_fen"].sum())],
            },
            schema=POSTING_SCHEMA,
        )
    )
    pay_legs: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.lit(Account.CASH.value), pl.col("amount_fen")),
        (pl.col("c1").replace_strict(_RECEIVABLE, return_dtype=pl.String), -pl.col("t1")),
        (pl.col("c2").replace_strict(_RECEIVABLE, return_dtype=pl.String), -pl.col("t2")),
        (pl.lit(Account.LOAN_PRINCIPAL.value), -pl.col("t3")),
        (pl.lit(Account.OVERPAYMENT.value), -pl.col("remainder")),
    ]
    for leg, (account, amount) in enumerate(pay_legs):
        legs.append(
            frame.select(
                seq=pl.col("k") + 1,
                leg=pl.lit(leg),
                account=account,
                loan_id="loan_id",
                amount_fen=amount,
            )
        )
    postings = (
        pl.concat([p.select(pl.col(c).cast(t) for c, t in POSTING_SCHEMA.items()) for p in legs])
        .filter(pl.col("amount_fen") != 0)
        .sort("seq", "leg")
    )
    loans_out = frame.select(
        id=pl.col("loan_id"),
        state=pl.when(pl.col("settled")).then(pl.lit("settled")).otherwise(pl.lit("active")),
        principal_outstanding_fen="new_principal",
        interest_outstanding_fen="new_interest",
        fees_outstanding_fen="new_fees",
        penalties_outstanding_fen="penalties_outstanding_fen",
        overpayment_fen=pl.col("overpayment_fen") + pl.col("remainder"),
        paid_total_fen=pl.col("paid_total_fen") + pl.col("amount_fen"),
        dpd=pl.lit(0, dtype=pl.Int64),
        bucket="first_bucket",
        closed_on=pl.when(pl.col("settled")).then(pl.lit(on)).otherwise(pl.lit(None, dtype=pl.Date)),
        version=pl.col("version") + 1,
    )
    installments_out = frame.select(
        id=pl.col("installment_id"),
        was_billed=pl.col("billed"),
        billed=pl.lit(True),
        paid_principal_fen="pp",
        paid_interest_fen="pi",
        paid_fee_fen="pf",
        paid_on=pl.when(pl.col("paid_up")).then(pl.lit(on)).otherwise(pl.lit(None, dtype=pl.Date)),
    )
    return FastBooked(set(frame["attempt_id"].to_list()), entries, postings, loans_out, installments_out)
