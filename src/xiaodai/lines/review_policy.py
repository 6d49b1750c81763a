"""Periodic limit review (pure): behaviour on the line plus fresh bureau data → an increase offer, a
decrease, a freeze, or no change. The rules are data (``data/line_policy.json``, ``review``): tried in order,
the first whose conditions all hold decides; every outcome carries a reason code."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from xiaodai.lines.limit import LinePolicy


class ReviewAction(enum.Enum):
    KEEP = "keep"
    OFFER_INCREASE = "offer_increase"
    DECREASE = "decrease"
    FREEZE = "freeze"


@dataclass(frozen=True, slots=True)
class ReviewFacts:
    limit_fen: int
    outstanding_fen: int
    grade_max_fen: int  # the line's grade's maximum limit (or a fresh decision's)
    months_on_book: int
    on_time_instalments: int
    current_dpd: int
    max_dpd_6m: int
    bureau_overdue_accounts_now: int
    bureau_max_overdue_months: int

    @property
    def utilisation(self) -> Decimal:
        return Decimal(self.outstanding_fen) / Decimal(self.limit_fen) if self.limit_fen else Decimal(0)

    def value(self, name: str) -> Decimal:
        if name == "utilisation":
            return self.utilisation
        if name not in FACT_FIELDS:
            raise ValueError(f"the review policy names an unknown fact {name!r}")
        return Decimal(getattr(self, name))


FACT_FIELDS = (
    "months_on_book",
    "on_time_instalments",
    "current_dpd",
    "max_dpd_6m",
    "bureau_overdue_accounts_now",
    "bureau_max_overdue_months",
)

OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


@dataclass(frozen=True, slots=True)
class ReviewVerdict:
    action: ReviewAction
    new_limit_fen: int
    reason: str
    policy_version: str


def _holds(condition: dict[str, Any], facts: ReviewFacts) -> bool:
    op = OPS[condition["op"]]
    return bool(op(facts.value(condition["field"]), Decimal(str(condition["value"]))))


def review(facts: ReviewFacts, policy: LinePolicy) -> ReviewVerdict:
    for rule in policy.review:
        if not all(_holds(c, facts) for c in rule["all"]):
            continue
        action = ReviewAction(rule["action"])
        reason = str(rule["reason"])
        if action is ReviewAction.FREEZE:
            return ReviewVerdict(action, facts.limit_fen, reason, policy.version)
        share = Decimal(str(rule["share"]))
        if action is ReviewAction.DECREASE:
            target = int((Decimal(facts.limit_fen) * share).to_integral_value(ROUND_DOWN))
            new = max(policy.round_down(target), facts.outstanding_fen)
            if new < facts.limit_fen:
                return ReviewVerdict(action, new, reason, policy.version)
            continue
        target = int((Decimal(facts.limit_fen) * (1 + share)).to_integral_value(ROUND_DOWN))
        new = policy.round_down(min(target, facts.grade_max_fen, policy.max_limit_fen))
        if new > facts.limit_fen:
            return ReviewVerdict(action, new, reason, policy.version)
    return ReviewVerdict(ReviewAction.KEEP, facts.limit_fen, "LINE_REVIEW_NO_CHANGE", policy.version)
