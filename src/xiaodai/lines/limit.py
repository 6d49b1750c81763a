"""A credit line's states, limit and limit changes (pure).

Amounts are integer fen. ``available = limit − outstanding principal`` of the line's drawdowns; a decrease
never takes the limit below the outstanding principal, so the available limit is never negative. Every
change of limit or state is a ``LimitChange`` with a reason code, and every one yields a ``Notice`` to the
borrower (never silent).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from xiaodai.money.dates import add_months


class LineError(ValueError):
    """Bad input or a refused line operation (HTTP 4xx with the message; CLI exit 2)."""

    status = 422

    def __init__(self, message: str, reason: str = "LINE_REFUSED") -> None:
        super().__init__(message)
        self.reason = reason


class LineState(enum.Enum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


ALLOWED = {
    LineState.ACTIVE: {LineState.FROZEN, LineState.CLOSED},
    LineState.FROZEN: {LineState.ACTIVE, LineState.CLOSED},
    LineState.CLOSED: set(),
}


def transition(current: LineState, to: LineState) -> LineState:
    if to not in ALLOWED[current]:
        raise LineError(f"a {current.value} line cannot become {to.value}", "LINE_ILLEGAL_TRANSITION")
    return to


class ChangeKind(enum.Enum):
    GRANT = "grant"
    INCREASE = "increase"
    DECREASE = "decrease"
    INCREASE_OFFERED = "increase-offered"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    CLOSE = "close"
    REDECISION = "redecision"


@dataclass(frozen=True, slots=True)
class LinePolicy:
    version: str
    max_limit_fen: int
    min_draw_fen: int
    rounding_fen: int
    line_months: int
    min_term: int
    max_term: int
    daily_plan_months: int
    daycount: str
    review: tuple[dict[str, Any], ...]

    def expiry(self, granted_on: date) -> date:
        return add_months(granted_on, self.line_months)

    def round_down(self, fen: int) -> int:
        return fen // self.rounding_fen * self.rounding_fen


def _fen(text: str) -> int:
    value = Decimal(text) * 100
    if value != value.to_integral_value():
        raise ValueError(f"amount {text!r} has more than 2 decimals")
    return int(value)


def parse_policy(text: str) -> LinePolicy:
    raw = json.loads(text)
    policy = LinePolicy(
        version=str(raw["version"]),
        max_limit_fen=_fen(raw["max_limit"]),
        min_draw_fen=_fen(raw["min_draw"]),
        rounding_fen=_fen(raw["limit_rounding"]),
        line_months=int(raw["line_months"]),
        min_term=int(raw["terms"]["min"]),
        max_term=int(raw["terms"]["max"]),
        daily_plan_months=int(raw["daily_plan_months"]),
        daycount=str(raw["daily_plan_daycount"]),
        review=tuple(raw["review"]),
    )
    if policy.max_limit_fen > 3_000_000:
        raise ValueError("a credit line is at most 30,000 CNY")
    return policy


@cache
def default_policy() -> LinePolicy:
    text = resources.files("xiaodai.lines").joinpath("data/line_policy.json").read_text(encoding="utf-8")
    return parse_policy(text)


@dataclass(frozen=True, slots=True)
class LimitChange:
    kind: ChangeKind
    old_limit_fen: int
    new_limit_fen: int
    reason: str
    old_state: LineState
    new_state: LineState


@dataclass(frozen=True, slots=True)
class Notice:
    """What the borrower is told about a change: a reason code, the limits before and after."""

    kind: str
    reason: str
    old_limit_fen: int
    new_limit_fen: int
    state: str


def notice_for(change: LimitChange) -> Notice:
    return Notice(
        change.kind.value, change.reason, change.old_limit_fen, change.new_limit_fen, change.new_state.value
    )


def available_fen(limit_fen: int, outstanding_fen: int) -> int:
    return limit_fen - outstanding_fen


def grant(
    limit_fen: int, *, grade_max_fen: int, policy: LinePolicy, reason: str = "LINE_GRANTED"
) -> LimitChange:
    """The first limit: the decision's limit, rounded down, within the grade's and the line maximum."""
    capped = policy.round_down(min(limit_fen, grade_max_fen, policy.max_limit_fen))
    if capped < policy.min_draw_fen:
        raise LineError("the decision gives no usable limit", "LINE_NO_LIMIT")
    return LimitChange(ChangeKind.GRANT, 0, capped, reason, LineState.ACTIVE, LineState.ACTIVE)


def change_limit(
    *,
    state: LineState,
    limit_fen: int,
    outstanding_fen: int,
    new_limit_fen: int,
    reason: str,
    policy: LinePolicy,
    kind: ChangeKind | None = None,
) -> LimitChange:
    """A new limit: rounded down, at most the line maximum, never below the outstanding principal."""
    if state is LineState.CLOSED:
        raise LineError("a closed line's limit does not change", "LINE_CLOSED")
    if new_limit_fen < 0:
        raise LineError("a limit cannot be negative", "LINE_BAD_LIMIT")
    new = max(policy.round_down(min(new_limit_fen, policy.max_limit_fen)), outstanding_fen)
    chosen = kind or (ChangeKind.INCREASE if new > limit_fen else ChangeKind.DECREASE)
    return LimitChange(chosen, limit_fen, new, reason, state, state)


def change_state(
    *, state: LineState, to: LineState, limit_fen: int, outstanding_fen: int, reason: str
) -> LimitChange:
    kind = {
        LineState.FROZEN: ChangeKind.FREEZE,
        LineState.ACTIVE: ChangeKind.UNFREEZE,
        LineState.CLOSED: ChangeKind.CLOSE,
    }[to]
    if to is LineState.CLOSED and outstanding_fen:
        raise LineError(
            "a line with outstanding drawdowns cannot be closed: freeze it, or repay the drawdowns first",
            "LINE_HAS_OUTSTANDING",
        )
    transition(state, to)
    new_limit = 0 if to is LineState.CLOSED else limit_fen
    return LimitChange(kind, limit_fen, new_limit, reason, state, to)


@dataclass(frozen=True, slots=True)
class DrawVerdict:
    allowed: bool
    reason: str


def check_draw(
    *,
    state: LineState,
    expires_on: date,
    limit_fen: int,
    outstanding_fen: int,
    amount_fen: int,
    term: int | None,
    on: date,
    policy: LinePolicy,
) -> DrawVerdict:
    """Whether a drawdown of ``amount_fen`` (``term`` months, or None for the daily plan) may be made."""
    if state is LineState.FROZEN:
        return DrawVerdict(False, "LINE_FROZEN")
    if state is LineState.CLOSED:
        return DrawVerdict(False, "LINE_CLOSED")
    if on > expires_on:
        return DrawVerdict(False, "LINE_EXPIRED")
    if amount_fen < policy.min_draw_fen:
        return DrawVerdict(False, "DRAW_BELOW_MINIMUM")
    if amount_fen > available_fen(limit_fen, outstanding_fen):
        return DrawVerdict(False, "DRAW_ABOVE_AVAILABLE")
    if term is not None and not policy.min_term <= term <= policy.max_term:
        return DrawVerdict(False, "DRAW_BAD_TERM")
    return DrawVerdict(True, "DRAW_ALLOWED")


DRAW_MESSAGES = {
    "LINE_FROZEN": "the line is frozen: no drawdowns until it is unfrozen",
    "LINE_CLOSED": "the line is closed",
    "LINE_EXPIRED": "the line has expired: ask for a new decision",
    "DRAW_BELOW_MINIMUM": "the amount is below the minimum drawdown",
    "DRAW_ABOVE_AVAILABLE": "the amount is more than the available limit",
    "DRAW_BAD_TERM": "the term is outside the allowed range",
}
