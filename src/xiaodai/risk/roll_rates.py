"""Roll-rate and flow-rate matrices between DPD buckets, month over month; cure rates.

A transition is a pair of consecutive month ends of one loan where the loan was open (status active) at
the first. Its ``from`` is the bucket at the first month end (M0..M3); its ``to`` is the bucket at the
second, or ``default`` when the loan defaulted in that month, or ``paid_off`` when it closed or prepaid.

- roll rate (from → to) = transitions(from → to) / transitions(from → anything)   [by count]
- flow rate Mk → Mk+1 = balance that moved from Mk to Mk+1 (or default, from M3) / balance in Mk   [by
  balance at the first month end]
- cure rate of Mk (k ≥ 1) = transitions(Mk → M0) / transitions(Mk → anything)

Only transitions whose second month is in (``since``, ``as_of``] are counted (all history by default).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from xiaodai.risk.panel import BUCKETS, month_start, upto

TO_STATES = (*BUCKETS[:-1], "default", "paid_off")
FROM_STATES = BUCKETS[:-1]


def partial(panel: pl.LazyFrame, *, as_of: date, since: date | None = None) -> pl.DataFrame:
    rows = upto(panel, as_of).select("loan_id", "month", "bucket", "status", "default_flag", "balance_fen")
    # a transition joins a month end to the same loan's previous month end (open at that one); a hash
    # join on (loan, month index) costs less than sorting the panel by loan
    # one integer key per loan-month: loan_id × 2^16 + months since year 0
    index = pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month().cast(pl.Int64)
    rows = rows.with_columns((pl.col("loan_id") * 65536 + index).alias("key"))
    previous = rows.filter((pl.col("status") == "active") & pl.col("bucket").is_in(FROM_STATES)).select(
        (pl.col("key") + 1).alias("key"),
        pl.col("bucket").alias("from"),
        pl.col("balance_fen").alias("from_balance_fen"),
    )
    moves = rows.join(previous, on="key", how="inner")
    if since is not None:
        moves = moves.filter(pl.col("month") > month_start(since))
    moves = moves.with_columns(
        pl.when(pl.col("default_flag"))
        .then(pl.lit("default"))
        .when(pl.col("status").is_in(["prepaid", "closed"]))
        .then(pl.lit("paid_off"))
        .otherwise(pl.col("bucket"))
        .alias("to")
    )
    return (
        moves.group_by("from", "to")
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("from_balance_fen").sum().alias("balance_fen"))
        .collect()
    )


def finalize(partials: pl.DataFrame) -> pl.DataFrame:
    """Long table: from, to, count, balance_fen, roll_rate (count share of the from row)."""
    totals = partials.group_by("from", "to").agg(pl.col("count").sum(), pl.col("balance_fen").sum())
    grid = pl.DataFrame({"from": list(FROM_STATES)}).join(pl.DataFrame({"to": list(TO_STATES)}), how="cross")
    table = grid.join(totals, on=["from", "to"], how="left").with_columns(
        pl.col("count").fill_null(0), pl.col("balance_fen").fill_null(0)
    )
    table = table.with_columns(
        pl.col("count").sum().over("from").alias("from_count"),
        pl.col("balance_fen").sum().over("from").alias("from_balance_fen"),
    )
    return (
        table.with_columns(
            pl.when(pl.col("from_count") > 0)
            .then(pl.col("count") / pl.col("from_count"))
            .otherwise(None)
            .alias("roll_rate")
        )
        .with_columns(
            pl.col("from").replace_strict({b: i for i, b in enumerate(FROM_STATES)}).alias("_f"),
            pl.col("to").replace_strict({b: i for i, b in enumerate(TO_STATES)}).alias("_t"),
        )
        .sort("_f", "_t")
        .drop("_f", "_t")
    )


def flow_and_cure(matrix: pl.DataFrame) -> pl.DataFrame:
    """Per from-bucket: the flow rate to the next bucket (by balance) and the cure rate (by count)."""
    rows = []
    for index, bucket in enumerate(FROM_STATES):
        from_rows = matrix.filter(pl.col("from") == bucket)
        total_balance = int(from_rows["balance_fen"].sum())
        total_count = int(from_rows["count"].sum())
        target = FROM_STATES[index + 1] if index + 1 < len(FROM_STATES) else "default"
        moved = int(from_rows.filter(pl.col("to") == target)["balance_fen"].sum())
        cured = int(from_rows.filter(pl.col("to") == "M0")["count"].sum())
        rows.append(
            {
                "from": bucket,
                "to": target,
                "flow_rate": moved / total_balance if total_balance else None,
                "cure_rate": (cured / total_count if total_count else None) if index > 0 else None,
            }
        )
    return pl.DataFrame(
        rows, schema={"from": pl.String, "to": pl.String, "flow_rate": pl.Float64, "cure_rate": pl.Float64}
    )


def roll_rates(panel: pl.LazyFrame, *, as_of: date, since: date | None = None) -> pl.DataFrame:
    return finalize(partial(panel, as_of=as_of, since=since))
