"""Early-warning list: open, not yet defaulted accounts whose behaviour predicts default.

An account at the ``as_of`` month end (status active) is listed with every signal it shows:

- ``EW_ROLLING``: 30+ DPD now (M2 or worse: most roll on to default, see the roll rates);
- ``EW_PD_UP``: current PD ≥ ``pd_ratio`` × its PD at origination;
- ``EW_REPEAT``: delinquent now and delinquent in at least ``repeat_months`` of the last 6 month ends;
- ``EW_PARTIAL``: delinquent now after paying something this month (a partial payment).
Ranked by current PD, then exposure; ``limit`` rows.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from xiaodai.risk.panel import month_start, upto


def partial(
    panel: pl.LazyFrame, *, as_of: date, pd_ratio: float = 2.0, repeat_months: int = 2, limit: int = 100
) -> pl.DataFrame:
    end = month_start(as_of)
    rows = upto(panel, as_of)
    window = rows.filter(pl.col("month") > pl.lit(end).dt.offset_by("-6mo"))
    history = window.group_by("loan_id").agg((pl.col("dpd") > 0).sum().alias("delinquent_months"))
    snap = rows.filter((pl.col("month") == end) & (pl.col("status") == "active")).join(
        history, on="loan_id", how="left"
    )
    signals = {
        "EW_ROLLING": pl.col("dpd") >= 30,
        "EW_PD_UP": pl.col("pd_current") >= pd_ratio * pl.col("predicted_pd"),
        "EW_REPEAT": (pl.col("dpd") > 0) & (pl.col("delinquent_months") >= repeat_months + 1),
        "EW_PARTIAL": (pl.col("dpd") > 0) & (pl.col("paid_fen").fill_null(0) > 0),
    }
    flagged = snap.with_columns(
        pl.concat_list([pl.when(cond).then(pl.lit(code)) for code, cond in signals.items()])
        .list.drop_nulls()
        .alias("signals")
    ).filter(pl.col("signals").list.len() > 0)
    return finalize(
        flagged.select(
            "loan_id", "grade", "bucket", "dpd", "pd_current", "predicted_pd", "balance_fen", "signals"
        ).collect(),
        limit=limit,
    )


def finalize(partials: pl.DataFrame, *, limit: int = 100) -> pl.DataFrame:
    return partials.sort(["pd_current", "balance_fen", "loan_id"], descending=[True, True, False]).head(limit)
