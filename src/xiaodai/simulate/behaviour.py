"""Repayment behaviour, one month at a time, for every open loan at once (pure, numpy).

A loan's state is ``paid_periods``: how many instalments are fully paid (oldest first, as the real
allocation pays the oldest arrears first). At month end, with ``mob`` months on book:

- owed instalments = min(mob, term) − paid_periods;
- delinquency age = mob − paid_periods when something is owed (months since the oldest unpaid due date,
  plus one), so the days past due at month end are 30 × (age − 1) + 15 (due dates fall mid-month);
- buckets M0 (current), M1 (1-30 DPD), M2 (31-60), M3 (61-90), M4+ (91+): age 4 is default (90+ DPD).

Each month a current loan prepays (probability ``prepay``), misses its instalment (``miss``, from the
loan's PD and the macro factor) or pays (``late_share`` of payers pay after the due date but within the
month: late, DPD 0 at month end). A delinquent loan cures (pays all it owes), pays part (one instalment,
the oldest: its age stays) or pays nothing (its age grows). ``miss`` is set so the chance of reaching
default within a year is the loan's 12-month PD times the macro multiplier: monthly hazard
h = 1 − (1 − PD)^(1/12), miss = h / P(roll M1 → default), P(roll) = Π over M1..M3 of (1 − cure − part).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

DEFAULT_AGE = 4  # months since the oldest unpaid due date: > 90 DPD
BUCKETS = ("M0", "M1", "M2", "M3", "M4+")


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    cure: tuple[float, float, float] = (0.45, 0.30, 0.15)  # by delinquency age 1, 2, 3
    part: tuple[float, float, float] = (0.15, 0.15, 0.10)
    prepay: float = 0.012  # per month, current loans before maturity
    late_share: float = 0.08  # of payers, pay after the due date within the month
    recovery_mean: float = 0.25  # share of exposure at default recovered
    recovery_months: int = 6  # recoveries arrive over this many months after default
    macro_beta: float = 0.6  # PD multiplier = exp(beta × macro z)

    def roll_through(self) -> float:
        through = 1.0
        for cure, part in zip(self.cure, self.part, strict=True):
            through *= 1.0 - cure - part
        return through


def miss_probability(
    pd_12m: npt.NDArray[np.float64], multiplier: float, params: BehaviourParams
) -> npt.NDArray[np.float64]:
    hazard = 1.0 - np.power(1.0 - np.clip(pd_12m * multiplier, 0.0, 0.999), 1.0 / 12.0)
    return np.clip(hazard / max(params.roll_through(), 1e-12), 0.0, 0.95)


def dpd_for_age(age: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.where(age > 0, 30 * (age - 1) + 15, 0).astype(np.int64)


class Uniforms(Protocol):
    """Where the month's uniform draws come from: a ``numpy.random.Generator``, or per-block streams
    (``book.BlockDraws``)."""

    def random(self, size: int) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True, slots=True)
class MonthOutcome:
    paid_periods: npt.NDArray[np.int64]  # after this month
    prepaid: npt.NDArray[np.bool_]
    late: npt.NDArray[np.bool_]  # paid this month's instalment after its due date (within the month)


def step(
    *,
    mob: npt.NDArray[np.int64],
    term: npt.NDArray[np.int64],
    paid_periods: npt.NDArray[np.int64],
    pd_12m: npt.NDArray[np.float64],
    multiplier: float,
    params: BehaviourParams,
    rng: Uniforms,
) -> MonthOutcome:
    """One month for open loans: ``mob`` is this month's months on book (≥ 1)."""
    n = mob.shape[0]
    u = rng.random(n)
    u_late = rng.random(n)
    due_now = np.minimum(mob, term)  # instalments due by this month end
    age_before = np.where(np.minimum(mob - 1, term) > paid_periods, mob - 1 - paid_periods, 0)
    current = age_before == 0
    before_maturity = mob < term
    miss = miss_probability(pd_12m, multiplier, params)

    prepaid = current & before_maturity & (u < params.prepay)
    missed_current = current & ~prepaid & (u >= params.prepay) & (u < params.prepay + miss)
    pays_current = current & ~prepaid & ~missed_current

    cure = np.zeros(n)
    part = np.zeros(n)
    for index, (c, p) in enumerate(zip(params.cure, params.part, strict=True), start=1):
        cure = np.where(age_before == index, c, cure)
        part = np.where(age_before == index, p, part)
    delinquent = ~current
    cures = delinquent & (u < cure)
    parts = delinquent & (u >= cure) & (u < cure + part)

    new_paid = paid_periods.copy()
    new_paid = np.where(pays_current | cures, due_now, new_paid)
    new_paid = np.where(prepaid, term, new_paid)
    new_paid = np.where(parts, np.minimum(paid_periods + 1, due_now), new_paid)
    late = pays_current & (u_late < params.late_share)
    return MonthOutcome(new_paid.astype(np.int64), prepaid, late)


def delinquency_age(
    mob: npt.NDArray[np.int64], term: npt.NDArray[np.int64], paid_periods: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    owed = np.minimum(mob, term) - paid_periods
    return np.where(owed > 0, mob - paid_periods, 0).astype(np.int64)
