"""Rate types. Stored as decimal fractions; percent exists only for display.

RULES.md §1: the monthly rate is annual/12 exactly (decimal arithmetic) unless a monthly rate is quoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xiaodai.money.money import MoneyError, to_decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class AnnualRate:
    """Annual nominal rate as a fraction (0.15 = 15%)."""

    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", to_decimal(self.value))
        if self.value < 0:
            raise MoneyError(f"annual rate must not be negative: {self.value}")

    @classmethod
    def of(cls, value: Decimal | int | str) -> AnnualRate:
        return cls(to_decimal(value))

    @classmethod
    def from_percent(cls, value: Decimal | int | str) -> AnnualRate:
        return cls(to_decimal(value) / HUNDRED)

    def monthly(self) -> MonthlyRate:
        return MonthlyRate(self.value / 12)

    def daily(self, days_in_year: int) -> DailyRate:
        return DailyRate(self.value / days_in_year)

    def percent(self) -> Decimal:
        return self.value * HUNDRED


@dataclass(frozen=True, slots=True)
class MonthlyRate:
    """Periodic monthly rate as a fraction (0.0125 = 1.25% per month)."""

    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", to_decimal(self.value))

    def annual_nominal(self) -> AnnualRate:
        return AnnualRate(self.value * 12)


@dataclass(frozen=True, slots=True)
class DailyRate:
    """Daily rate as a fraction (e.g. 0.0005 = 万分之五 per day)."""

    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", to_decimal(self.value))
