"""Repayment allocation: which dues a payment settles, in the product's configured order."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


class Component(enum.Enum):
    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AllocationOrder(enum.Enum):
    # overdue penalty → overdue interest → overdue principal → fees → current interest → current principal
    OVERDUE_FIRST = "overdue-first"
    # Fineract style, oldest instalment first: penalty, fee, interest, principal within each instalment
    PENALTY_FEE_INTEREST_PRINCIPAL = "penalty-fee-interest-principal"
    # every penalty, then every interest, then fees, then principal (oldest first within each)
    INTEREST_FIRST = "interest-first"


@dataclass(frozen=True, slots=True)
class Due:
    period: int
    component: Component
    due_on: date
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Allocation:
    period: int
    component: Component
    amount_fen: int


_WITHIN = {Component.PENALTY: 0, Component.FEE: 1, Component.INTEREST: 2, Component.PRINCIPAL: 3}


def _key(due: Due, order: AllocationOrder, as_of: date) -> tuple[int, int, int]:
    overdue = due.due_on < as_of
    if order is AllocationOrder.OVERDUE_FIRST:
        if overdue and due.component is not Component.FEE:
            rank = {Component.PENALTY: 0, Component.INTEREST: 1, Component.PRINCIPAL: 2}[due.component]
        elif due.component is Component.FEE:
            rank = 3
        else:
            rank = {Component.PENALTY: 0, Component.INTEREST: 4, Component.PRINCIPAL: 5}[due.component]
        return rank, due.period, 0
    if order is AllocationOrder.PENALTY_FEE_INTEREST_PRINCIPAL:
        return due.period, _WITHIN[due.component], 0
    rank = {Component.PENALTY: 0, Component.INTEREST: 1, Component.FEE: 2, Component.PRINCIPAL: 3}[
        due.component
    ]
    return rank, due.period, 0


def allocate(
    dues: Sequence[Due], amount_fen: int, *, order: AllocationOrder, as_of: date
) -> tuple[list[Allocation], int]:
    """Settle ``dues`` with ``amount_fen`` in ``order``; returns the allocations and what is left over."""
    if amount_fen < 0:
        raise ValueError("a payment cannot be negative")
    remaining = amount_fen
    out: list[Allocation] = []
    for due in sorted((d for d in dues if d.amount_fen > 0), key=lambda d: _key(d, order, as_of)):
        if remaining == 0:
            break
        take = min(remaining, due.amount_fen)
        out.append(Allocation(due.period, due.component, take))
        remaining -= take
    return out, remaining
