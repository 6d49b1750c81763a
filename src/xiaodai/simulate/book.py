"""A lending book run forward month by month: a deterministic loan-month panel for a seed.

1. Originations: each month's applicants (``ApplicantSource``) go through the real policy
   (``book_policy.decide_batch``) until the month's share of ``borrowers`` loans is booked.
2. Schedules: the real ``build_schedule`` per distinct (principal, rate, term), as fen lookup tables.
3. Months: every open loan steps at once (``behaviour.step``) under a macro factor (AR(1) path plus an
   optional shock); defaults (90+ DPD) recover a share of the exposure over the following months.

Determinism and partitions. Loan ids 1..borrowers are numbered in origination order (month by month, the
month quotas fixed by ``borrowers``, ``months`` and ``growth``) and cut into blocks of
``BookConfig.block_size`` ids. Every block has its own random stream, ``SeedSequence([seed, 1, block])``,
which draws that block's applicants and decisions for its share of each month's quota, then its loans'
recovery rates, then month by month its loans' behaviour, complaints and contacts; the macro path has its
own stream, ``SeedSequence([seed, 0])``. A block's loans therefore depend on the seed and the block only:
``simulate_book(..., blocks=(first, last))`` runs any contiguous range of blocks (a borrower-id range) on
its own, and the union of the ranges is the same panel, row for row, however the book is split (one
process, or one Dask task per range: ``simulate.partitioned``). The block size is part of the book's
definition (a different block size is a different book for the same seed).

The panel (one row per loan per month it is on the book, from its first due month to the month it
closes, prepays or finishes recovering) is handed out month by month to ``sink``, so the caller decides
where it goes (Parquet files in the CLI) and memory stays bounded by one month of rows.
Money columns are integer fen; rates and probabilities are floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from xiaodai.money.dates import add_months
from xiaodai.pricing.caps import CapBook
from xiaodai.pricing.schedule import Method
from xiaodai.simulate.behaviour import (
    BUCKETS,
    DEFAULT_AGE,
    BehaviourParams,
    delinquency_age,
    dpd_for_age,
    step,
)
from xiaodai.simulate.book_applicants import CHANNELS, PRODUCTS, REGIONS, ApplicantSource
from xiaodai.simulate.book_policy import decide_batch, schedule_table
from xiaodai.underwriting.policy import Policy

ACTIVE, PREPAID, CLOSED, DEFAULTED, WRITTEN_OFF = 0, 1, 2, 3, 4
STATUS = ("active", "prepaid", "closed", "defaulted", "written_off")


@dataclass(frozen=True, slots=True)
class MacroPath:
    """z_t = rho × z_{t-1} + sd × e_t, plus ``shock`` for months [shock_start, shock_start + shock_months)."""

    rho: float = 0.7
    sd: float = 0.3
    shock: float = 0.0
    shock_start: int = 0
    shock_months: int = 0

    def path(self, months: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        z = np.zeros(months)
        previous = 0.0
        for t, e in enumerate(rng.normal(0, 1, months)):
            previous = self.rho * previous + self.sd * e
            z[t] = previous
        shocked = np.arange(months)
        return z + np.where(
            (shocked >= self.shock_start) & (shocked < self.shock_start + self.shock_months), self.shock, 0.0
        )


@dataclass(frozen=True, slots=True)
class BookConfig:
    borrowers: int
    months: int
    seed: int
    start_on: date  # first origination month (day 1)
    growth: float = 0.0  # monthly growth of originations (0.02 = +2 % a month)
    refer_approval: float = 0.5
    complaint_rate: float = 0.002  # per loan-month; five times higher when delinquent
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)
    macro: MacroPath = field(default_factory=MacroPath)
    block_size: int = 8192  # loan ids per random stream (see the module docstring)

    def blocks(self) -> int:
        return -(-self.borrowers // self.block_size)


@dataclass(frozen=True, slots=True)
class BookSummary:
    loans: int
    rows: int
    originations: pl.DataFrame  # month, applications, approvals, approved_fen (of the blocks simulated)


MACRO_STREAM, BLOCK_STREAM = 0, 1


def block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, BLOCK_STREAM, block]))


def macro_multipliers(config: BookConfig) -> npt.NDArray[np.float64]:
    z = config.macro.path(
        config.months, np.random.default_rng(np.random.SeedSequence([config.seed, MACRO_STREAM]))
    )
    return np.asarray(np.exp(config.behaviour.macro_beta * z), dtype=np.float64)


class BlockDraws:
    """Random draws for loans of several blocks, each block's from its own generator.

    ``block_of[i]`` is the (partition-local) block of the partition's i-th loan; ``for_loans(idx)`` gives an
    object with the ``Generator`` methods the month step uses, drawing for the loans ``idx`` block by block
    in loan order, so what a loan gets does not depend on which other blocks are simulated with it."""

    def __init__(self, rngs: list[np.random.Generator], block_of: npt.NDArray[np.int64]) -> None:
        self._rngs = rngs
        self._block_of = block_of

    def for_loans(self, idx: npt.NDArray[np.int64]) -> _LoanDraws:
        return _LoanDraws(self._rngs, self._block_of, idx)


class _LoanDraws:
    def __init__(
        self, rngs: list[np.random.Generator], block_of: npt.NDArray[np.int64], idx: npt.NDArray[np.int64]
    ) -> None:
        self._rngs = rngs
        self._order = np.argsort(idx, kind="stable")
        counts = np.bincount(block_of[idx[self._order]], minlength=len(rngs))
        self._segments = [(b, int(c)) for b, c in enumerate(counts.tolist()) if c]
        self._n = int(idx.shape[0])

    def _place(self, sorted_values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        out = np.empty_like(sorted_values)
        out[self._order] = sorted_values
        return out

    def random(self, size: int) -> npt.NDArray[np.float64]:
        if size != self._n:
            raise ValueError("draws are for the loans given")
        parts = [self._rngs[b].random(c) for b, c in self._segments]
        return self._place(np.concatenate(parts) if parts else np.zeros(0))  # type: ignore[return-value]

    def poisson(self, lam: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        ordered = np.asarray(lam)[self._order]
        parts, start = [], 0
        for b, c in self._segments:
            parts.append(self._rngs[b].poisson(ordered[start : start + c]))
            start += c
        values = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return self._place(values.astype(np.int64))  # type: ignore[return-value]


def _quotas(config: BookConfig) -> npt.NDArray[np.int64]:
    weights = np.power(1.0 + config.growth, np.arange(config.months))
    raw = config.borrowers * weights / weights.sum()
    quotas: npt.NDArray[np.int64] = np.floor(raw).astype(np.int64)
    quotas[: config.borrowers - int(quotas.sum())] += 1
    return quotas


def simulate_book(
    config: BookConfig,
    *,
    source: ApplicantSource,
    policy: Policy,
    cap_book: CapBook,
    sink: Callable[[int, pl.DataFrame], None],
    progress: Callable[[str, int, int], None] | None = None,
    blocks: tuple[int, int] | None = None,
) -> BookSummary:
    """Simulate the loans of blocks [first, last) (default: the whole book); ``sink(t, frame)`` gets the
    rows of month t (sorted by loan id)."""
    if config.borrowers < 1 or config.months < 1:
        raise ValueError("borrowers and months must be at least 1")
    if config.block_size < 1:
        raise ValueError("block_size must be at least 1")
    first_block, last_block = blocks if blocks is not None else (0, config.blocks())
    if not 0 <= first_block < last_block <= config.blocks():
        raise ValueError(f"blocks must be a non-empty range within 0..{config.blocks()}")
    months = [add_months(config.start_on.replace(day=1), t) for t in range(config.months)]
    quotas = _quotas(config)
    # loan ids 1..borrowers in origination order: loan id i (1-based) is booked in month month_of[i - 1]
    ends = np.cumsum(quotas)
    rate_cache: dict[tuple[int, int, date], int | None] = {}

    parts: dict[str, list[npt.NDArray[np.generic]]] = {}
    applications = np.zeros(config.months, dtype=np.int64)
    rngs: list[np.random.Generator] = []
    block_sizes: list[int] = []
    for block in range(first_block, last_block):
        rng = block_rng(config.seed, block)
        rngs.append(rng)
        lo = block * config.block_size  # 0-based ids [lo, hi)
        hi = min(lo + config.block_size, config.borrowers)
        block_sizes.append(hi - lo)
        month_of = np.searchsorted(ends, np.arange(lo, hi), side="right")
        segments = np.unique(month_of, return_counts=True)
        for t, quota in zip(segments[0].tolist(), segments[1].tolist(), strict=True):
            booked = 0
            while booked < quota:
                want = max(64, int((quota - booked) * 1.6))
                batch = source.draw(want, rng, t)
                decision = decide_batch(
                    batch,
                    policy=policy,
                    cap_book=cap_book,
                    on=months[t],
                    refer_approval=config.refer_approval,
                    rng=rng,
                    rate_cache=rate_cache,
                )
                index = np.flatnonzero(decision.approved)[: quota - booked]
                used = int(index[-1]) + 1 if index.shape[0] and booked + index.shape[0] == quota else want
                applications[t] += used
                booked += index.shape[0]
                columns = {
                    "orig_t": np.full(index.shape[0], t, dtype=np.int64),
                    "grade": decision.grade[index],
                    "rate_bp": decision.annual_rate_bp[index],
                    "term": decision.term[index],
                    "principal_fen": decision.principal_fen[index],
                    "product": batch.product[index],
                    "channel": batch.channel[index],
                    "region": batch.region[index],
                    "predicted_pd": batch.predicted_pd[index],
                    "true_pd": batch.true_pd[index],
                }
                for name, values in columns.items():
                    parts.setdefault(name, []).append(values)
        if progress:
            progress("originations", block - first_block + 1, last_block - first_block)
    loan = {name: np.concatenate(values) for name, values in parts.items()}
    n = loan["orig_t"].shape[0]
    block_of = np.repeat(np.arange(len(rngs), dtype=np.int64), block_sizes)
    draws = BlockDraws(rngs, block_of)
    # each block's recovery rates come after its originations in its stream
    recovery_rate = np.concatenate(
        [rng.beta(2, 6, size) for rng, size in zip(rngs, block_sizes, strict=True)]
    )
    recovery_rate = np.clip(recovery_rate * config.behaviour.recovery_mean / 0.25, 0, 1)
    table, combo = schedule_table(
        loan["principal_fen"], loan["rate_bp"], loan["term"], method=Method.parse(policy.method), on=months[0]
    )
    approvals = np.bincount(loan["orig_t"], minlength=config.months)
    approved_fen = np.bincount(loan["orig_t"], weights=loan["principal_fen"], minlength=config.months)
    originations = pl.DataFrame(
        {
            "month": months,
            "applications": applications,
            "approvals": approvals.astype(np.int64),
            "approved_fen": approved_fen.astype(np.int64),
        }
    )

    multipliers = macro_multipliers(config)
    grades = [g.grade for g in policy.grades]
    paid = np.zeros(n, dtype=np.int64)
    status = np.full(n, ACTIVE, dtype=np.int64)
    ead = np.zeros(n, dtype=np.int64)
    recovery_total = np.zeros(n, dtype=np.int64)
    default_t = np.full(n, -1, dtype=np.int64)
    last_delinquent_t = np.full(n, -99, dtype=np.int64)
    loan_ids = np.arange(
        first_block * config.block_size + 1, first_block * config.block_size + n + 1, dtype=np.int64
    )
    cumulative_interest = _cumulative_interest(table.payment, table.balance)
    width = table.payment.shape[1]
    month_days = np.array(months, dtype="datetime64[D]")
    rows = 0
    recovery_months = config.behaviour.recovery_months
    for t in range(config.months):
        on_book = np.flatnonzero((loan["orig_t"] < t) & ((status == ACTIVE) | (status == DEFAULTED)))
        mob = (t - loan["orig_t"][on_book]).astype(np.int64)
        term = loan["term"][on_book]
        active = status[on_book] == ACTIVE
        a_idx = on_book[active]
        a_mob = mob[active]
        outcome = step(
            mob=a_mob,
            term=term[active],
            paid_periods=paid[a_idx],
            pd_12m=loan["true_pd"][a_idx],
            multiplier=float(multipliers[t]),
            params=config.behaviour,
            rng=draws.for_loans(a_idx),
        )
        before = paid[a_idx]
        combo_a = combo[a_idx]
        interest_to = np.where(outcome.prepaid, np.minimum(before + 1, term[active]), outcome.paid_periods)
        paid_fen = table.balance[combo_a, before] - table.balance[combo_a, outcome.paid_periods]
        paid_fen += cumulative_interest[combo_a, interest_to] - cumulative_interest[combo_a, before]
        paid[a_idx] = outcome.paid_periods
        age = delinquency_age(a_mob, term[active], outcome.paid_periods)
        last_delinquent_t[a_idx[age > 0]] = t
        status[a_idx[outcome.prepaid]] = PREPAID
        status[a_idx[(outcome.paid_periods == term[active]) & ~outcome.prepaid]] = CLOSED
        defaulting = age >= DEFAULT_AGE
        d_idx = a_idx[defaulting]
        status[d_idx] = DEFAULTED
        default_t[d_idx] = t
        ead[d_idx] = table.balance[combo[d_idx], paid[d_idx]]
        recovery_total[d_idx] = np.floor(ead[d_idx] * recovery_rate[d_idx]).astype(np.int64)

        # rows for every loan on the book this month (defaulted ones while they recover)
        r_idx = on_book[~active]
        since = t - default_t[r_idx]
        instalment = recovery_total[r_idx] // recovery_months
        recovered = np.where(
            since == recovery_months,
            recovery_total[r_idx] - instalment * (recovery_months - 1),
            instalment,
        )
        status[r_idx[since >= recovery_months]] = WRITTEN_OFF
        idx = np.concatenate([a_idx, r_idx])
        ages = np.concatenate([age, DEFAULT_AGE + since.astype(np.int64)])
        mobs = np.concatenate([a_mob, mob[~active]])
        balance = np.concatenate(
            [
                np.where(defaulting, ead[a_idx], table.balance[combo_a, outcome.paid_periods]),
                ead[r_idx],
            ]
        )
        scheduled = np.where(
            mobs <= loan["term"][idx], table.payment[combo[idx], np.minimum(mobs, width - 1)], 0
        )
        recent = (t - last_delinquent_t[idx]) <= 3
        pd_current = np.clip(loan["predicted_pd"][idx] * multipliers[t] * np.where(recent, 3.0, 1.0), 0, 1)
        delinquent = ages > 0
        row_draws = draws.for_loans(idx)
        complaint = row_draws.random(idx.shape[0]) < config.complaint_rate * np.where(delinquent, 5.0, 1.0)
        contacts = np.where(delinquent, row_draws.poisson(2.0 * np.maximum(ages, 1)), 0)
        frame = pl.DataFrame(
            {
                "loan_id": loan_ids[idx],
                "month": pl.Series(np.full(idx.shape[0], month_days[t]), dtype=pl.Date),
                "origination_month": pl.Series(month_days[loan["orig_t"][idx]], dtype=pl.Date),
                "mob": mobs.astype(np.int16),
                "product": np.array(PRODUCTS)[loan["product"][idx]],
                "channel": np.array(CHANNELS)[loan["channel"][idx]],
                "region": np.array(REGIONS)[loan["region"][idx]],
                "grade": np.array(grades)[loan["grade"][idx]],
                "term": loan["term"][idx].astype(np.int16),
                "annual_rate": loan["rate_bp"][idx] / 10000.0,
                "principal_fen": loan["principal_fen"][idx],
                "predicted_pd": loan["predicted_pd"][idx],
                "true_pd": loan["true_pd"][idx],
                "pd_current": pd_current,
                "dpd": dpd_for_age(ages).astype(np.int32),
                "bucket": np.array(BUCKETS)[np.minimum(ages, len(BUCKETS) - 1)],
                "status": np.array(STATUS)[status[idx]],
                "balance_fen": balance.astype(np.int64),
                "scheduled_fen": np.concatenate(
                    [scheduled[: a_idx.shape[0]], np.zeros(r_idx.shape[0])]
                ).astype(np.int64),
                "paid_fen": np.concatenate([paid_fen, np.zeros(r_idx.shape[0], dtype=np.int64)]),
                "late": np.concatenate([outcome.late, np.zeros(r_idx.shape[0], dtype=bool)]),
                "default_flag": np.concatenate([defaulting, np.zeros(r_idx.shape[0], dtype=bool)]),
                "recovery_fen": np.concatenate([np.zeros(a_idx.shape[0], dtype=np.int64), recovered]),
                "macro_factor": np.full(idx.shape[0], multipliers[t]),
                "collection_contacts": contacts.astype(np.int16),
                "complaint": complaint,
            }
        ).sort("loan_id")
        rows += frame.height
        sink(t, frame)
        if progress:
            progress("months", t + 1, config.months)
    return BookSummary(n, rows, originations)


def _cumulative_interest(
    payment: npt.NDArray[np.int64], balance: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Interest in instalments 1..k, per schedule (payments minus principal repaid)."""
    cumulative_payment = np.cumsum(payment, axis=1)
    cumulative_principal = balance[:, :1] - balance
    return np.asarray(cumulative_payment - cumulative_principal, dtype=np.int64)
