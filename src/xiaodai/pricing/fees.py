"""Fees. Every fee is part of the cost of credit and goes into the APR cash flows (RULES.md §1)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from xiaodai.money.money import MoneyError, to_decimal
from xiaodai.money.rounding import Rounding, round_money

ZERO = Decimal(0)


class UpfrontTiming(enum.Enum):
    DEDUCTED = "deducted"  # kept back from the disbursement: the borrower receives principal - fee
    AT_SIGNING = "at-signing"  # paid by the borrower at signing: same net effect at t = 0


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The fees of one loan. Amounts in currency units (Decimal), rates as fractions."""

    upfront: Decimal = ZERO
    upfront_timing: UpfrontTiming = UpfrontTiming.DEDUCTED
    monthly_fixed: Decimal = ZERO  # a fixed fee added to every instalment
    monthly_rate_on_principal: Decimal = ZERO  # % of the ORIGINAL principal each period (分期手续费)

    def __post_init__(self) -> None:
        for name in ("upfront", "monthly_fixed", "monthly_rate_on_principal"):
            value = to_decimal(getattr(self, name))
            if value < 0:
                raise MoneyError(f"{name.replace('_', ' ')} must not be negative")
            object.__setattr__(self, name, value)

    def per_period(self, principal: Decimal) -> Decimal:
        """The fee charged with each instalment, rounded half-up to the cent."""
        flat = round_money(principal * self.monthly_rate_on_principal, rule=Rounding.HALF_UP_CENT)
        return round_money(self.monthly_fixed, rule=Rounding.HALF_UP_CENT) + flat

    @property
    def is_free(self) -> bool:
        return self.upfront == 0 and self.monthly_fixed == 0 and self.monthly_rate_on_principal == 0
