"""The book month by month: open loans, balance (principal outstanding) and balance by DPD bucket.

Open = status active or defaulted (in recovery) at the month end. ``new_loans`` = loans whose first
month end on the book is that month. All sums are integer fen.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from xiaodai.risk.panel import BUCKETS, upto


def partial(panel: pl.LazyFrame, *, as_of: date) -> pl.DataFrame:
    rows = upto(panel, as_of)
    open_rows = rows.filter(pl.col("status").is_in(["active", "defaulted"]))
    by_bucket = open_rows.group_by("month", "bucket").agg(
        pl.len().cast(pl.Int64).alias("loans"), pl.col("balance_fen").sum().cast(pl.Int64)
    )
    new = (
        rows.filter(pl.col("mob") == 1)
        .group_by("month")
        .agg(pl.len().cast(pl.Int64).alias("loans"), pl.col("principal_fen").sum().cast(pl.Int64))
        .with_columns(pl.lit("new").alias("bucket"))
        .rename({"principal_fen": "balance_fen"})
        .select("month", "bucket", "loans", "balance_fen")
    )
    return pl.concat([by_bucket.select("month", "bucket", "loans", "balance_fen"), new]).collect()


def finalize(partials: pl.DataFrame) -> pl.DataFrame:
    """One row per month: open_loans, balance_fen, new_loans, new_principal_fen, <bucket>_balance_fen."""
    sums = partials.group_by("month", "bucket").agg(pl.col("loans").sum(), pl.col("balance_fen").sum())
    months = sums.select("month").unique().sort("month")
    held = sums.filter(pl.col("bucket") != "new")
    table = months.join(
        held.group_by("month").agg(
            pl.col("loans").sum().alias("open_loans"), pl.col("balance_fen").sum().alias("balance_fen")
        ),
        on="month",
        how="left",
    )
    new = sums.filter(pl.col("bucket") == "new").select(
        "month", pl.col("loans").alias("new_loans"), pl.col("balance_fen").alias("new_principal_fen")
    )
    table = table.join(new, on="month", how="left")
    for bucket in BUCKETS:
        part = held.filter(pl.col("bucket") == bucket).select(
            "month", pl.col("balance_fen").alias(f"{bucket.replace('+', 'plus')}_balance_fen")
        )
        table = table.join(part, on="month", how="left")
    return table.fill_null(0).sort("month")
