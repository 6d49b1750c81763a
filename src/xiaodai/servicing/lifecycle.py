"""Loan states and the transitions between them. Illegal transitions are refused, never coerced."""

from __future__ import annotations

import enum


class LoanState(enum.Enum):
    APPROVED = "approved"
    SIGNED = "signed"
    ACTIVE = "active"  # disbursed
    OVERDUE = "overdue"
    SETTLED = "settled"
    WRITTEN_OFF = "written-off"
    CANCELLED = "cancelled"


ALLOWED: dict[LoanState, frozenset[LoanState]] = {
    LoanState.APPROVED: frozenset({LoanState.SIGNED, LoanState.CANCELLED}),
    LoanState.SIGNED: frozenset({LoanState.ACTIVE, LoanState.CANCELLED}),
    LoanState.ACTIVE: frozenset({LoanState.OVERDUE, LoanState.SETTLED, LoanState.WRITTEN_OFF}),
    LoanState.OVERDUE: frozenset({LoanState.ACTIVE, LoanState.SETTLED, LoanState.WRITTEN_OFF}),
    LoanState.SETTLED: frozenset({LoanState.ACTIVE}),  # only by reversing the settling payment
    LoanState.WRITTEN_OFF: frozenset(),
    LoanState.CANCELLED: frozenset(),
}


class IllegalTransitionError(ValueError):
    def __init__(self, current: LoanState, target: LoanState) -> None:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none"
        super().__init__(f"a loan that is {current.value} cannot become {target.value} (allowed: {allowed})")
        self.current = current
        self.target = target


def transition(current: LoanState, target: LoanState, *, allow_same: bool = True) -> LoanState:
    """The new state, or ``IllegalTransitionError``. ``allow_same`` lets status refreshes stay put."""
    if target is current and allow_same:
        return current
    if target not in ALLOWED[current]:
        raise IllegalTransitionError(current, target)
    return target


def is_open(state: LoanState) -> bool:
    """Disbursed and not finished: the loan owes or may owe money."""
    return state in (LoanState.ACTIVE, LoanState.OVERDUE)
