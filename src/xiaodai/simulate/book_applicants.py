"""Where the book simulator's applicants come from: one small interface, one internal source.

The book simulator asks an ``ApplicantSource`` for a batch of applicants for one month and gets columns
(numpy arrays), never per-applicant objects, so a million applications cost a few array operations.

``DemoApplicantSource`` is the stand-in until the synthetic population generator
(``xiaodai.simulate.population``, the underwriting work) lands: it draws the policy fields the real
knock-out rules read (age, income, debts, overdue days, velocity, blocklist) with marginals shaped like the
demo model's training data (CreditScoring: age 18-68, monthly income a few thousand CNY, debts a share of
it), and a predicted PD from a fixed logistic link on those fields. The true PD that drives behaviour is
the predicted PD with a seeded model error, so a backtest has something to find. To switch sources, pass
any object with the same ``draw`` method to ``simulate_book(source=...)``.

Pure: numpy only, randomness from the generator it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

PRODUCTS = ("standard", "instalment")
CHANNELS = ("app", "web", "partner")
REGIONS = ("east", "north", "south", "west", "central")
TERMS = np.array([3, 6, 12, 12, 24], dtype=np.int16)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ApplicantBatch:
    """One month's applicants as columns. Money in integer fen; rates and PDs as fractions (float)."""

    age: IntArray
    monthly_income_fen: IntArray
    monthly_debt_payments_fen: IntArray
    existing_overdue_days: IntArray
    applications_last_30d: IntArray
    blocklisted: npt.NDArray[np.bool_]
    requested_amount_fen: IntArray
    requested_term: IntArray
    product: IntArray  # index into PRODUCTS
    channel: IntArray  # index into CHANNELS
    region: IntArray  # index into REGIONS
    predicted_pd: FloatArray  # the scorer's 12-month PD: what the decision sees
    true_pd: FloatArray  # what behaviour follows (known only because the book is simulated)

    def __len__(self) -> int:
        return int(self.age.shape[0])


class ApplicantSource(Protocol):
    def draw(self, n: int, rng: np.random.Generator, month_index: int) -> ApplicantBatch: ...


@dataclass(frozen=True, slots=True)
class DemoApplicantSource:
    """Applicants shaped like the demo model's inputs; see the module docstring."""

    model_error_sd: float = 0.25  # log-scale sd of true PD around predicted PD
    drift_per_month: float = 0.0  # mean log-odds drift of applicant quality per month (growth at a cost)

    def draw(self, n: int, rng: np.random.Generator, month_index: int) -> ApplicantBatch:
        age = np.clip(np.round(rng.normal(37, 11, n)), 16, 70).astype(np.int64)
        income = np.clip(rng.lognormal(np.log(7000), 0.5, n), 800, 80000)
        debt_share = np.clip(rng.beta(2, 7, n), 0, 0.9)
        overdue = np.where(rng.random(n) < 0.04, rng.integers(1, 60, n), 0).astype(np.int64)
        velocity = rng.poisson(1.2, n).astype(np.int64)
        blocklisted = rng.random(n) < 0.005
        amount = np.clip(np.round(rng.lognormal(np.log(9000), 0.7, n) / 500) * 500, 500, 30000)
        term = TERMS[rng.integers(0, TERMS.shape[0], n)].astype(np.int64)
        channel = rng.choice(3, n, p=[0.55, 0.25, 0.20]).astype(np.int64)
        region = rng.integers(0, len(REGIONS), n).astype(np.int64)
        product = (rng.random(n) < 0.3).astype(np.int64)
        # log-odds of a 12-month default: younger, lower income, more indebted, more applications,
        # partner channel worse; calibrated so the median applicant sits near grade B/C.
        logit = (
            -2.6
            - 0.025 * (age - 37)
            - 0.8 * (np.log(income) - np.log(7000))
            + 3.0 * (debt_share - 0.22)
            + 0.25 * (velocity - 1.2)
            + 0.35 * (channel == 2)
            + rng.normal(0, 0.9, n)
            + self.drift_per_month * month_index
        )
        predicted = 1 / (1 + np.exp(-logit))
        true_pd = np.clip(predicted * np.exp(rng.normal(0, self.model_error_sd, n)), 0.0005, 0.95)
        income_fen = np.round(income * 100).astype(np.int64)
        return ApplicantBatch(
            age=age,
            monthly_income_fen=income_fen,
            monthly_debt_payments_fen=np.round(income_fen * debt_share).astype(np.int64),
            existing_overdue_days=overdue,
            applications_last_30d=velocity,
            blocklisted=blocklisted,
            requested_amount_fen=(amount * 100).astype(np.int64),
            requested_term=term,
            product=product,
            channel=channel,
            region=region,
            predicted_pd=predicted.astype(np.float64),
            true_pd=true_pd.astype(np.float64),
        )
