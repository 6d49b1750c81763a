"""Money, rates, rounding, day counts and calendars: the pure arithmetic every domain shares."""

from xiaodai.money.money import Money, MoneyError
from xiaodai.money.rounding import Rounding, round_money

__all__ = ["Money", "MoneyError", "Rounding", "round_money"]
