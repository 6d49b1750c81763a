"""IFRS 9 staging and expected credit loss; CECL as the alternative.

Two passes, both split into ``partial`` / ``finalize`` (see ``risk.panel``):

1. Parameters from the history up to ``as_of``:
   - PD term structure: monthly default hazard by grade and months on book,
     h(g, m) = defaults at mob m / loans open at the start of mob m (the vintages' marginal default
     rates). A cell with fewer than ``min_at_risk`` loans falls back to the grade's pooled hazard,
     then to the book's.
   - LGD = 1 − recoveries / exposure at default, over completed workouts (written off by ``as_of``);
     ``default_lgd`` when none has completed.
   - Prepayment: monthly prepayment rate q = prepaid / open loans.
2. Per open loan at the ``as_of`` month end (status active, or defaulted and still recovering):
   - stage 3: defaulted (90+ DPD);
   - stage 2: 30+ DPD (backstop), or PD deterioration: pd_current ≥ ``sicr_ratio`` × PD at origination;
   - stage 1: otherwise.
   For stages 1 and 2, with n = max(term − mob, 1) months left, monthly EIR r = annual_rate / 12,
   deterioration scale s = max(pd_current / predicted_pd, 1) (stage 2 only; 1 for stage 1):
     PD_h   = S_{h−1} × min(1, M × s × h(g, mob + h)),  S_h = Π_{j ≤ h} (1 − min(1, M × s × h(g, mob + j)))
     EAD_h  = B × ((1+r)^n − (1+r)^(h−1)) / ((1+r)^n − 1) × (1 − k × q)^(h−1)   (B: principal outstanding)
     ECL    = Σ_h PD_h × LGD' × EAD_h × (1+r)^(−h),  h = 1..12 (12-month, stage 1) or 1..n (lifetime)
   with LGD' = clip(LGD + lgd_shift, 0, 1), M the stress PD multiplier and k the prepayment multiplier.
   Stage 3: ECL = remaining exposure − expected remaining recovery
     = (EAD_d − recovered) − max(0, EAD_d × (1 − LGD') − recovered).
   CECL: lifetime, undiscounted, for every open loan regardless of stage (stage 3 as above).
   Each loan's ECL is B × (the sum of its factors, worked once per distinct grade, mob, months left, rate and
   scale), rounded half-up to the fen before summing (integer sums: engine-independent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from xiaodai.risk.panel import month_start, upto


@dataclass(frozen=True, slots=True)
class EclParams:
    sicr_ratio: float = 2.0
    default_lgd: float = 0.75
    min_at_risk: int = 30


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    pd_multiplier: float = 1.0
    lgd_shift: float = 0.0
    prepay_multiplier: float = 1.0


BASE = Scenario("base")


@dataclass(frozen=True, slots=True)
class Parameters:
    hazard: pl.DataFrame  # grade, mob, hazard
    lgd: float
    prepay_rate: float


def parameters_partial(panel: pl.LazyFrame, *, as_of: date) -> dict[str, pl.DataFrame]:
    rows = upto(panel, as_of)
    at_risk = rows.filter(pl.col("status").is_in(["active", "prepaid", "closed"]) | pl.col("default_flag"))
    hazard = (
        at_risk.group_by("grade", "mob")
        .agg(
            pl.len().cast(pl.Int64).alias("at_risk"),
            pl.col("default_flag").sum().cast(pl.Int64).alias("defaults"),
            (pl.col("status") == "prepaid").sum().cast(pl.Int64).alias("prepaid"),
        )
        .collect()
    )
    finished = rows.filter(pl.col("status") == "written_off").select("loan_id").unique()
    workouts = (
        rows.join(finished, on="loan_id", how="semi")
        .group_by("loan_id")
        .agg(
            pl.col("balance_fen").filter(pl.col("default_flag")).sum().alias("ead_fen"),
            pl.col("recovery_fen").sum().alias("recovered_fen"),
        )
        .select(pl.col("ead_fen").sum().cast(pl.Int64), pl.col("recovered_fen").sum().cast(pl.Int64))
        .collect()
    )
    return {"hazard": hazard, "workouts": workouts}


def parameters_finalize(partials: list[dict[str, pl.DataFrame]], params: EclParams) -> Parameters:
    counts = (
        pl.concat([p["hazard"] for p in partials])
        .group_by("grade", "mob")
        .agg(pl.col("at_risk").sum(), pl.col("defaults").sum(), pl.col("prepaid").sum())
    )
    pooled = counts.group_by("grade").agg(
        (pl.col("defaults").sum() / pl.col("at_risk").sum()).alias("pooled")
    )
    total_at_risk = int(counts["at_risk"].sum()) if counts.height else 0
    book = int(counts["defaults"].sum()) / total_at_risk if total_at_risk else 0.0
    hazard = (
        counts.join(pooled, on="grade")
        .with_columns(
            pl.when(pl.col("at_risk") >= params.min_at_risk)
            .then(pl.col("defaults") / pl.col("at_risk"))
            .otherwise(pl.col("pooled"))
            .alias("hazard")
        )
        .select("grade", "mob", "hazard")
    )
    fallback = pooled.rename({"pooled": "hazard"}).with_columns(pl.lit(None, dtype=pl.Int16).alias("mob"))
    hazard = pl.concat([hazard.with_columns(pl.col("mob").cast(pl.Int16)), fallback.select(hazard.columns)])
    hazard = pl.concat(
        [hazard, pl.DataFrame({"grade": [None], "mob": [None], "hazard": [book]}, schema=hazard.schema)]
    )
    workouts = pl.concat([p["workouts"] for p in partials])
    ead = int(workouts["ead_fen"].sum() or 0)
    recovered = int(workouts["recovered_fen"].sum() or 0)
    lgd = 1 - recovered / ead if ead > 0 else params.default_lgd
    prepaid = int(counts["prepaid"].sum()) if counts.height else 0
    return Parameters(hazard, lgd, prepaid / total_at_risk if total_at_risk else 0.0)


def _hazard_lookup(frame: pl.LazyFrame, hazard: pl.DataFrame) -> pl.LazyFrame:
    cells = hazard.filter(pl.col("mob").is_not_null()).lazy()
    pooled = hazard.filter(pl.col("mob").is_null() & pl.col("grade").is_not_null()).select(
        "grade", pl.col("hazard").alias("pooled")
    )
    book = float(hazard.filter(pl.col("grade").is_null())["hazard"][0])
    return (
        frame.join(cells, left_on=["grade", "h_mob"], right_on=["grade", "mob"], how="left")
        .join(pooled.lazy(), on="grade", how="left")
        .with_columns(pl.coalesce("hazard", "pooled", pl.lit(book)).alias("hazard"))
        .drop("pooled")
    )


def loan_ecl(
    panel: pl.LazyFrame, *, as_of: date, parameters: Parameters, params: EclParams, scenario: Scenario = BASE
) -> pl.LazyFrame:
    """Per open loan at ``as_of``: stage, exposure_fen, ecl_12m_fen, ecl_lifetime_fen, ecl_fen, cecl_fen."""
    end = month_start(as_of)
    rows = upto(panel, as_of)
    recovered = rows.group_by("loan_id").agg(
        pl.col("recovery_fen").sum().alias("recovered_fen"),
    )
    snap = rows.filter((pl.col("month") == end) & pl.col("status").is_in(["active", "defaulted"]))
    snap = snap.join(recovered, on="loan_id", how="left")
    lgd = min(max(parameters.lgd + scenario.lgd_shift, 0.0), 1.0)
    pd_now = pl.col("pd_current") * scenario.pd_multiplier
    snap = snap.with_columns(
        pl.when(pl.col("status") == "defaulted")
        .then(pl.lit(3))
        .when((pl.col("dpd") >= 30) | (pd_now >= params.sicr_ratio * pl.col("predicted_pd")))
        .then(pl.lit(2))
        .otherwise(pl.lit(1))
        .cast(pl.Int8)
        .alias("stage")
    )
    performing = snap.filter(pl.col("stage") < 3).with_columns(
        pl.max_horizontal(pl.col("term").cast(pl.Int32) - pl.col("mob").cast(pl.Int32), pl.lit(1)).alias("n"),
        (pl.col("annual_rate") / 12).alias("r"),
        pl.when(pl.col("stage") == 2)
        .then(pl.max_horizontal(pd_now / pl.col("predicted_pd") / scenario.pd_multiplier, pl.lit(1.0)))
        .otherwise(pl.lit(1.0))
        .alias("scale"),
    )
    # ECL is linear in the balance: work out the loss factors once per distinct (grade, mob, months left,
    # rate, scale) — a few thousand cells for a million loans — then multiply each loan's balance.
    cell = ["grade", "mob", "n", "r", "scale"]
    cells = performing.select(cell).unique()
    horizon = cells.with_columns(pl.int_ranges(1, pl.col("n") + 1).alias("h")).explode("h")
    horizon = horizon.with_columns((pl.col("mob").cast(pl.Int32) + pl.col("h")).cast(pl.Int16).alias("h_mob"))
    horizon = _hazard_lookup(horizon, parameters.hazard)
    q = min(max(parameters.prepay_rate * scenario.prepay_multiplier, 0.0), 1.0)
    growth_n = (1 + pl.col("r")) ** pl.col("n")
    amortised = (
        pl.when(pl.col("r") > 0)
        .then((growth_n - (1 + pl.col("r")) ** (pl.col("h") - 1)) / (growth_n - 1))
        .otherwise((pl.col("n") - pl.col("h") + 1) / pl.col("n"))
    )
    horizon = horizon.sort([*cell, "h"]).with_columns(
        (pl.col("hazard") * scenario.pd_multiplier * pl.col("scale")).clip(0.0, 1.0).alias("mh")
    )
    horizon = horizon.with_columns(
        (1 - pl.col("mh")).cum_prod().shift(1, fill_value=1.0).over(cell).alias("survival_before")
    )
    loss = pl.col("survival_before") * pl.col("mh") * lgd * amortised * (1 - q) ** (pl.col("h") - 1)
    discounted = loss * (1 + pl.col("r")) ** (-pl.col("h"))
    factors = horizon.group_by(cell).agg(
        discounted.filter(pl.col("h") <= 12).sum().alias("f_12m"),
        discounted.sum().alias("f_lifetime"),
        loss.sum().alias("f_cecl"),
    )
    per_loan = performing.join(factors, on=cell, how="left", nulls_equal=True).select(
        "loan_id",
        "stage",
        pl.col("balance_fen").alias("exposure_fen"),
        (pl.col("balance_fen") * pl.col("f_12m")).alias("ecl_12m"),
        (pl.col("balance_fen") * pl.col("f_lifetime")).alias("ecl_lifetime"),
        (pl.col("balance_fen") * pl.col("f_cecl")).alias("cecl"),
    )
    rounded = [
        ((pl.col(c) + 0.5).floor().cast(pl.Int64)).alias(f"{c}_fen")
        for c in ("ecl_12m", "ecl_lifetime", "cecl")
    ]
    per_loan = per_loan.with_columns(rounded).select(
        "loan_id",
        "stage",
        "exposure_fen",
        "ecl_12m_fen",
        "ecl_lifetime_fen",
        pl.when(pl.col("stage") == 1)
        .then(pl.col("ecl_12m_fen"))
        .otherwise(pl.col("ecl_lifetime_fen"))
        .alias("ecl_fen"),
        "cecl_fen",
    )
    defaulted = snap.filter(pl.col("stage") == 3).with_columns(
        pl.col("recovered_fen").fill_null(0).alias("rec")
    )
    remaining = pl.col("balance_fen") - pl.col("rec")
    expected_recovery = pl.max_horizontal(
        ((pl.col("balance_fen") * (1 - lgd)) + 0.5).floor().cast(pl.Int64) - pl.col("rec"), pl.lit(0)
    )
    stage3 = defaulted.select(
        "loan_id",
        "stage",
        remaining.alias("exposure_fen"),
        pl.max_horizontal(remaining - expected_recovery, pl.lit(0)).alias("ecl_12m_fen"),
    ).with_columns(
        pl.col("ecl_12m_fen").alias("ecl_lifetime_fen"),
        pl.col("ecl_12m_fen").alias("ecl_fen"),
        pl.col("ecl_12m_fen").alias("cecl_fen"),
    )
    return pl.concat([per_loan, stage3.select(per_loan.collect_schema().names())], how="vertical_relaxed")


def partial(
    panel: pl.LazyFrame, *, as_of: date, parameters: Parameters, params: EclParams, scenario: Scenario = BASE
) -> pl.DataFrame:
    per_loan = loan_ecl(panel, as_of=as_of, parameters=parameters, params=params, scenario=scenario)
    return (
        per_loan.group_by("stage")
        .agg(
            pl.len().cast(pl.Int64).alias("loans"),
            pl.col("exposure_fen").sum().cast(pl.Int64),
            pl.col("ecl_fen").sum().cast(pl.Int64),
            pl.col("ecl_12m_fen").sum().cast(pl.Int64),
            pl.col("ecl_lifetime_fen").sum().cast(pl.Int64),
            pl.col("cecl_fen").sum().cast(pl.Int64),
        )
        .collect()
    )


def finalize(partials: pl.DataFrame) -> pl.DataFrame:
    """One row per stage 1, 2, 3 (zeros where empty): loans and integer-fen sums."""
    sums = partials.group_by("stage").agg(pl.all().sum())
    stages = pl.DataFrame({"stage": [1, 2, 3]}, schema={"stage": pl.Int8})
    columns = ["loans", "exposure_fen", "ecl_fen", "ecl_12m_fen", "ecl_lifetime_fen", "cecl_fen"]
    return (
        stages.join(sums.with_columns(pl.col("stage").cast(pl.Int8)), on="stage", how="left")
        .with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in columns])
        .sort("stage")
    )
