"""A frozen money value: Decimal amount plus ISO currency. Floats are refused.

Storage boundaries use integer minor units (fen); see docs/adr/0001-money-representation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MINOR_UNITS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0}

Number = Decimal | int | str


class MoneyError(ValueError):
    """Invalid money value or operation (float input, currency mismatch, sub-cent at a boundary)."""


def to_decimal(value: object) -> Decimal:
    """Convert str/int/Decimal to a finite Decimal.

    A float (or bool) raises: binary floats never hold money.
    """
    if isinstance(value, (bool, float)):
        raise MoneyError(f"refusing {type(value).__name__} {value!r}: pass money as str, int or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation as exc:
            raise MoneyError(f"not a number: {value!r}") from exc
    else:
        raise MoneyError(f"cannot make money from {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if self.currency not in MINOR_UNITS:
            raise MoneyError(f"unknown currency {self.currency!r}")

    @classmethod
    def of(cls, value: Number, currency: str = "CNY") -> Money:
        return cls(to_decimal(value), currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str = "CNY") -> Money:
        """From integer minor units (fen for CNY), the storage representation."""
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise MoneyError(f"minor units must be int, got {type(minor).__name__}")
        return cls(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)

    def to_minor(self) -> int:
        """To integer minor units. Sub-minor amounts raise instead of silently rounding."""
        scaled = self.amount.scaleb(MINOR_UNITS[self.currency])
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{self} has fractions of a minor unit; round it first")
        return int(scaled)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float | bool) or not isinstance(factor, Decimal | int):
            raise MoneyError("multiply money by Decimal or int only")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        places = MINOR_UNITS[self.currency]
        return f"{self.amount:.{places}f} {self.currency}"

    def to_json(self) -> str:
        """JSON carries money as a string with the currency's minor-unit places."""
        return f"{self.amount:.{MINOR_UNITS[self.currency]}f}"


def money_str(amount: Decimal, places: int = 2) -> str:
    """Format a Decimal amount for JSON/display without going through float."""
    return f"{amount:.{places}f}"


def fen_json(fen: int) -> str:
    """``Money.from_minor(fen).to_json()`` for CNY (two places) by integer arithmetic, for read paths that
    format many amounts: ``12345`` → ``"123.45"``, ``-5`` → ``"-0.05"``. A non-int raises as there."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise MoneyError(f"minor units must be int, got {type(fen).__name__}")
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"
