"""What the demo's applicants write on their application (pure data) and which of them lands in each risk
grade under the active model — the real decision service then decides every one of them.

The model features are those of the CreditScoring data the demo model is trained on (in its units); the
applicant block holds what the knock-out rules read. Profiles run from strong to weak; ``by_grade`` scores
each once with the active scorecard and keeps the first that falls in each grade, so the demo stays coherent
when the model is retrained.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Features = dict[str, Any]

LADDER: tuple[Features, ...] = tuple(
    {
        "Seniority": seniority,
        "Home": home,
        "Time": time,
        "Records": records,
        "Job": job,
        "Expenses": 50 + 10 * step,
        "Income": income,
        "Assets": assets,
        "Amount": amount,
        "Price": 1300,
    }
    for step, (seniority, home, time, records, job, income, assets, amount) in enumerate(
        [
            (20, "owner", 12, "no", "fixed", 200, 20000, 600),
            (15, "owner", 24, "no", "fixed", 160, 9000, 800),
            (10, "owner", 36, "no", "fixed", 130, 5000, 1000),
            (9, "owner", 36, "no", "fixed", 120, 4500, 1050),
            (8, "owner", 48, "no", "fixed", 110, 4000, 1100),
            (8, "parents", 36, "no", "fixed", 110, 4000, 1100),
            (7, "parents", 48, "no", "fixed", 100, 3500, 1150),
            (5, "rent", 36, "no", "fixed", 100, 3000, 1100),
            (6, "rent", 48, "no", "fixed", 100, 3000, 1200),
            (4, "rent", 48, "no", "freelance", 90, 2000, 1300),
            (3, "rent", 60, "no", "freelance", 80, 1500, 1400),
            (2, "rent", 60, "yes", "fixed", 90, 1000, 1300),
            (2, "priv", 60, "no", "partime", 70, 1000, 1500),
            (1, "rent", 60, "yes", "freelance", 70, 0, 1500),
            (1, "other", 60, "yes", "partime", 60, 0, 1600),
            (0, "other", 60, "yes", "partime", 50, 0, 2000),
        ]
    )
)


def applicant(
    *, age: int, monthly_income: int, monthly_debts: int = 0, overdue_days: int = 0
) -> dict[str, Any]:
    return {
        "age": age,
        "monthly_income": str(monthly_income),
        "monthly_debt_payments": str(monthly_debts),
        "existing_overdue_days": overdue_days,
        "applications_last_30d": 1,
        "blocklisted": False,
    }


def by_grade(grade_of: Callable[[Mapping[str, Any]], str]) -> dict[str, Features]:
    """The first (strongest) profile of the ladder in each grade ``grade_of`` assigns."""
    found: dict[str, Features] = {}
    for features in LADDER:
        found.setdefault(grade_of(features), features)
    return found


def pick(found: Mapping[str, Features], wanted: tuple[str, ...]) -> Features:
    """The profile of the first grade in ``wanted`` some profile reaches (else the ladder's best)."""
    for grade in wanted:
        if grade in found:
            return found[grade]
    return LADDER[0]
