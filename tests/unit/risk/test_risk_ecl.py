"""ECL on one loan at a time, against sums worked by hand from the formulas in risk/ecl.py."""

from datetime import date

import polars as pl
import pytest

from xiaodai.risk import ecl
from xiaodai.risk.ecl import EclParams, Parameters, Scenario

JAN = date(2025, 1, 1)
AS_OF = date(2025, 2, 28)  # the loan's first month end: mob 1


def _parameters(lgd=0.5, prepay=0.0, hazards=None):
    hazards = hazards or {2: 0.1, 3: 0.2}
    rows = [{"grade": "A", "mob": m, "hazard": h} for m, h in hazards.items()]
    rows += [{"grade": "A", "mob": None, "hazard": 0.05}, {"grade": None, "mob": None, "hazard": 0.05}]
    frame = pl.DataFrame(rows, schema={"grade": pl.String, "mob": pl.Int16, "hazard": pl.Float64})
    return Parameters(frame, lgd, prepay)


def _one(panel, *, scenario=ecl.BASE, parameters=None, params=None, **row):
    book = panel({1: (JAN, [{"term": 3, **row}])})
    table = ecl.loan_ecl(
        book,
        as_of=AS_OF,
        parameters=parameters or _parameters(),
        params=params or EclParams(),
        scenario=scenario,
    ).collect()
    return table.row(0, named=True)


def test_stage1_zero_rate_two_months_left(panel):
    # n = 3 - 1 = 2; PD1 = 0.1, PD2 = 0.9 * 0.2 = 0.18; EAD 1000.00 then 500.00 (r = 0: linear)
    row = _one(panel)
    assert row["stage"] == 1
    assert row["ecl_fen"] == round(0.1 * 0.5 * 100_000 + 0.18 * 0.5 * 50_000)  # 9500
    assert row["ecl_fen"] == 9500
    assert row["ecl_lifetime_fen"] == 9500
    assert row["cecl_fen"] == 9500


def test_discounting_at_the_effective_rate(panel):
    r = 0.12 / 12
    ead2 = 100_000 * ((1 + r) ** 2 - (1 + r)) / ((1 + r) ** 2 - 1)
    discounted = 0.1 * 0.5 * 100_000 / (1 + r) + 0.18 * 0.5 * ead2 / (1 + r) ** 2
    undiscounted = 0.1 * 0.5 * 100_000 + 0.18 * 0.5 * ead2
    row = _one(panel, annual_rate=0.12)
    assert row["ecl_fen"] == int(discounted + 0.5)
    assert row["cecl_fen"] == int(undiscounted + 0.5)
    assert row["cecl_fen"] > row["ecl_fen"]


def test_twelve_month_window_versus_lifetime(panel):
    # 20 months left, flat hazard 0.01 from the grade's pooled value: 12-month < lifetime
    params = _parameters(hazards={2: 0.01})
    row = _one(panel, parameters=params, term=21)
    assert row["stage"] == 1
    assert row["ecl_12m_fen"] < row["ecl_lifetime_fen"]
    assert row["ecl_fen"] == row["ecl_12m_fen"]
    flat = [0.01] + [0.05] * 19  # mob 2 from the table, later mobs from the pooled 0.05
    survival, expected = 1.0, 0.0
    for h, hz in enumerate(flat[:12], start=1):
        ead = 100_000 * (20 - h + 1) / 20
        expected += survival * hz * 0.5 * ead
        survival *= 1 - hz
    assert row["ecl_12m_fen"] == int(expected + 0.5)


@pytest.mark.parametrize(("dpd", "stage"), [(29, 1), (30, 2)])
def test_thirty_days_backstop(panel, dpd, stage):
    assert _one(panel, dpd=dpd)["stage"] == stage


@pytest.mark.parametrize(("pd_current", "stage"), [(0.0999, 1), (0.1, 2)])
def test_pd_deterioration_at_the_ratio(panel, pd_current, stage):
    # origination PD 0.05, ratio 2.0: exactly double is a significant increase
    row = _one(panel, predicted_pd=0.05, pd_current=pd_current)
    assert row["stage"] == stage


def test_stage2_is_lifetime_with_the_deterioration_scale(panel):
    # pd_current = 3 x origination: hazards 0.3 and 0.6 over both remaining months
    row = _one(panel, predicted_pd=0.05, pd_current=0.15)
    assert row["stage"] == 2
    assert row["ecl_fen"] == round(0.3 * 0.5 * 100_000 + 0.7 * 0.6 * 0.5 * 50_000)  # 15000 + 10500


def test_stage3_remaining_exposure_less_expected_recovery(panel):
    book = panel(
        {
            1: (
                JAN,
                [
                    {"term": 3, "dpd": 105, "status": "defaulted", "default_flag": True},
                    {"term": 3, "dpd": 135, "status": "defaulted", "recovery_fen": 10_000},
                ],
            )
        }
    )
    row = ecl.loan_ecl(book, as_of=date(2025, 3, 31), parameters=_parameters(), params=EclParams()).collect()
    row = row.row(0, named=True)
    assert row["stage"] == 3
    # exposure at default 1000.00, recovered 100.00; LGD 0.5 expects 500.00 back in all, 400.00 still to come
    assert row["exposure_fen"] == 90_000
    assert row["ecl_fen"] == 50_000


def test_prepayment_lowers_the_later_exposure(panel):
    row = _one(panel, parameters=_parameters(prepay=0.1))
    assert row["ecl_fen"] == round(0.1 * 0.5 * 100_000 + 0.18 * 0.5 * 50_000 * 0.9)  # 9050


def test_stress_multiplies_pd_and_shifts_lgd(panel):
    scenario = Scenario("severe", pd_multiplier=2.0, lgd_shift=0.1)
    row = _one(panel, scenario=scenario)
    # hazards 0.2 and 0.4; LGD 0.6
    assert row["ecl_fen"] == round(0.2 * 0.6 * 100_000 + 0.8 * 0.4 * 0.6 * 50_000)  # 12000 + 9600
    # the multiplier also moves staging: pd_current 0.05 x 2 = 2 x origination -> stage 2
    assert row["stage"] == 2


def test_closed_and_written_off_loans_hold_no_ecl(panel):
    book = panel({1: (JAN, [{"status": "closed", "balance_fen": 0}]), 2: (JAN, [{"status": "written_off"}])})
    table = ecl.loan_ecl(book, as_of=AS_OF, parameters=_parameters(), params=EclParams()).collect()
    assert table.height == 0
    sums = ecl.finalize(ecl.partial(book, as_of=AS_OF, parameters=_parameters(), params=EclParams()))
    assert sums["ecl_fen"].to_list() == [0, 0, 0]


def test_parameters_from_history(panel):
    book = panel(
        {
            1: (
                JAN,
                [
                    {},
                    {"dpd": 105, "status": "defaulted", "default_flag": True, "balance_fen": 80_000},
                    {"status": "defaulted", "recovery_fen": 20_000, "balance_fen": 80_000},
                    {"status": "written_off", "balance_fen": 80_000},
                ],
            ),
            2: (JAN, [{}, {}, {"status": "prepaid", "balance_fen": 0}]),
            3: (JAN, [{}, {}, {}, {}]),
        }
    )
    parts = ecl.parameters_partial(book, as_of=date(2025, 6, 30))
    params = ecl.parameters_finalize([parts], EclParams(min_at_risk=1))
    assert params.lgd == pytest.approx(1 - 20_000 / 80_000)
    cells = {m: h for g, m, h in params.hazard.iter_rows() if g == "A" and m is not None}
    assert cells[1] == 0.0
    assert cells[2] == pytest.approx(1 / 3)  # loans 1, 2, 3 open at mob 2; loan 1 defaults
    # at risk: mob1 3, mob2 3, mob3 2 (loan 2 prepays), mob4 1 -> 9 rows, one prepaid
    assert params.prepay_rate == pytest.approx(1 / 9)
    pooled = ecl.parameters_finalize([parts], EclParams(min_at_risk=4))
    cells = {m: h for g, m, h in pooled.hazard.iter_rows() if g == "A" and m is not None}
    assert cells[2] == pytest.approx(1 / 9)  # 3 at risk < 4: the grade pooled over 9 at-risk rows
