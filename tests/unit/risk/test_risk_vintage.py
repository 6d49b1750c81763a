from datetime import date

import polars as pl

from xiaodai.risk import vintage

JAN = date(2025, 1, 1)
FEB = date(2025, 2, 1)


def _book(panel):
    return panel(
        {
            1: (
                JAN,
                [
                    {"dpd": 0},
                    {"dpd": 45},
                    {"dpd": 75},
                    {"dpd": 105, "default_flag": True, "status": "defaulted"},
                ],
            ),
            2: (JAN, [{"dpd": 0}] * 4),
            3: (JAN, [{"dpd": 15}, {"dpd": 0, "status": "closed", "balance_fen": 0}]),
            4: (FEB, [{"dpd": 35}, {"dpd": 0}, {"dpd": 0}]),
        }
    )


def test_cumulative_rates_by_months_on_book(panel):
    curves = vintage.vintage_curves(_book(panel), as_of=date(2025, 5, 31))
    jan = curves.filter(pl.col("origination_month") == JAN)
    assert jan["mob"].to_list() == [1, 2, 3, 4]
    assert jan["loans"].to_list() == [3, 3, 3, 3]
    assert jan["cum_ever30"].to_list() == [0, 1, 1, 1]
    assert jan["cum_ever90"].to_list() == [0, 0, 0, 1]
    assert jan["cum_default"].to_list() == [0, 0, 0, 1]
    assert jan["default_rate"].to_list() == [0, 0, 0, 1 / 3]
    feb = curves.filter(pl.col("origination_month") == FEB)
    assert feb["mob"].to_list() == [1, 2, 3]
    assert feb["ever30_rate"].to_list() == [1.0, 1.0, 1.0]


def test_curve_stops_at_the_as_of_month(panel):
    # April: Jan cohort observed 3 months; the default at mob 4 (May) is not seen yet.
    curves = vintage.vintage_curves(_book(panel), as_of=date(2025, 4, 30))
    jan = curves.filter(pl.col("origination_month") == JAN)
    assert jan["mob"].to_list() == [1, 2, 3]
    assert jan["cum_default"].to_list() == [0, 0, 0]
    # a date inside May sees May's month end row (the month of as_of is included)
    curves = vintage.vintage_curves(_book(panel), as_of=date(2025, 5, 1))
    assert curves.filter(pl.col("origination_month") == JAN)["cum_default"].to_list()[-1] == 1


def test_dimension_split_adds_up_to_the_total(panel):
    book = _book(panel).with_columns(
        pl.when(pl.col("loan_id") == 1).then(pl.lit("C")).otherwise(pl.lit("A")).alias("grade")
    )
    as_of = date(2025, 5, 31)
    parts = vintage.partial(book, as_of=as_of, by=("grade",))
    by_grade = vintage.finalize(parts, as_of=as_of, by=("grade",))
    c = by_grade.filter((pl.col("grade") == "C") & (pl.col("mob") == 4))
    assert c["loans"].item() == 1
    assert c["default_rate"].item() == 1.0
    total = vintage.finalize(parts, as_of=as_of)
    assert (
        total.filter((pl.col("origination_month") == JAN) & (pl.col("mob") == 4))["cum_default"].item() == 1
    )


def test_dpd_thresholds_are_inclusive(panel):
    book = panel(
        {
            1: (JAN, [{"dpd": 29}, {"dpd": 0}]),
            2: (JAN, [{"dpd": 30}, {"dpd": 90}]),
            3: (JAN, [{"dpd": 0}, {"dpd": 89}]),
        }
    )
    curves = vintage.vintage_curves(book, as_of=date(2025, 3, 31))
    assert curves["cum_ever30"].to_list() == [1, 2]
    assert curves["cum_ever90"].to_list() == [0, 1]
