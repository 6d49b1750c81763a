"""Growth versus quality: flag a month whose approvals grew while early delinquency worsened.

For origination month v: approvals(v) = loans booked in v; early delinquency ed(v) = share of v's loans
30+ DPD by ``early_mob`` months on book (from the vintage curves). Month v is flagged when
approvals(v) > approvals(v−1) × (1 + ``min_growth``) AND ed(v) − ed(v−1) > ``max_worsening`` (both
cohorts observed to ``early_mob``). The thresholds are the risk team's (policy data, not code).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True, slots=True)
class GrowthPolicy:
    early_mob: int = 3
    min_growth: float = 0.0
    max_worsening: float = 0.01


def check(vintages: pl.DataFrame, policy: GrowthPolicy) -> pl.DataFrame:
    """``vintages``: the vintage table by origination_month only (``vintage.finalize`` with by=())."""
    at_mob = vintages.filter(pl.col("mob") == policy.early_mob).select(
        "origination_month",
        pl.col("loans").alias("approvals"),
        pl.col("ever30_rate").alias("early_delinquency"),
    )
    table = at_mob.sort("origination_month").with_columns(
        pl.col("approvals").shift(1).alias("prev_approvals"),
        pl.col("early_delinquency").shift(1).alias("prev_early_delinquency"),
    )
    return table.with_columns(
        (
            (pl.col("approvals") > pl.col("prev_approvals") * (1 + policy.min_growth))
            & ((pl.col("early_delinquency") - pl.col("prev_early_delinquency")) > policy.max_worsening)
        )
        .fill_null(False)
        .alias("flagged")
    )
