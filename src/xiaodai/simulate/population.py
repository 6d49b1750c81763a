"""A synthetic applicant population with a known true probability of default (pure, numpy, seeded).

Every column is a feature of the catalogue (``xiaodai.features``: application, platform and bureau values,
named as the decision service assembles them), plus ``true_pd`` and ``defaulted``. The data-generating
process is documented in ``docs/domains/underwriting.md`` ("The synthetic population"):

1. a latent creditworthiness ``z ~ N(0, 1)`` per applicant drives the bureau and platform histories (better
   ``z``: fewer inquiries, lower utilisation, fewer overdue months, fewer late days here);
2. stated values (age, employment, tenure, income, housing, dependants, debts, purpose, amount, term) are
   drawn from distributions shaped after Chinese consumer-credit applicants (incomes log-normal around
   8,500 CNY a month for full-time employees);
3. the true PD is a logistic function of the OBSERVED features only (``TRUTH`` below): ``z`` acts only through
   them, so ``true_pd`` is exactly the probability a perfect model could reach, and calibration can be
   measured against it; ``defaulted ~ Bernoulli(true_pd)``.

Age has no direct effect on the truth (it reaches risk only through tenure, income and housing), which makes
the population useful for measuring proxy discrimination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

EMPLOYMENT = ("employed", "self_employed", "part_time", "freelance", "student", "retired", "unemployed")
EMPLOYMENT_P = (0.62, 0.12, 0.08, 0.08, 0.04, 0.03, 0.03)
MEDIAN_INCOME = (8500.0, 9500.0, 4000.0, 7000.0, 2000.0, 4500.0, 1500.0)  # CNY a month, by employment
HOUSING = ("owner", "mortgage", "rent", "parents", "employer", "other")
HOUSING_P_YOUNG = (0.04, 0.08, 0.40, 0.35, 0.10, 0.03)  # under 28
HOUSING_P_OLDER = (0.22, 0.33, 0.30, 0.06, 0.05, 0.04)
PURPOSE = ("consumption", "education", "medical", "travel", "home_improvement", "other")
PURPOSE_P = (0.45, 0.10, 0.08, 0.12, 0.15, 0.10)
TERMS = (3, 6, 9, 12, 18, 24)
TERMS_P = (0.08, 0.17, 0.10, 0.35, 0.12, 0.18)

# The truth: logit(true_pd) = INTERCEPT + the sum of these terms (documented in docs/domains/underwriting.md).
INTERCEPT = -4.0
TRUTH: dict[str, float] = {
    "payment_to_income": 1.6,  # (stated debts + amount / term) / income
    "log_income_ratio": -0.30,  # ln(income / 8,500)
    "tenure_years_capped_15": -0.04,
    "dependants": 0.10,
    "employment:self_employed": 0.15,
    "employment:part_time": 0.30,
    "employment:freelance": 0.35,
    "employment:student": 0.50,
    "employment:retired": 0.10,
    "employment:unemployed": 0.90,
    "housing:owner": -0.25,
    "housing:mortgage": -0.10,
    "housing:rent": 0.20,
    "housing:parents": 0.10,
    "purpose:other": 0.25,
    "bureau_inquiries_3m": 0.15,
    "bureau_utilisation": 0.90,
    "bureau_overdue_months_24m_capped_6": 0.30,
    "bureau_overdue_now": 1.50,
    "bureau_thin_file": 0.30,
    "worst_dpd_12m_1_30": 0.40,
    "worst_dpd_12m_over_30": 0.90,
    "loans_repaid_capped_5": -0.15,
}

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Population:
    columns: dict[str, npt.NDArray[Any]]

    def __len__(self) -> int:
        return len(self.columns["true_pd"])


def _choice(rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int) -> Any:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=np.asarray(p) / sum(p))]


def generate(n: int, seed: int) -> Population:
    """``n`` applicants; the same (n, seed) always gives the same population."""
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)

    # --- what the applicant states -----------------------------------------------------------------------
    age = (20 + np.floor(42 * rng.beta(2.0, 3.2, n))).astype(np.int64)
    emp_idx = rng.choice(len(EMPLOYMENT), size=n, p=EMPLOYMENT_P)
    young = age < 24
    emp_idx = np.where(young & (rng.random(n) < 0.25), EMPLOYMENT.index("student"), emp_idx)
    emp_idx = np.where((age >= 55) & (rng.random(n) < 0.30), EMPLOYMENT.index("retired"), emp_idx)
    employment = np.asarray(EMPLOYMENT, dtype=object)[emp_idx]
    tenure_cap = np.maximum(age - 18, 0)
    tenure = np.minimum(np.floor(rng.exponential(1.0 + 0.18 * tenure_cap)), tenure_cap).astype(np.int64)
    tenure = np.where(np.isin(emp_idx, [4, 6]), 0, tenure)
    age_curve = np.exp(-0.35 * ((age - 42) / 20.0) ** 2)
    income = np.asarray(MEDIAN_INCOME)[emp_idx] * age_curve * np.exp(0.55 * rng.standard_normal(n) + 0.08 * z)
    income = np.maximum(np.round(income / 100) * 100, 500.0)
    housing = np.where(
        age < 28,
        _choice(rng, HOUSING, HOUSING_P_YOUNG, n),
        _choice(rng, HOUSING, HOUSING_P_OLDER, n),
    )
    dependants = np.minimum(rng.poisson(np.where(age < 28, 0.3, 1.2)), 6).astype(np.int64)
    debts = np.where(rng.random(n) < 0.30, 0.0, income * rng.beta(1.5, 8.0, n))
    debts = np.round(debts / 10) * 10
    purpose = _choice(rng, PURPOSE, PURPOSE_P, n)
    amount = np.clip(np.round(income * rng.lognormal(0.3, 0.6, n) / 500) * 500, 500, 30000)
    term = np.asarray(TERMS)[rng.choice(len(TERMS), size=n, p=TERMS_P)].astype(np.int64)

    # --- the bureau --------------------------------------------------------------------------------------
    risk = np.exp(-0.8 * z)  # > 1 for weaker applicants
    found = rng.random(n) >= np.where(age < 25, 0.30, 0.08)
    accounts_open = np.where(found, rng.poisson(2.0, n), 0)
    inq_12 = np.where(found | (rng.random(n) < 0.5), rng.poisson(1.6 * risk), 0)
    inq_6 = rng.binomial(inq_12, 0.55)
    inq_3 = rng.binomial(inq_6, 0.55)
    inq_1 = rng.binomial(inq_3, 0.40)
    has_cards = found & (rng.random(n) < 0.75)
    utilisation = np.where(has_cards, np.clip(rng.beta(2.0, 3.0, n) * risk**0.5, 0, 1), np.nan)
    overdue_24 = np.where(found, np.minimum(rng.poisson(0.25 * risk**1.5), 24), 0)
    overdue_12 = rng.binomial(overdue_24, 0.5)
    max_overdue = np.where(overdue_24 > 0, 1 + rng.binomial(np.maximum(overdue_24 - 1, 0), 0.3), 0)
    overdue_now = (found & (rng.random(n) < 0.015 * risk**1.5)).astype(np.int64)
    balance = np.where(found, np.round(accounts_open * rng.gamma(2.0, 6000.0, n) / 100) * 100, 0.0)

    # --- this platform -----------------------------------------------------------------------------------
    returning = rng.random(n) < 0.30
    loans_repaid = np.where(returning, rng.poisson(1.5, n), 0)
    late_p = np.clip(0.08 * risk**1.5, 0, 0.9)
    late = returning & (rng.random(n) < late_p)
    worst_12 = np.where(late, np.minimum(np.ceil(rng.exponential(12.0 * risk)), 180), 0).astype(np.int64)
    has_open = returning & (rng.random(n) < 0.4)
    worst_now = np.where(has_open & (worst_12 > 0) & (rng.random(n) < 0.25), worst_12, 0)
    exposure = np.where(has_open, np.round(rng.uniform(500, 20000, n) / 100) * 100, 0.0)
    on_time = np.where(
        returning, np.clip(1 - rng.beta(1.0, 12.0, n) * risk - 0.2 * (worst_12 > 0), 0, 1), np.nan
    )
    applications_30d = rng.poisson(0.3 + 0.4 * inq_1)
    complaints = rng.poisson(np.where(returning, 0.05, 0.0))
    hardship = rng.poisson(np.where(returning, 0.03 * risk, 0.0))
    blocklisted = rng.random(n) < 0.002

    # --- the truth ---------------------------------------------------------------------------------------
    payment_to_income = (debts + amount / term) / income
    eta = INTERCEPT + TRUTH["payment_to_income"] * np.minimum(payment_to_income, 3.0)
    eta += TRUTH["log_income_ratio"] * np.log(income / 8500.0)
    eta += TRUTH["tenure_years_capped_15"] * np.minimum(tenure, 15)
    eta += TRUTH["dependants"] * dependants
    for i, name in enumerate(EMPLOYMENT):
        eta += TRUTH.get(f"employment:{name}", 0.0) * (emp_idx == i)
    for name in HOUSING:
        eta += TRUTH.get(f"housing:{name}", 0.0) * (housing == name)
    eta += TRUTH["purpose:other"] * (purpose == "other")
    eta += TRUTH["bureau_inquiries_3m"] * inq_3
    eta += TRUTH["bureau_utilisation"] * np.nan_to_num(utilisation, nan=0.0)
    eta += TRUTH["bureau_overdue_months_24m_capped_6"] * np.minimum(overdue_24, 6)
    eta += TRUTH["bureau_overdue_now"] * overdue_now
    eta += TRUTH["bureau_thin_file"] * (~found)
    eta += TRUTH["worst_dpd_12m_1_30"] * ((worst_12 >= 1) & (worst_12 <= 30))
    eta += TRUTH["worst_dpd_12m_over_30"] * (worst_12 > 30)
    eta += TRUTH["loans_repaid_capped_5"] * np.minimum(loans_repaid, 5)
    true_pd = 1.0 / (1.0 + np.exp(-eta))
    defaulted = (rng.random(n) < true_pd).astype(np.int64)

    return Population(
        {
            "applicant_id": np.arange(1, n + 1, dtype=np.int64),
            "amount": amount,
            "term": term,
            "purpose": purpose,
            "age": age,
            "monthly_income": income,
            "monthly_debt_payments": debts,
            "employment_type": employment,
            "employment_tenure_years": tenure,
            "housing": housing,
            "dependants": dependants,
            "exposure_outstanding": exposure,
            "worst_dpd_now": worst_now.astype(np.int64),
            "worst_dpd_12m": worst_12,
            "loans_repaid": loans_repaid.astype(np.int64),
            "on_time_ratio": np.round(on_time, 4),
            "applications_last_30d": applications_30d.astype(np.int64),
            "complaints_12m": complaints.astype(np.int64),
            "hardship_plans": hardship.astype(np.int64),
            "blocklisted": blocklisted.astype(np.int64),
            "bureau_report_found": found.astype(np.int64),
            "bureau_accounts_open": accounts_open.astype(np.int64),
            "bureau_overdue_accounts_now": overdue_now,
            "bureau_overdue_months_12m": overdue_12.astype(np.int64),
            "bureau_overdue_months_24m": overdue_24.astype(np.int64),
            "bureau_max_overdue_months": max_overdue.astype(np.int64),
            "bureau_inquiries_1m": inq_1.astype(np.int64),
            "bureau_inquiries_3m": inq_3.astype(np.int64),
            "bureau_inquiries_6m": inq_6.astype(np.int64),
            "bureau_inquiries_12m": inq_12.astype(np.int64),
            "bureau_utilisation": np.round(utilisation, 4),
            "bureau_balance_outstanding": balance,
            "true_pd": true_pd,
            "defaulted": defaulted,
        }
    )
