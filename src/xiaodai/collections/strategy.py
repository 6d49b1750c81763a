"""Collection strategy (pure): which contacts a loan's state calls for today, from configuration.

The plan only proposes; every planned contact still goes through the contact-policy engine, which may
block it (hours, frequency, holds, content).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class LoanFacts:
    loan_id: int
    bucket: str
    dpd: int
    next_due_on: date | None
    next_due_amount: str
    overdue_amount: str


@dataclass(frozen=True)
class PlannedContact:
    loan_id: int
    step: str
    channel: str | None
    message: str | None
    action: str = "contact"  # contact | refer_to_agency


def default_strategy() -> dict[str, Any]:
    return dict(
        json.loads(resources.files("xiaodai.collections").joinpath("data/strategy.json").read_text("utf-8"))
    )


def plan(
    facts: LoanFacts, today: date, *, strategy: Mapping[str, Any], lang: str = "zh"
) -> list[PlannedContact]:
    out: list[PlannedContact] = []
    templates = strategy.get("templates", {})
    for step in strategy["steps"]:
        if "days_to_due" in step:
            if (
                facts.dpd
                or facts.next_due_on is None
                or (facts.next_due_on - today).days != step["days_to_due"]
            ):
                continue
            amount = facts.next_due_amount
        elif "bucket" in step:
            every = int(step.get("every_days", 1))
            if facts.bucket != step["bucket"] or facts.dpd <= 0 or (facts.dpd - 1) % every:
                continue
            amount = facts.overdue_amount
        else:
            continue
        message = None
        if step.get("template"):
            text = templates[step["template"]][lang]
            message = text.format(
                lender=strategy.get("lender", ""),
                amount=amount,
                dpd=facts.dpd,
                due_date=facts.next_due_on.isoformat() if facts.next_due_on else "",
            )
        out.append(
            PlannedContact(
                facts.loan_id, step["id"], step.get("channel"), message, step.get("action", "contact")
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """When end of day opens a collection case and to whom it goes (the strategy's ``cases`` block)."""

    open_in_buckets: frozenset[str]
    profile: str
    assign_to_role: str
    borrower_timezone: str

    @classmethod
    def from_strategy(cls, strategy: Mapping[str, Any]) -> CasePolicy:
        raw = strategy.get("cases") or {}
        return cls(
            open_in_buckets=frozenset(raw.get("open_in_buckets", ("M1", "M2", "M3", "M4+"))),
            profile=str(raw.get("profile", "CN")),
            assign_to_role=str(raw.get("assign_to_role", "collector")),
            borrower_timezone=str(raw.get("borrower_timezone", "Asia/Shanghai")),
        )


def assign_cases(
    loan_ids: Sequence[int], collectors: Sequence[int], load: Mapping[int, int]
) -> dict[int, int | None]:
    """Each new case (in loan-id order) to the collector with the fewest open cases so far, lowest id on a
    tie; ``None`` for every case when there is no collector (the case opens unassigned)."""
    counts = {c: int(load.get(c, 0)) for c in collectors}
    out: dict[int, int | None] = {}
    for loan_id in sorted(loan_ids):
        if not counts:
            out[loan_id] = None
            continue
        chosen = min(counts, key=lambda c: (counts[c], c))
        counts[chosen] += 1
        out[loan_id] = chosen
    return out
