"""Cash-flow series in the three shapes the rate conventions need.

* ``Flow``: a dated amount. Positive = the borrower pays; negative = the borrower receives (an advance,
  net of any fee kept back).
* ``Positioned``: an amount placed at ``t`` whole unit-periods plus a fraction ``f`` of one
  (Regulation Z Appendix J (b)(5): counted back from each flow to the first advance).
* ``YearPositioned``: an amount placed at ``t_years`` (EU Consumer Credit Directive Annex I).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from xiaodai.money.money import to_decimal


@dataclass(frozen=True, slots=True)
class Flow:
    on: date
    amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))


@dataclass(frozen=True, slots=True)
class Positioned:
    amount: Decimal  # positive; the side (advance/payment) is carried by the list it is in
    t: int
    f: Fraction = Fraction(0)


@dataclass(frozen=True, slots=True)
class YearPositioned:
    amount: Decimal
    t_years: Fraction


def parse_fraction(text: str | int | Fraction) -> Fraction:
    """'6/15', '15/365+1/12', '0.5' or an int, exactly."""
    if isinstance(text, Fraction):
        return text
    if isinstance(text, int):
        return Fraction(text)
    total = Fraction(0)
    for part in str(text).replace(" ", "").split("+"):
        if not part:
            raise ValueError(f"bad fraction {text!r}")
        total += Fraction(part)
    return total


def split_sides(flows: list[Flow]) -> tuple[list[Flow], list[Flow]]:
    """(advances, payments) with positive amounts; zero flows are dropped."""
    advances = [Flow(f.on, -f.amount) for f in flows if f.amount < 0]
    payments = [f for f in flows if f.amount > 0]
    return advances, payments


def check_sign_change(flows: list[Flow]) -> None:
    has_in = any(f.amount < 0 for f in flows)
    has_out = any(f.amount > 0 for f in flows)
    if not (has_in and has_out):
        raise ValueError(
            "cash flows need both signs: negative amounts the borrower receives, positive amounts paid back"
        )
