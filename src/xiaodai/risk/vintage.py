"""Vintage curves: cumulative default / 30+ / 90+ rates by months on book, per origination cohort.

For a cohort (origination month and any of product, grade, channel) with ``loans`` loans, the rate at
months on book m is the number of its loans whose FIRST event (dpd ≥ 30, dpd ≥ 90, default) happened at
a months-on-book ≤ m, divided by ``loans``. A cohort's curve stops at the last month observed by the
``as_of`` date (mob = months from origination to ``as_of``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from xiaodai.risk.panel import month_start, upto

EVENTS = {"ever30": pl.col("dpd") >= 30, "ever90": pl.col("dpd") >= 90, "default": pl.col("default_flag")}


def partial(panel: pl.LazyFrame, *, as_of: date, by: Sequence[str] = ()) -> pl.DataFrame:
    """Per cohort: ``loans`` (mob = 0 rows) and first-event counts per event and mob."""
    keys = ["origination_month", *by]
    rows = upto(panel, as_of)
    per_loan = rows.group_by(["loan_id", *keys]).agg(
        *[pl.col("mob").filter(cond).min().alias(name) for name, cond in EVENTS.items()]
    )
    loans = (
        per_loan.group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .with_columns(pl.lit("loans").alias("event"), pl.lit(0, dtype=pl.Int16).alias("mob"))
    )
    events = [
        per_loan.filter(pl.col(name).is_not_null())
        .group_by([*keys, name])
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .rename({name: "mob"})
        .with_columns(pl.lit(name).alias("event"), pl.col("mob").cast(pl.Int16))
        for name in EVENTS
    ]
    columns = [*keys, "event", "mob", "count"]
    return pl.concat([f.select(columns) for f in [loans, *events]]).collect()


def finalize(partials: pl.DataFrame, *, as_of: date, by: Sequence[str] = ()) -> pl.DataFrame:
    """One row per cohort and mob 1..observed: loans and cumulative counts and rates per event."""
    keys = ["origination_month", *by]
    totals = partials.group_by([*keys, "event", "mob"]).agg(pl.col("count").sum())
    cohorts = totals.filter(pl.col("event") == "loans").select([*keys, pl.col("count").alias("loans")])
    end = month_start(as_of)
    observed = cohorts.with_columns(
        (
            (pl.lit(end.year) - pl.col("origination_month").dt.year()) * 12
            + (pl.lit(end.month) - pl.col("origination_month").dt.month().cast(pl.Int32))
        ).alias("observed")
    ).filter(pl.col("observed") >= 1)
    grid = observed.with_columns(pl.int_ranges(1, pl.col("observed") + 1).alias("mob")).explode("mob")
    grid = grid.with_columns(pl.col("mob").cast(pl.Int16)).drop("observed")
    for name in EVENTS:
        counts = totals.filter(pl.col("event") == name).select([*keys, "mob", pl.col("count").alias(name)])
        grid = grid.join(counts, on=[*keys, "mob"], how="left").with_columns(pl.col(name).fill_null(0))
    grid = grid.sort([*keys, "mob"]).with_columns(
        *[pl.col(name).cum_sum().over(keys).alias(f"cum_{name}") for name in EVENTS]
    )
    return grid.select(
        [*keys, "mob", "loans"]
        + [pl.col(f"cum_{name}") for name in EVENTS]
        + [(pl.col(f"cum_{name}") / pl.col("loans")).alias(f"{name}_rate") for name in EVENTS]
    ).sort([*keys, "mob"])


def vintage_curves(panel: pl.LazyFrame, *, as_of: date, by: Sequence[str] = ()) -> pl.DataFrame:
    return finalize(partial(panel, as_of=as_of, by=by), as_of=as_of, by=by)
