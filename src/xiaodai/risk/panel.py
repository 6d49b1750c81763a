"""The loan-month panel every risk kernel reads, and the rules shared by the kernels.

One row per loan per month end it is on the book (see ``simulate.book`` for how a simulated book fills
it and ``risk.export`` for how the database fills it). Money columns are integer fen; rates and
probabilities are floats (analytics only: amounts leave the kernels as integer fen and become Decimal
strings at the report edge, ``fen_text``).

Kernels are split in two so that the same code runs on one machine and on a cluster:
``partial(panel)`` runs on a set of COMPLETE loan histories (a loan-id range) and returns additive
counts and sums; ``finalize(concatenated partials)`` sums them and turns them into rates. Integer sums
are exact in any order, which is why the Dask engine's results are identical to the local engine's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

REQUIRED = {
    "loan_id": pl.Int64,
    "month": pl.Date,
    "origination_month": pl.Date,
    "mob": pl.Int16,
    "product": pl.String,
    "channel": pl.String,
    "region": pl.String,
    "grade": pl.String,
    "term": pl.Int16,
    "annual_rate": pl.Float64,
    "principal_fen": pl.Int64,
    "predicted_pd": pl.Float64,
    "pd_current": pl.Float64,
    "dpd": pl.Int32,
    "bucket": pl.String,
    "status": pl.String,
    "balance_fen": pl.Int64,
    "default_flag": pl.Boolean,
    "recovery_fen": pl.Int64,
}
OPTIONAL = {"true_pd": pl.Float64, "paid_fen": pl.Int64, "scheduled_fen": pl.Int64, "late": pl.Boolean}
BUCKETS = ("M0", "M1", "M2", "M3", "M4+")
CLOSED_STATUSES = ("prepaid", "closed", "written_off")


class PanelError(ValueError):
    """The panel is missing columns or holds values the kernels cannot read."""


def conform(panel: pl.LazyFrame) -> pl.LazyFrame:
    """Check the columns and cast them to the kernel types; missing optional columns become null."""
    names = panel.collect_schema().names()
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise PanelError(f"the panel is missing columns: {', '.join(missing)}")
    casts = [pl.col(c).cast(t) for c, t in REQUIRED.items()]
    casts += [(pl.col(c) if c in names else pl.lit(None)).cast(t).alias(c) for c, t in OPTIONAL.items()]
    return panel.select(casts)


def month_start(day: date) -> date:
    return day.replace(day=1)


def upto(panel: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Rows observed by ``as_of`` (month ends up to and including the month of ``as_of``)."""
    return panel.filter(pl.col("month") <= month_start(as_of))


def fen_text(fen: int) -> str:
    """Integer fen as a Decimal string with two places ("1234.56")."""
    return f"{Decimal(int(fen)) / 100:.2f}"
