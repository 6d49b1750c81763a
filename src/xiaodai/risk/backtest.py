"""Backtest: predicted PD against realised default, by origination cohort and grade.

For a cohort observed for at least ``horizon`` months by ``as_of``: realised = loans that defaulted at
months on book ≤ ``horizon`` / loans; predicted = mean PD at origination (the scorer's 12-month PD);
on simulated books also the mean true PD. A mean is over the loans that have the PD (``rated``): a
database book's loans booked without a decision record have none, and a cell of such loans only has
``predicted`` null. Cohorts observed for fewer months are reported with ``complete = false`` and their
default count so far.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from xiaodai.risk.panel import month_start, upto


def partial(panel: pl.LazyFrame, *, as_of: date, horizon: int = 12) -> pl.DataFrame:
    per_loan = (
        upto(panel, as_of)
        .group_by("loan_id", "origination_month", "grade")
        .agg(
            pl.first("predicted_pd"),
            pl.first("true_pd"),
            (pl.col("default_flag") & (pl.col("mob") <= horizon)).any().alias("defaulted"),
        )
    )
    return (
        per_loan.group_by("origination_month", "grade")
        .agg(
            pl.len().cast(pl.Int64).alias("loans"),
            pl.col("defaulted").sum().cast(pl.Int64).alias("defaults"),
            pl.col("predicted_pd").is_not_null().sum().cast(pl.Int64).alias("rated"),
            pl.col("predicted_pd").sum().alias("predicted_sum"),
            pl.col("true_pd").is_not_null().sum().cast(pl.Int64).alias("true_known"),
            pl.col("true_pd").sum().alias("true_sum"),
        )
        .collect()
    )


def finalize(partials: pl.DataFrame, *, as_of: date, horizon: int = 12) -> pl.DataFrame:
    end = month_start(as_of)
    sums = partials.group_by("origination_month", "grade").agg(pl.all().sum())
    observed = (end.year - pl.col("origination_month").dt.year()) * 12 + (
        end.month - pl.col("origination_month").dt.month().cast(pl.Int32)
    )
    return (
        sums.with_columns(
            (pl.col("defaults") / pl.col("loans")).alias("realised"),
            pl.when(pl.col("rated") > 0).then(pl.col("predicted_sum") / pl.col("rated")).alias("predicted"),
            pl.when(pl.col("true_known") > 0)
            .then(pl.col("true_sum") / pl.col("true_known"))
            .alias("true_pd"),
            (observed >= horizon).alias("complete"),
        )
        .drop("predicted_sum", "true_sum", "true_known")
        .sort("origination_month", "grade")
    )


def summary_by_grade(table: pl.DataFrame) -> pl.DataFrame:
    """Over complete cohorts: realised vs predicted default rate per grade (loan-weighted)."""
    complete = table.filter(pl.col("complete"))
    return (
        complete.group_by("grade")
        .agg(
            pl.col("loans").sum(),
            pl.col("defaults").sum(),
            pl.col("rated").sum(),
            (pl.col("predicted") * pl.col("rated")).sum().alias("_p"),
        )
        .with_columns(
            (pl.col("defaults") / pl.col("loans")).alias("realised"),
            pl.when(pl.col("rated") > 0).then(pl.col("_p") / pl.col("rated")).alias("predicted"),
        )
        .drop("_p")
        .sort("grade")
    )
