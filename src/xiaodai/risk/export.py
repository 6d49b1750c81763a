"""Database → Parquet: the loans and instalments tables as a loan-month panel, one file per loan-id range.

For every disbursed loan and every month end from its first month after disbursement to ``as_of``:

- dpd = days from the oldest instalment due by the month end and not fully paid by it (``paid_on``
  empty or later) to the month end; bucket M0 (0), M1 (1-30), M2 (31-60), M3 (61-90), M4+ (91+);
- balance_fen = principal − principal of the instalments fully paid by the month end (a part-paid
  instalment still counts as owed: the panel is a month-end view of the schedule, not the journal);
- paid_fen = what was paid on the instalments that became fully paid in that month;
- status: ``closed`` in the month the balance reaches 0 (no later rows), ``defaulted`` from the first
  month end at 91+ DPD (that month carries ``default_flag``), else ``active``.
Each loan's attributes at origination come from its application and that application's decision record
(``applications.loan_id`` → ``applications.decision_id`` → ``decisions``): ``grade`` and ``predicted_pd``
are the decision's grade and PD, ``channel`` is where the application came in (``payload_json``'s
"channel": web or api). A loan without such a record (booked by servicing directly, or decided before the
channel was kept, or an application erased on request) is "unrated" / "unknown" / null.
``region`` is "unknown" for every loan: the borrower's address is kept only as field-level ciphertext for
identity checks (``privacy``), and the export reads no personal data. ``pd_current`` is null (the
database holds no behavioural PD), so staging uses the 30 DPD backstop only. Recoveries are 0.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, String, cast, func, select
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.sql.elements import ColumnElement

from xiaodai.db.tables.journey import ApplicationRow
from xiaodai.db.tables.loans import InstallmentRow, LoanRow
from xiaodai.db.tables.underwriting import DecisionRow

DISBURSED_STATES = ("active", "overdue", "settled", "written-off")
LOAN_SCHEMA: dict[str, Any] = {
    "loan_id": pl.Int64,
    "product": pl.String,
    "term": pl.Int64,
    "annual_rate": pl.String,
    "principal_fen": pl.Int64,
    "disbursed_on": pl.Date,
    "grade": pl.String,
    "predicted_pd": pl.Float64,
    "channel": pl.String,
}
INSTALMENT_SCHEMA: dict[str, Any] = {
    "loan_id": pl.Int64,
    "due_on": pl.Date,
    "principal_fen": pl.Int64,
    "paid_total_fen": pl.Int64,
    "paid_on": pl.Date,
}


def panel_from_rows(loans: pl.DataFrame, installments: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """The pure part: loan and instalment rows (as polars frames) → the loan-month panel."""
    last = as_of.replace(day=1)
    grid = (
        loans.with_columns(
            pl.date_ranges(
                pl.col("disbursed_on").dt.month_start().dt.offset_by("1mo"), pl.lit(last), interval="1mo"
            ).alias("month")
        )
        .explode("month")
        .drop_nulls("month")
    )
    grid = grid.with_columns(pl.col("month").dt.month_end().alias("month_end"))
    cells = grid.select("loan_id", "month", "month_end").join(installments, on="loan_id", how="left")
    paid_by = pl.col("paid_on").is_not_null() & (pl.col("paid_on") <= pl.col("month_end"))
    owed = (pl.col("due_on") <= pl.col("month_end")) & ~paid_by
    in_month = paid_by & (pl.col("paid_on") >= pl.col("month"))
    per_month = cells.group_by("loan_id", "month").agg(
        (pl.col("month_end") - pl.col("due_on")).dt.total_days().filter(owed).max().fill_null(0).alias("dpd"),
        pl.col("principal_fen").filter(paid_by).sum().alias("repaid_fen"),
        pl.col("paid_total_fen").filter(in_month).sum().alias("paid_fen"),
    )
    panel = grid.join(per_month, on=["loan_id", "month"], how="left").sort("loan_id", "month")
    panel = panel.with_columns(
        (pl.col("principal_fen") - pl.col("repaid_fen").fill_null(0)).alias("balance_fen"),
        pl.col("dpd").fill_null(0).cast(pl.Int32),
    )
    panel = panel.with_columns(
        (pl.col("dpd") > 90).cum_sum().over("loan_id").alias("_late"),
        (pl.col("balance_fen") <= 0).cum_sum().over("loan_id").alias("_closed"),
    ).filter(pl.col("_closed") <= 1)
    panel = panel.with_columns(
        ((pl.col("_late") == 1) & (pl.col("dpd") > 90)).alias("default_flag"),
        pl.when(pl.col("_closed") == 1)
        .then(pl.lit("closed"))
        .when(pl.col("_late") >= 1)
        .then(pl.lit("defaulted"))
        .otherwise(pl.lit("active"))
        .alias("status"),
        pl.when(pl.col("dpd") == 0)
        .then(pl.lit("M0"))
        .when(pl.col("dpd") <= 30)
        .then(pl.lit("M1"))
        .when(pl.col("dpd") <= 60)
        .then(pl.lit("M2"))
        .when(pl.col("dpd") <= 90)
        .then(pl.lit("M3"))
        .otherwise(pl.lit("M4+"))
        .alias("bucket"),
        (
            (pl.col("month").dt.year() - pl.col("disbursed_on").dt.year()) * 12
            + pl.col("month").dt.month().cast(pl.Int32)
            - pl.col("disbursed_on").dt.month().cast(pl.Int32)
        )
        .cast(pl.Int16)
        .alias("mob"),
        pl.col("disbursed_on").dt.month_start().alias("origination_month"),
    )
    return panel.select(
        "loan_id",
        "month",
        "origination_month",
        "mob",
        "product",
        pl.col("channel").fill_null("unknown"),
        pl.lit("unknown").alias("region"),
        pl.col("grade").fill_null("unrated"),
        pl.col("term").cast(pl.Int16),
        "annual_rate",
        "principal_fen",
        pl.col("predicted_pd").cast(pl.Float64),
        pl.lit(None, dtype=pl.Float64).alias("pd_current"),
        "dpd",
        "bucket",
        "status",
        "balance_fen",
        pl.col("paid_fen").fill_null(0).cast(pl.Int64),
        "default_flag",
        pl.lit(0, dtype=pl.Int64).alias("recovery_fen"),
    )


def _channel(conn: Connection) -> ColumnElement[str]:
    """The application's "channel" from its JSON payload (text column), on either backend."""
    if conn.dialect.name == "postgresql":
        return cast(cast(ApplicationRow.payload_json, JSON)["channel"].astext, String)
    return cast(func.json_extract(ApplicationRow.payload_json, "$.channel"), String)


def _frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def export_panel(bind: Engine | Connection, out: Path, *, as_of: date, chunk: int = 10_000) -> dict[str, Any]:
    """Write ``out/part-<lo>-<hi>.parquet`` per loan-id range; returns loans, rows, files and rows/s.

    ``bind``: an engine (the CLI: its own read) or a connection (a web request: inside its transaction)."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    loans_written = rows_written = files = 0
    opened: AbstractContextManager[Connection] = (
        bind.connect() if isinstance(bind, Engine) else nullcontext(bind)
    )
    with opened as conn:
        channel = _channel(conn)
        bounds = conn.execute(
            select(func.min(LoanRow.id), func.max(LoanRow.id)).where(LoanRow.disbursed_on.is_not(None))
        ).one()
        if bounds[0] is not None:
            for lo in range(int(bounds[0]), int(bounds[1]) + 1, chunk):
                hi = lo + chunk
                loan_rows = conn.execute(
                    select(
                        LoanRow.id,
                        LoanRow.product,
                        LoanRow.term,
                        LoanRow.annual_rate,
                        LoanRow.principal_fen,
                        LoanRow.disbursed_on,
                        DecisionRow.grade,
                        DecisionRow.pd,
                        channel,
                    )
                    .select_from(LoanRow)
                    .outerjoin(ApplicationRow, ApplicationRow.loan_id == LoanRow.id)
                    .outerjoin(DecisionRow, DecisionRow.id == ApplicationRow.decision_id)
                    .where(
                        LoanRow.id >= lo,
                        LoanRow.id < hi,
                        LoanRow.disbursed_on.is_not(None),
                        LoanRow.disbursed_on <= as_of,
                        LoanRow.state.in_(DISBURSED_STATES),
                    )
                ).all()
                if not loan_rows:
                    continue
                loans = _frame(loan_rows, LOAN_SCHEMA).with_columns(pl.col("annual_rate").cast(pl.Float64))
                inst_rows = conn.execute(
                    select(
                        InstallmentRow.loan_id,
                        InstallmentRow.due_on,
                        InstallmentRow.principal_fen,
                        InstallmentRow.paid_principal_fen
                        + InstallmentRow.paid_interest_fen
                        + InstallmentRow.paid_fee_fen,
                        InstallmentRow.paid_on,
                    ).where(
                        InstallmentRow.loan_id >= lo,
                        InstallmentRow.loan_id < hi,
                        InstallmentRow.active.is_(True),
                    )
                ).all()
                installments = _frame(inst_rows, INSTALMENT_SCHEMA)
                panel = panel_from_rows(loans, installments, as_of=as_of)
                panel.write_parquet(out / f"part-{lo:012d}-{hi:012d}.parquet", statistics=True)
                loans_written += loans.height
                rows_written += panel.height
                files += 1
    if files == 0:  # an empty book is still a panel: the report shows zeros rather than failing
        empty_loans = pl.DataFrame(schema=LOAN_SCHEMA).with_columns(pl.col("annual_rate").cast(pl.Float64))
        empty = panel_from_rows(empty_loans, pl.DataFrame(schema=INSTALMENT_SCHEMA), as_of=as_of)
        empty.write_parquet(out / "part-empty.parquet")
        files = 1
    seconds = time.perf_counter() - started
    return {
        "loans": loans_written,
        "rows": rows_written,
        "files": files,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows_written / seconds) if seconds > 0 else None,
    }
