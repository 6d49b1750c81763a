"""The risk report: every kernel through an engine, then one JSON-ready object.

Two passes over the partitions: (1) vintages, roll rates, ECL parameters, concentration, early warning,
backtest; (2) ECL per stress scenario with the parameters from pass 1. Money leaves as Decimal strings
("1234.56", from integer fen); rates and probabilities as decimal strings rounded to 6 places.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial as bind
from typing import Any, Protocol, TypeVar

import polars as pl

from xiaodai.risk import backtest, book_trend, concentration, early_warning, ecl, roll_rates, stress, vintage
from xiaodai.risk.ecl import EclParams, Parameters, Scenario
from xiaodai.risk.growth_quality import GrowthPolicy, check
from xiaodai.risk.panel import fen_text

T = TypeVar("T")
VINTAGE_DIMENSIONS = ("product", "grade", "channel")


class Engine(Protocol):
    name: str

    def map(self, kernel: Callable[[pl.LazyFrame], T]) -> list[T]: ...


@dataclass(frozen=True, slots=True)
class ReportOptions:
    as_of: date
    scenarios: tuple[Scenario, ...]
    ecl: EclParams = field(default_factory=EclParams)
    growth: GrowthPolicy = field(default_factory=GrowthPolicy)
    early_warning_limit: int = 50


def first_pass(panel: pl.LazyFrame, *, as_of: date, early_warning_limit: int) -> dict[str, Any]:
    return {
        "vintage": vintage.partial(panel, as_of=as_of, by=VINTAGE_DIMENSIONS),
        "roll": roll_rates.partial(panel, as_of=as_of),
        "params": ecl.parameters_partial(panel, as_of=as_of),
        "concentration": concentration.partial(panel, as_of=as_of),
        "early_warning": early_warning.partial(panel, as_of=as_of, limit=early_warning_limit),
        "backtest": backtest.partial(panel, as_of=as_of),
        "trend": book_trend.partial(panel, as_of=as_of),
    }


def second_pass(
    panel: pl.LazyFrame,
    *,
    as_of: date,
    parameters: Parameters,
    params: EclParams,
    scenarios: tuple[Scenario, ...],
) -> dict[str, pl.DataFrame]:
    return {
        s.name: ecl.partial(panel, as_of=as_of, parameters=parameters, params=params, scenario=s)
        for s in scenarios
    }


def rate(value: float | None) -> str | None:
    if value is None:
        return None
    return str(Decimal(repr(float(value))).quantize(Decimal("0.000001")))


def _records(
    frame: pl.DataFrame, money: tuple[str, ...] = (), rates: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    out = []
    for row in frame.iter_rows(named=True):
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key in money:
                item[key.removesuffix("_fen")] = fen_text(value)
            elif key in rates:
                item[key] = rate(value)
            elif isinstance(value, date):
                item[key] = value.isoformat()
            else:
                item[key] = value
        out.append(item)
    return out


@dataclass(frozen=True, slots=True)
class ReportTables:
    """The finalized tables (integer fen, float rates): what the JSON, CSV and HTML are made from."""

    vintages: pl.DataFrame
    vintages_by: dict[str, pl.DataFrame]
    roll_rates: pl.DataFrame
    flow: pl.DataFrame
    ecl: pl.DataFrame
    parameters: Parameters
    stress: pl.DataFrame
    concentration: pl.DataFrame
    early_warning: pl.DataFrame
    backtest: pl.DataFrame
    growth_quality: pl.DataFrame
    trend: pl.DataFrame


def build_tables(engine: Engine, options: ReportOptions) -> ReportTables:
    as_of = options.as_of
    parts = engine.map(bind(first_pass, as_of=as_of, early_warning_limit=options.early_warning_limit))
    vintage_partials = pl.concat([p["vintage"] for p in parts])
    by_origination = vintage.finalize(vintage_partials, as_of=as_of)
    by_dimension = {d: vintage.finalize(vintage_partials, as_of=as_of, by=(d,)) for d in VINTAGE_DIMENSIONS}
    matrix = roll_rates.finalize(pl.concat([p["roll"] for p in parts]))
    parameters = ecl.parameters_finalize([p["params"] for p in parts], options.ecl)
    scenarios = options.scenarios
    if not any(s.name == "base" for s in scenarios):
        scenarios = (ecl.BASE, *scenarios)
    stressed = engine.map(
        bind(second_pass, as_of=as_of, parameters=parameters, params=options.ecl, scenarios=scenarios)
    )
    results = {s.name: ecl.finalize(pl.concat([p[s.name] for p in stressed])) for s in scenarios}
    return ReportTables(
        vintages=by_origination,
        vintages_by=by_dimension,
        roll_rates=matrix,
        flow=roll_rates.flow_and_cure(matrix),
        ecl=results["base"],
        parameters=parameters,
        stress=stress.impact(results, results["base"]),
        concentration=concentration.finalize(pl.concat([p["concentration"] for p in parts])),
        early_warning=early_warning.finalize(
            pl.concat([p["early_warning"] for p in parts]), limit=options.early_warning_limit
        ),
        backtest=backtest.finalize(pl.concat([p["backtest"] for p in parts]), as_of=as_of),
        growth_quality=check(by_origination, options.growth),
        trend=book_trend.finalize(pl.concat([p["trend"] for p in parts])),
    )


def to_json(tables: ReportTables, *, as_of: date, engine: str, source: str) -> dict[str, Any]:
    base = tables.ecl
    by_stage = {int(s): int(v) for s, v in zip(base["stage"], base["ecl_fen"], strict=True)}
    vintage_rates = ("ever30_rate", "ever90_rate", "default_rate")
    return {
        "as_of": as_of.isoformat(),
        "engine": engine,
        "source": source,
        "vintages": _records(tables.vintages, rates=vintage_rates),
        "vintages_by": {d: _records(t, rates=vintage_rates) for d, t in tables.vintages_by.items()},
        "roll_rates": {
            "matrix": _records(
                tables.roll_rates.select("from", "to", "count", "balance_fen", "roll_rate"),
                money=("balance_fen",),
                rates=("roll_rate",),
            ),
            "flow": _records(tables.flow, rates=("flow_rate", "cure_rate")),
        },
        "ecl": {
            "stage1": fen_text(by_stage.get(1, 0)),
            "stage2": fen_text(by_stage.get(2, 0)),
            "stage3": fen_text(by_stage.get(3, 0)),
            "total": fen_text(sum(by_stage.values())),
            "cecl_total": fen_text(int(base["cecl_fen"].sum())),
            "exposure_total": fen_text(int(base["exposure_fen"].sum())),
            "by_stage": _records(
                base,
                money=("exposure_fen", "ecl_fen", "ecl_12m_fen", "ecl_lifetime_fen", "cecl_fen"),
            ),
            "lgd": rate(tables.parameters.lgd),
            "prepay_rate_monthly": rate(tables.parameters.prepay_rate),
        },
        "stress": _records(
            tables.stress,
            money=("stage1_fen", "stage2_fen", "stage3_fen", "total_fen", "impact_fen"),
        ),
        "concentration": {
            "table": _records(tables.concentration, money=("exposure_fen",), rates=("share",)),
            "hhi": {k: rate(v) for k, v in concentration.hhi(tables.concentration).items()},
        },
        "early_warning": _records(
            tables.early_warning, money=("balance_fen",), rates=("pd_current", "predicted_pd")
        ),
        "backtest": _records(tables.backtest, rates=("realised", "predicted", "true_pd")),
        "growth_quality": _records(
            tables.growth_quality, rates=("early_delinquency", "prev_early_delinquency")
        ),
        "book": _records(tables.trend, money=tuple(c for c in tables.trend.columns if c.endswith("_fen"))),
    }


def csv_tables(tables: ReportTables) -> dict[str, pl.DataFrame]:
    """One CSV per table; money columns as Decimal strings (yuan), rates as floats."""

    def money(frame: pl.DataFrame) -> pl.DataFrame:
        fen = [c for c in frame.columns if c.endswith("_fen")]
        return frame.with_columns(
            [
                pl.col(c).map_elements(fen_text, return_dtype=pl.String).alias(c.removesuffix("_fen"))
                for c in fen
            ]
        ).drop(fen)

    return {
        "vintages": tables.vintages,
        "roll_rates": money(tables.roll_rates),
        "flow_rates": tables.flow,
        "ecl": money(tables.ecl),
        "stress": money(tables.stress),
        "concentration": money(tables.concentration),
        "early_warning": money(tables.early_warning.with_columns(pl.col("signals").list.join(";"))),
        "backtest": tables.backtest,
        "growth_quality": tables.growth_quality,
        "book": money(tables.trend),
    }
