"""xiaodai.pricing.irr_fast.periodic_irr: the pure-Python fast periodic IRR.

Checked against pyxirr.irr (an independent implementation), against its own NPV equation, against the
project's App J solver (apr.solve_unit_rate), and on its forced fallback path (bracketed_newton).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from unittest.mock import patch

import pytest
import pyxirr
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaodai.pricing import irr_fast
from xiaodai.pricing.apr import solve_unit_rate
from xiaodai.pricing.cashflow import Positioned
from xiaodai.pricing.irr_fast import periodic_irr
from xiaodai.pricing.solver import NoRateError

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amortising_flows(principal: Decimal, annual_rate: Decimal, term: int) -> list[float]:
    """Equal-instalment loan: payment rounded to cents, interest rounded to cents each month, and the
    last payment clears the balance (the rounding residue)."""
    r = annual_rate / 12
    payment = _cents(principal * r / (1 - (1 + r) ** -term)) if r else _cents(principal / term)
    balance = principal
    flows = [-principal]
    for k in range(1, term + 1):
        interest = _cents(balance * r)
        pay = balance + interest if k == term else payment
        balance = balance + interest - pay
        flows.append(pay)
    assert balance == 0
    return [float(x) for x in flows]  # float-ok: rate solving only


@st.composite
def loans(draw: st.DrawFn) -> list[float]:
    principal = Decimal(draw(st.integers(50_000, 3_000_000))) / 100  # 500.00 .. 30000.00
    annual_rate = Decimal(draw(st.integers(0, 3600))) / 10_000  # 0% .. 36%, whole basis points
    term = draw(st.integers(1, 36))
    return amortising_flows(principal, annual_rate, term)


def npv(amounts: list[float], rate: float) -> float:
    return math.fsum(a * (1.0 + rate) ** -k for k, a in enumerate(amounts))


# ---------------------------------------------------------------- agreement and self-consistency


@settings(max_examples=400, deadline=None)
@given(loans())
def test_agrees_with_pyxirr(amounts: list[float]) -> None:
    assert periodic_irr(amounts) == pytest.approx(pyxirr.irr(amounts), abs=1e-9, rel=1e-9)


@settings(max_examples=400, deadline=None)
@given(loans())
def test_solves_its_own_npv_equation(amounts: list[float]) -> None:
    rate = periodic_irr(amounts)
    scale = math.fsum(abs(a) for a in amounts)
    assert abs(npv(amounts, rate)) <= 1e-12 * scale


@settings(max_examples=100, deadline=None)
@given(loans())
def test_agrees_with_the_app_j_solver(amounts: list[float]) -> None:
    advances = [Positioned(Decimal(repr(-amounts[0])), 0, Fraction(0))]
    payments = [Positioned(Decimal(repr(a)), k, Fraction(0)) for k, a in enumerate(amounts) if k]
    assert periodic_irr(amounts) == pytest.approx(solve_unit_rate(advances, payments), abs=1e-12, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(loans())
def test_fallback_path_agrees(amounts: list[float]) -> None:
    fast = periodic_irr(amounts)
    with patch.object(irr_fast, "_MAX_NEWTON", 0):  # no Newton step: straight to bracketed_newton
        safe = periodic_irr(amounts)
    assert safe == pytest.approx(fast, abs=1e-12, rel=1e-12)


def test_a_24_month_loan() -> None:
    amounts = [-10000.0] + [499.24] * 23 + [499.26]
    rate = periodic_irr(amounts)
    assert rate == pytest.approx(pyxirr.irr(amounts), rel=1e-12)
    assert rate * 1200 == pytest.approx(17.9999335208, abs=1e-9)  # the CN headline figure of that loan


# ---------------------------------------------------------------- zero and negative rates


def test_zero_rate_loan_gives_zero() -> None:
    assert periodic_irr([-1200.0] + [100.0] * 12) == 0.0


@pytest.mark.parametrize(
    ("principal", "term"),
    [(Decimal("10000"), 24), (Decimal("999.99"), 7), (Decimal("30000"), 36), (Decimal("500"), 1)],
)
def test_zero_rate_loan_with_a_residue_gives_zero(principal: Decimal, term: int) -> None:
    amounts = amortising_flows(principal, Decimal(0), term)
    assert abs(periodic_irr(amounts)) < 1e-15


def test_negative_rate_when_payments_sum_to_less_than_the_advance() -> None:
    amounts = [-1000.0] + [80.0] * 12  # pays back 960
    rate = periodic_irr(amounts)
    assert rate < 0
    assert rate == pytest.approx(pyxirr.irr(amounts), rel=1e-12)
    assert abs(npv(amounts, rate)) < 1e-10


@settings(max_examples=200, deadline=None)
@given(st.integers(50_000, 3_000_000), st.integers(1, 5000), st.integers(1, 36))
def test_negative_rates(principal_cents: int, shortfall_bp: int, term: int) -> None:
    principal = principal_cents / 100
    payment = round(principal * (1 - shortfall_bp / 10_000) / term, 2)
    amounts = [-principal] + [payment] * term
    if round(payment * 100) * term >= principal_cents:  # rounding can make it break even (in whole cents)
        return
    rate = periodic_irr(amounts)
    assert rate < 0
    assert rate == pytest.approx(pyxirr.irr(amounts), abs=1e-9, rel=1e-9)


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "amounts",
    [
        [-100.0, 500.0],  # 400% in one period
        [-100.0, 0.0, 0.0, 110.0],  # zeros between
        [0.0, 0.0, -100.0, 0.0, 120.0],  # leading zeros: the clock starts at the first flow
        [100.0, -50.0, -60.0],  # the other sign convention
        [-1000.0] + [1.0] * 10,  # very negative rate
        [-1000.0, 500.0, -100.0, 700.0],  # more than one sign change (one root)
        [-1000.0] + [50.0] * 5 + [-10.0] * 3 + [900.0],
        [-100.0, -100.0, -100.0] + [60.0] * 10,  # several advances
        [-100.0] + [10.0] * 360,  # long run
        [-9800.0] + [499.24] * 23 + [499.26],  # fee kept back from the advance
        [-10000.0] + [0.0] * 5 + [499.24] * 23 + [499.26],  # payment holiday
    ],
)
def test_shapes_agree_with_pyxirr(amounts: list[float]) -> None:
    rate = periodic_irr(amounts)
    assert rate == pytest.approx(pyxirr.irr(amounts), abs=1e-9, rel=1e-9)
    scale = math.fsum(abs(a) for a in amounts)
    assert abs(npv(amounts, rate)) <= 1e-12 * scale


def test_leading_zeros_do_not_change_the_rate() -> None:
    amounts = [-10000.0] + [499.24] * 23 + [499.26]
    assert periodic_irr([0.0, 0.0, *amounts]) == pytest.approx(periodic_irr(amounts), rel=1e-13)


def test_sign_convention_does_not_change_the_rate() -> None:
    amounts = [-10000.0] + [499.24] * 23 + [499.26]
    assert periodic_irr([-a for a in amounts]) == pytest.approx(periodic_irr(amounts), rel=1e-13)


def test_integer_amounts() -> None:
    assert periodic_irr([-100, 110]) == pytest.approx(0.1, rel=1e-14)


# ---------------------------------------------------------------- no rate


@pytest.mark.parametrize(
    "amounts", [[], [0.0], [-5.0], [1.0, 2.0], [-1.0, -2.0], [0.0, 0.0], [0.0, 3.0, 0.0]]
)
def test_no_sign_change_raises(amounts: list[float]) -> None:
    with pytest.raises(NoRateError):
        periodic_irr(amounts)


@pytest.mark.parametrize(
    "amounts", [[math.nan, 1.0], [-1.0, math.inf], [-math.inf, 1.0], [-1.0, 2.0, math.nan]]
)
def test_non_finite_amounts_raise(amounts: list[float]) -> None:
    with pytest.raises(ValueError, match="finite"):
        periodic_irr(amounts)
