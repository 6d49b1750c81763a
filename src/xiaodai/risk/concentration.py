"""Concentration of the open book at ``as_of`` by product, region, channel and grade.

For each dimension: loans, exposure (principal outstanding, fen) and share of exposure per value, and the
Herfindahl-Hirschman index HHI = Σ share² (1/k for k equal values; 1 for a single value).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from xiaodai.risk.panel import month_start, upto

DIMENSIONS = ("product", "region", "channel", "grade")


def partial(panel: pl.LazyFrame, *, as_of: date, dimensions: Sequence[str] = DIMENSIONS) -> pl.DataFrame:
    snap = upto(panel, as_of).filter(
        (pl.col("month") == month_start(as_of)) & pl.col("status").is_in(["active", "defaulted"])
    )
    frames = [
        snap.group_by(pl.col(d).alias("value"))
        .agg(
            pl.len().cast(pl.Int64).alias("loans"),
            pl.col("balance_fen").sum().cast(pl.Int64).alias("exposure_fen"),
        )
        .with_columns(pl.lit(d).alias("dimension"))
        .select("dimension", "value", "loans", "exposure_fen")
        for d in dimensions
    ]
    return pl.concat(frames).collect()


def finalize(partials: pl.DataFrame) -> pl.DataFrame:
    sums = partials.group_by("dimension", "value").agg(pl.col("loans").sum(), pl.col("exposure_fen").sum())
    return sums.with_columns(
        (pl.col("exposure_fen") / pl.col("exposure_fen").sum().over("dimension")).alias("share")
    ).sort("dimension", "value")


def hhi(table: pl.DataFrame) -> dict[str, float]:
    scores = table.group_by("dimension").agg((pl.col("share") ** 2).sum().alias("hhi"))
    return {str(d): float(h) for d, h in zip(scores["dimension"], scores["hhi"], strict=True)}
