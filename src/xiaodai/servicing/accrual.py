"""Interest and penalty arithmetic in integer fen (half-up), and the penalty cap.

Daily rates are carried as integers in parts per 10^9 (``*_e9``) so that the same arithmetic runs in
Python and in SQL on every database: penalty = (overdue_fen × rate_e9 + 5×10^8) div 10^9.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

E9 = 1_000_000_000


def daily_rate_e9(annual_rate: Decimal, days_in_year: int) -> int:
    """An annual rate (fraction) as a daily rate in parts per 10^9, rounded half up."""
    return int((annual_rate * E9 / days_in_year).to_integral_value(rounding=ROUND_HALF_UP))


def penalty_for_day(overdue_principal_fen: int, rate_e9: int) -> int:
    if overdue_principal_fen <= 0 or rate_e9 <= 0:
        return 0
    return (overdue_principal_fen * rate_e9 + E9 // 2) // E9


def simple_interest_fen(principal_fen: int, annual_rate: Decimal, days: int, days_in_year: int) -> int:
    """principal × annual × days / basis, half up.

    E.g. 1,000,000 at 13.5% for 30 days on actual/365 accrues 11,095.89.
    """
    value = Decimal(principal_fen) * annual_rate * days / days_in_year
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def prorated_fen(amount_fen: int, days_used: int, period_days: int) -> int:
    """Interest only for the days used (民法典 Art. 677): a period's interest pro rata, half up."""
    if period_days <= 0:
        raise ValueError("period must have days")
    days = max(0, min(days_used, period_days))
    return (amount_fen * days * 2 + period_days) // (period_days * 2)


@dataclass(frozen=True, slots=True)
class PenaltyRate:
    annual_rate: Decimal  # effective penalty annual rate after the cap
    reason: str  # PENALTY_AS_DISCLOSED | PENALTY_CAPPED_BY_PROFILE | PENALTY_NONE


def capped_penalty_rate(
    product_penalty_annual: Decimal, *, loan_apr_percent: Decimal, cap_limit_percent: Decimal | None
) -> PenaltyRate:
    """The penalty rate such that contract APR + penalty stays within the cap profile's limit.

    Courts and the 24% guidance look at the comprehensive annual cost: interest, fees and penalty
    together. The engine lowers the penalty rate rather than let the total exceed the cap, and says so.
    """
    if product_penalty_annual <= 0:
        return PenaltyRate(Decimal(0), "PENALTY_NONE")
    if cap_limit_percent is None:
        return PenaltyRate(product_penalty_annual, "PENALTY_AS_DISCLOSED")
    headroom = max(Decimal(0), (cap_limit_percent - loan_apr_percent) / 100)
    if product_penalty_annual <= headroom:
        return PenaltyRate(product_penalty_annual, "PENALTY_AS_DISCLOSED")
    return PenaltyRate(
        headroom.quantize(Decimal("0.000001"), rounding="ROUND_DOWN"), "PENALTY_CAPPED_BY_PROFILE"
    )
