"""What a drawdown costs on each plan (shell over the journey's pricing): the one pricing call a draw's
key-facts statement and the line's headline rate both use, so that the line never shows a rate its
drawdowns' statements do not.

- ``instalment``: equal instalments over the chosen term, interest at annual / 12;
- ``daily`` (随借随还): interest-first over ``policy.daily_plan_months``, each period's interest the daily
  rate × its actual days (``lines.daily_interest``), so its IRR-based APR is a little above the nominal rate
  and depends on the month lengths from the draw date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from xiaodai.journey import service as journey
from xiaodai.lines import daily_interest
from xiaodai.lines.limit import LinePolicy
from xiaodai.money.rounding import round_half_up

# the amount the line's headline prices a draw at (the product has no fixed fee: the APR does not depend on
# the amount beyond cent rounding)
REPRESENTATIVE_FEN = 1_000_000


def price_plan(
    *,
    amount_fen: int,
    plan: str,
    term: int | None,
    annual_rate: Decimal,
    today: date,
    policy: LinePolicy,
    kfs_extra: dict[str, Any] | None = None,
) -> journey.PricedOffer:
    daily = plan == "daily"
    return journey.price_offer(
        amount=Decimal(amount_fen) / 100,
        term=policy.daily_plan_months if daily else int(term or 0),
        method="interest-first" if daily else "equal-installment",
        annual_rate=annual_rate,
        product_name="standard",
        today=today,
        kfs_extra=kfs_extra,
        # the daily plan's interest is the daily rate × each period's actual days (28 to 31), so the KFS's
        # schedule and its IRR-based APR are those of the interest actually charged
        periodic_daycount=daily_interest.DAYCOUNT if daily else None,
    )


def plan_rates(annual_rate: Decimal, *, today: date, policy: LinePolicy) -> dict[str, Any]:
    """The APR (IRR, every cost included, as the KFS's headline: 2 decimals) of a draw made ``today`` on
    each plan — instalments at the shortest and the longest term, the daily plan — and their range."""

    def apr(plan: str, term: int | None) -> Decimal:
        priced = price_plan(
            amount_fen=REPRESENTATIVE_FEN, plan=plan, term=term, annual_rate=annual_rate, today=today,
            policy=policy,
        )  # fmt: skip
        return Decimal(str(priced.kfs["headline"]["apr_percent"]))

    instalment = sorted({apr("instalment", policy.min_term), apr("instalment", policy.max_term)})
    daily = apr("daily", None)
    every = [*instalment, daily]
    return {
        "apr_min_percent": str(round_half_up(min(every), 2)),
        "apr_max_percent": str(round_half_up(max(every), 2)),
        "instalment": {
            "apr_min_percent": str(instalment[0]),
            "apr_max_percent": str(instalment[-1]),
            "min_term": policy.min_term,
            "max_term": policy.max_term,
        },
        "daily": {"apr_percent": str(daily), "months": policy.daily_plan_months},
    }
