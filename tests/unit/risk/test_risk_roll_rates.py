from datetime import date

import polars as pl
import pytest

from xiaodai.risk import roll_rates

JAN = date(2025, 1, 1)


def _book(panel):
    return panel(
        {
            # M0 -> M1 -> M2 -> M0
            1: (JAN, [{"dpd": 0, "balance_fen": 1000}, {"dpd": 15}, {"dpd": 45}, {"dpd": 0}]),
            # M0 -> M0 -> paid off
            2: (JAN, [{"balance_fen": 2000}, {"balance_fen": 1000}, {"status": "closed", "balance_fen": 0}]),
            # M3 -> default, then a recovering month that is not a transition
            3: (
                JAN,
                [
                    {"dpd": 75},
                    {"dpd": 105, "status": "defaulted", "default_flag": True},
                    {"dpd": 135, "status": "defaulted"},
                ],
            ),
        }
    )


def _rate(matrix, frm, to):
    return matrix.filter((pl.col("from") == frm) & (pl.col("to") == to))["roll_rate"].item()


def test_roll_matrix_counts_and_rates(panel):
    matrix = roll_rates.roll_rates(_book(panel), as_of=date(2025, 6, 30))
    assert _rate(matrix, "M0", "M0") == pytest.approx(1 / 3)
    assert _rate(matrix, "M0", "M1") == pytest.approx(1 / 3)
    assert _rate(matrix, "M0", "paid_off") == pytest.approx(1 / 3)
    assert _rate(matrix, "M1", "M2") == 1.0
    assert _rate(matrix, "M2", "M0") == 1.0
    assert _rate(matrix, "M3", "default") == 1.0
    assert int(matrix["count"].sum()) == 6
    assert matrix.height == 4 * 6  # full grid, zeros included


def test_flow_by_balance_and_cure_rates(panel):
    matrix = roll_rates.roll_rates(_book(panel), as_of=date(2025, 6, 30))
    flow = roll_rates.flow_and_cure(matrix)
    m0 = flow.filter(pl.col("from") == "M0")
    # balances in M0 at the first month end: 1000 (loan 1), 2000 and 1000 (loan 2); 1000 flowed to M1
    assert m0["flow_rate"].item() == pytest.approx(1000 / 4000)
    assert m0["cure_rate"].item() is None
    assert flow.filter(pl.col("from") == "M2")["cure_rate"].item() == 1.0
    assert flow.filter(pl.col("from") == "M3")["to"].item() == "default"


def test_as_of_and_since_window(panel):
    # by Feb only the first transitions exist (M0->M1, M0->M0, M3->default)
    matrix = roll_rates.roll_rates(_book(panel), as_of=date(2025, 3, 31))
    assert int(matrix["count"].sum()) == 3
    later = roll_rates.roll_rates(_book(panel), as_of=date(2025, 6, 30), since=date(2025, 3, 31))
    assert int(later["count"].sum()) == 3  # April and May month ends only


def test_a_gap_in_the_months_is_not_a_transition(panel):
    book = panel({1: (JAN, [{"dpd": 0}, {"dpd": 15}])}).with_columns(
        pl.when(pl.col("mob") == 2)
        .then(pl.col("month").dt.offset_by("1mo"))
        .otherwise(pl.col("month"))
        .alias("month")
    )
    assert int(roll_rates.roll_rates(book, as_of=date(2025, 6, 30))["count"].sum()) == 0
