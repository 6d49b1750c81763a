"""What the demo's applicants write on their application (pure data) and which of them lands in each risk
grade under the active model — the real decision service then decides every one of them.

A profile holds only what an applicant states (the feature catalogue's ``application`` features: tenure,
housing, employment, income, dependants, purpose); what the platform and the bureau know is looked up by the
decision service. Profiles run from strong to weak; ``pick`` scores them with the active model for the
story's own amount and term and keeps the first in the wanted grade, so the demo stays coherent when the
model is retrained.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Features = dict[str, Any]

LADDER: tuple[Features, ...] = tuple(
    {
        "employment_tenure_years": tenure,
        "housing": housing,
        "employment_type": job,
        "monthly_income": str(income),
        "monthly_debt_payments": str(debts),
        "dependants": dependants,
        "purpose": "consumption",
    }
    for tenure, housing, job, income, debts, dependants in [
        (20, "owner", "employed", 30000, 0, 1),
        (15, "owner", "employed", 24000, 0, 1),
        (10, "owner", "employed", 18000, 500, 2),
        (8, "mortgage", "employed", 15000, 1000, 2),
        (8, "parents", "employed", 12000, 500, 0),
        (6, "rent", "employed", 10000, 1000, 1),
        (5, "rent", "employed", 9000, 1500, 1),
        (4, "rent", "freelance", 8000, 1500, 2),
        (3, "rent", "self_employed", 7000, 2000, 2),
        (2, "rent", "part_time", 6000, 2000, 1),
        (2, "other", "part_time", 5000, 1500, 3),
        (1, "other", "part_time", 4500, 1500, 3),
        (1, "employer", "student", 4000, 1000, 0),
        (0, "other", "unemployed", 3500, 1000, 2),
        (0, "other", "unemployed", 3000, 1200, 4),
    ]
)


def applicant(*, age: int, profile: Mapping[str, Any]) -> dict[str, Any]:
    """The applicant block: the age and the profile's stated values (nothing the platform looks up)."""
    return {"age": age, **profile}


def pick(grade_of: Callable[[Mapping[str, Any]], str], wanted: tuple[str, ...], **request: Any) -> Features:
    """The strongest profile in the first grade of ``wanted`` that some profile reaches for this request
    (amount, term), else the ladder's best."""
    grades = [grade_of({**profile, **request}) for profile in LADDER]
    for grade in wanted:
        for profile, got in zip(LADDER, grades, strict=True):
            if got == grade:
                return profile
    return LADDER[0]
