"""Concentration, early warning, backtest, growth versus quality, stress scenarios as data."""

import json
from datetime import date

import polars as pl
import pytest

from xiaodai.risk import backtest, concentration, early_warning, stress
from xiaodai.risk.growth_quality import GrowthPolicy, check
from xiaodai.risk.stress import ScenarioError, parse_scenarios

JAN = date(2025, 1, 1)


def test_concentration_shares_and_hhi(panel):
    book = panel(
        {
            1: (JAN, [{"product": "a", "balance_fen": 30_000}]),
            2: (JAN, [{"product": "b", "balance_fen": 10_000}]),
            3: (JAN, [{"product": "b", "status": "closed", "balance_fen": 0}]),
        }
    )
    table = concentration.finalize(concentration.partial(book, as_of=date(2025, 2, 28)))
    products = table.filter(pl.col("dimension") == "product")
    assert products["value"].to_list() == ["a", "b"]
    assert products["loans"].to_list() == [1, 1]
    assert products["share"].to_list() == [0.75, 0.25]
    scores = concentration.hhi(table)
    assert scores["product"] == pytest.approx(0.75**2 + 0.25**2)
    assert scores["region"] == 1.0  # one region holds everything


def test_early_warning_signals(panel):
    book = panel(
        {
            1: (JAN, [{"dpd": 0}, {"dpd": 45}]),  # rolling: 30+ now
            2: (JAN, [{"dpd": 0}, {"pd_current": 0.10, "predicted_pd": 0.05}]),  # PD doubled
            3: (JAN, [{"dpd": 0}, {"pd_current": 0.0999, "predicted_pd": 0.05}]),  # just below: not listed
            4: (
                JAN,
                [{"dpd": 15}, {"dpd": 0}, {"dpd": 15}, {"dpd": 15, "paid_fen": 500}],
            ),  # repeat + partial
            5: (JAN, [{"dpd": 15}, {"dpd": 0}]),  # cured: not listed
        }
    )
    listed = early_warning.partial(book, as_of=date(2025, 5, 31))
    signals = {row["loan_id"]: row["signals"] for row in listed.iter_rows(named=True)}
    assert signals[4] == ["EW_REPEAT", "EW_PARTIAL"]
    assert 3 not in signals
    assert 5 not in signals
    listed = early_warning.partial(book, as_of=date(2025, 3, 31))
    signals = {row["loan_id"]: row["signals"] for row in listed.iter_rows(named=True)}
    assert signals == {1: ["EW_ROLLING"], 2: ["EW_PD_UP"]}
    assert early_warning.partial(book, as_of=date(2025, 3, 31), limit=1).height == 1


def test_backtest_realised_against_predicted(panel):
    default_at_5 = [{}] * 4 + [{"default_flag": True, "status": "defaulted", "dpd": 105}]
    default_at_13 = [{}] * 12 + [{"default_flag": True, "status": "defaulted", "dpd": 105}]
    book = panel(
        {
            1: (JAN, [{**r, "predicted_pd": 0.1} for r in default_at_5]),
            2: (JAN, [{"predicted_pd": 0.3}] * 13),
            3: (JAN, [{**r, "predicted_pd": 0.2} for r in default_at_13]),
        }
    )
    as_of = date(2026, 2, 28)
    table = backtest.finalize(backtest.partial(book, as_of=as_of), as_of=as_of)
    row = table.row(0, named=True)
    assert row["loans"] == 3
    assert row["defaults"] == 1  # the default at mob 13 is outside the 12-month horizon
    assert row["realised"] == pytest.approx(1 / 3)
    assert row["predicted"] == pytest.approx(0.2)
    assert row["complete"] is True
    early = backtest.finalize(backtest.partial(book, as_of=date(2025, 12, 31)), as_of=date(2025, 12, 31))
    assert early["complete"].to_list() == [False]  # 11 months observed
    assert backtest.summary_by_grade(early).height == 0


def test_backtest_means_only_over_loans_with_a_pd(panel):
    """A database book: loans booked without a decision record have no PD; they count as loans (and their
    defaults) but not in the mean predicted PD; a cell with no PD at all has none (null, not zero)."""
    default_at_5 = [{}] * 4 + [{"default_flag": True, "status": "defaulted", "dpd": 105}]
    book = panel(
        {
            1: (JAN, [{**r, "predicted_pd": 0.1} for r in default_at_5]),
            2: (JAN, [{"predicted_pd": 0.3}] * 13),
            3: (JAN, [{"predicted_pd": None}] * 13),
            4: (JAN, [{**r, "predicted_pd": None, "grade": "unrated"} for r in default_at_5]),
        }
    )
    as_of = date(2026, 2, 28)
    table = backtest.finalize(backtest.partial(book, as_of=as_of), as_of=as_of).sort("grade")
    rated = table.filter(pl.col("grade") != "unrated").row(0, named=True)
    assert (rated["loans"], rated["rated"], rated["defaults"]) == (3, 2, 1)
    assert rated["predicted"] == pytest.approx(0.2)
    unrated = table.filter(pl.col("grade") == "unrated").row(0, named=True)
    assert (unrated["loans"], unrated["rated"], unrated["defaults"], unrated["predicted"]) == (1, 0, 1, None)
    summary = backtest.summary_by_grade(table).sort("grade")
    assert summary["predicted"].to_list()[0] == pytest.approx(0.2)
    assert summary["predicted"].to_list()[1] is None


def _vintages(rows):
    return pl.DataFrame(
        [{"origination_month": m, "mob": 3, "loans": n, "ever30_rate": r} for m, n, r in rows],
        schema={"origination_month": pl.Date, "mob": pl.Int16, "loans": pl.Int64, "ever30_rate": pl.Float64},
    )


def test_growth_versus_quality_flags_growth_with_worse_early_delinquency():
    table = _vintages(
        [
            (date(2025, 1, 1), 100, 0.25),
            (date(2025, 2, 1), 120, 0.5),  # grew, worsened by exactly 0.25: not beyond the threshold
            (date(2025, 3, 1), 140, 0.875),  # grew, worsened by 0.375: flagged
            (date(2025, 4, 1), 140, 1.0),  # worsened but did not grow
        ]
    )
    flags = check(table, GrowthPolicy(early_mob=3, max_worsening=0.25))["flagged"].to_list()
    assert flags == [False, False, True, False]


def test_scenarios_are_data():
    text = json.dumps(
        {"scenarios": [{"name": "x", "pd_multiplier": "1.5", "lgd_shift": "0.1", "prepay_multiplier": "0.5"}]}
    )
    (scenario,) = parse_scenarios(text)
    assert (scenario.pd_multiplier, scenario.lgd_shift, scenario.prepay_multiplier) == (1.5, 0.1, 0.5)
    assert {s.name for s in stress.default_scenarios()} >= {"base", "severe"}


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        json.dumps({"scenarios": []}),
        json.dumps({"scenarios": [{"pd_multiplier": "2"}]}),
        json.dumps({"scenarios": [{"name": "a", "pd_multiplier": "-0.1"}]}),
        json.dumps({"scenarios": [{"name": "a", "lgd_shift": "1.01"}]}),
        json.dumps({"scenarios": [{"name": "a", "pd_multiplier": "NaN"}]}),
        json.dumps({"scenarios": [{"name": "a"}, {"name": "a"}]}),
    ],
)
def test_bad_scenario_files_are_refused(bad):
    with pytest.raises(ScenarioError):
        parse_scenarios(bad)


def test_scenario_limits_are_inclusive():
    text = json.dumps({"scenarios": [{"name": "edge", "pd_multiplier": "0", "lgd_shift": "1"}]})
    assert parse_scenarios(text)[0].lgd_shift == 1.0


def test_stress_impact_over_base():
    def table(values):
        return pl.DataFrame({"stage": [1, 2, 3], "loans": [1, 1, 1], "ecl_fen": values})

    base = table([100, 200, 300])
    out = stress.impact({"base": base, "severe": table([150, 260, 330])}, base)
    severe = out.filter(pl.col("scenario") == "severe").row(0, named=True)
    assert severe["total_fen"] == 740
    assert severe["impact_fen"] == 140
