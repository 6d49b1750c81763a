"""The real credit policy and the real schedules, applied to a whole batch of applicants at once.

- Knock-out rules, grades, prices, limits and terms come from ``underwriting.policy.Policy`` (policy.json):
  the same rule objects are evaluated on columns. The grade is the first whose ``max_pd`` exceeds the
  PD, exactly as ``Policy.grade_for``. "refer" grades go to a manual review that approves a share.
- The price is checked against the policy's cap profile with the real ``pricing.quote.build_quote``,
  stepping the rate down by ``decision.RATE_STEP`` while over the cap (as ``decision.decide`` does), once
  per distinct (rate, term).
- The affordable limit follows ``decision.decide`` (share of income minus debts, annuity present value,
  the absolute and grade maximum, rounded down to the policy's step). It is computed in float here and
  then floored to whole ``limit_rounding`` steps: a limit may differ from the Decimal path by one step
  when the affordable amount falls within a float rounding error of a step boundary.
- Schedules come from ``pricing.schedule.build_schedule`` (Decimal, cent rounding, remainder on the last
  instalment), once per distinct (principal, rate, term), returned as integer-fen lookup tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from xiaodai.pricing.caps import CapBook
from xiaodai.pricing.quote import CapExceededError, build_quote
from xiaodai.pricing.schedule import LoanTerms, Method, build_schedule
from xiaodai.simulate.book_applicants import ApplicantBatch
from xiaodai.underwriting.decision import ABSOLUTE_MAX, MAX_TERM, RATE_STEP
from xiaodai.underwriting.policy import Policy, Rule

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BatchDecision:
    approved: npt.NDArray[np.bool_]
    grade: IntArray  # index into policy.grades
    annual_rate_bp: IntArray  # annual rate in basis points of a fraction (0.1200 -> 1200)
    term: IntArray
    principal_fen: IntArray
    knocked_out: npt.NDArray[np.bool_]


def _column(batch: ApplicantBatch, field: str) -> npt.NDArray[np.float64]:
    income = batch.monthly_income_fen / 100.0
    columns = {
        "age": batch.age.astype(np.float64),
        "monthly_income": income,
        "debt_to_income": np.where(income > 0, batch.monthly_debt_payments_fen / 100.0 / income, np.nan),
        "existing_overdue_days": batch.existing_overdue_days.astype(np.float64),
        "worst_dpd_now": batch.existing_overdue_days.astype(np.float64),  # the platform feature (issue 16)
        "applications_last_30d": batch.applications_last_30d.astype(np.float64),
        "blocklisted": batch.blocklisted.astype(np.float64),
    }
    # The simulated book's applicants carry no credit report: the bureau knock-outs never fire on them.
    for bureau in ("bureau_overdue_accounts_now", "bureau_max_overdue_months", "bureau_overdue_months_24m"):
        columns[bureau] = np.zeros(batch.age.shape[0], dtype=np.float64)
    # Their stated age is the age their (simulated) ID number gives: the age-vs-ID knock-out never fires.
    columns["age_id_mismatch"] = np.zeros(batch.age.shape[0], dtype=np.float64)
    if field not in columns:
        raise ValueError(f"the simulated applicants have no field {field!r} for a knock-out rule")
    return columns[field]


def rule_fires(rule: Rule, batch: ApplicantBatch) -> npt.NDArray[np.bool_]:
    values = _column(batch, rule.field)
    if rule.op == "is_true":
        return np.asarray(values == 1.0, dtype=np.bool_)
    missing = np.isnan(values)
    if rule.op == "missing_or_le":
        return missing | ((values <= rule.value) if rule.value is not None else False)
    if rule.value is None:
        return np.zeros(values.shape[0], dtype=bool)
    compare = {"lt": np.less, "gt": np.greater, "le": np.less_equal, "ge": np.greater_equal}[rule.op]
    return ~missing & compare(values, rule.value)


def capped_rate(policy: Policy, cap_book: CapBook, rate: Decimal, term: int, on: date) -> Decimal | None:
    """The grade's rate stepped down until the real quote passes the cap (``None``: no rate passes)."""
    cap = cap_book.profile(policy.cap_profile)
    while rate >= 0:
        terms = LoanTerms(
            principal=Decimal(10000),
            term=term,
            method=Method.parse(policy.method),
            annual_rate=rate,
            start_on=on,
        )
        try:
            build_quote(terms, cap=cap, cap_book=cap_book)
        except CapExceededError:
            rate -= RATE_STEP
            continue
        return rate
    return None


def decide_batch(
    batch: ApplicantBatch,
    *,
    policy: Policy,
    cap_book: CapBook,
    on: date,
    refer_approval: float,
    rng: np.random.Generator,
    rate_cache: dict[tuple[int, int, date], int | None] | None = None,
) -> BatchDecision:
    """``rate_cache``: capped rates by (grade, term, day), kept by a caller deciding many batches
    with one policy and cap book (the capped rate depends on nothing else)."""
    n = len(batch)
    knocked = np.zeros(n, dtype=bool)
    for rule in policy.knock_out:
        knocked |= rule_fires(rule, batch)
    bounds = np.array([g.max_pd for g in policy.grades])
    grade = np.minimum(np.searchsorted(bounds, batch.predicted_pd, side="right"), len(bounds) - 1)
    decisions = np.array([g.decision for g in policy.grades])[grade]
    referred_ok = rng.random(n) < refer_approval
    eligible = ~knocked & ((decisions == "approve") | ((decisions == "refer") & referred_ok))

    max_terms = np.array([min(g.max_term, MAX_TERM) for g in policy.grades])[grade]
    term = np.minimum(np.maximum(batch.requested_term, policy.min_term), max_terms).astype(np.int64)
    rate_bp = np.zeros(n, dtype=np.int64)
    for g_index, g in enumerate(policy.grades):
        if g.annual_rate is None:
            continue
        for t in np.unique(term[(grade == g_index) & eligible]):
            key = (g_index, int(t), on)
            if rate_cache is not None and key in rate_cache:
                bp = rate_cache[key]
            else:
                rate = capped_rate(policy, cap_book, g.annual_rate, int(t), on)
                bp = None if rate is None else int(rate * 10000)
                if rate_cache is not None:
                    rate_cache[key] = bp
            mask = (grade == g_index) & (term == t)
            if bp is None:
                eligible &= ~mask
            else:
                rate_bp[mask] = bp
    r = rate_bp / 10000.0 / 12.0
    payment = (
        batch.monthly_income_fen / 100.0 * float(policy.affordability_share)
        - batch.monthly_debt_payments_fen / 100.0
    )
    safe_r = np.where(r > 0, r, 1.0)
    annuity = np.where(r > 0, (1 - np.power(1 + safe_r, -term.astype(np.float64))) / safe_r, term)
    affordable = np.where(payment > 0, payment * annuity, 0.0)
    max_limit = np.array([float(g.max_limit) for g in policy.grades])[grade]
    limit = np.minimum(np.minimum(float(ABSOLUTE_MAX), max_limit), affordable)
    step = float(policy.limit_rounding)
    limit = np.floor(limit / step + 1e-9) * step
    approved = eligible & (limit >= float(policy.min_principal)) & (rate_bp > 0)
    principal = np.maximum(np.minimum(batch.requested_amount_fen / 100.0, limit), float(policy.min_principal))
    principal_fen = np.round(principal * 100).astype(np.int64)
    return BatchDecision(approved, grade.astype(np.int64), rate_bp, term, principal_fen, knocked)


@dataclass(frozen=True, slots=True)
class ScheduleTable:
    """Integer-fen schedules for distinct (principal, rate, term): ``payment[i, k]`` is instalment k
    (1-based; column 0 unused), ``balance[i, k]`` the principal outstanding after instalment k
    (``balance[i, 0]`` is the principal)."""

    payment: IntArray
    balance: IntArray


def schedule_table(
    principal_fen: IntArray, rate_bp: IntArray, term: IntArray, *, method: Method, on: date
) -> tuple[ScheduleTable, IntArray]:
    keys = np.stack([principal_fen, rate_bp, term], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    width = int(term.max(initial=1)) + 1
    payment = np.zeros((unique.shape[0], width), dtype=np.int64)
    balance = np.zeros((unique.shape[0], width), dtype=np.int64)
    for i, (p_fen, bp, n) in enumerate(unique.tolist()):
        schedule = build_schedule(
            LoanTerms(
                principal=Decimal(p_fen) / 100,
                term=int(n),
                method=method,
                annual_rate=Decimal(bp) / 10000,
                start_on=on,
            )
        )
        balance[i, 0] = p_fen
        for row in schedule.rows:
            payment[i, row.period] = int(row.payment * 100)
            balance[i, row.period] = int(row.balance * 100)
    return ScheduleTable(payment, balance), inverse.reshape(-1).astype(np.int64)
