"""The one rounding function. Every caller names the rule it applies.

Chinese banking default (and the conformance suite's ``money`` convention): each period's amount is
rounded to 0.01 with ROUND_HALF_UP (四舍五入); the last instalment absorbs the residue.
"""

from __future__ import annotations

import enum
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


class Rounding(enum.Enum):
    """A named rounding rule: the Decimal mode plus the quantum it rounds to."""

    HALF_UP_CENT = ("half-up to 0.01", ROUND_HALF_UP, CENT)
    HALF_EVEN_CENT = ("banker's rounding to 0.01", ROUND_HALF_EVEN, CENT)
    DOWN_CENT = ("truncate to 0.01", ROUND_DOWN, CENT)

    def __init__(self, label: str, mode: str, quantum: Decimal) -> None:
        self.label = label
        self.mode = mode
        self.quantum = quantum


def round_money(value: Decimal, *, rule: Rounding) -> Decimal:
    """Round ``value`` by ``rule``. There is no default rule on purpose."""
    return value.quantize(rule.quantum, rounding=rule.mode)


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round a *rate or percentage* for disclosure (e.g. EU APRC to one decimal, half up)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
