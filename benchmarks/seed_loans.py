"""A synthetic consumer-loan book in PostgreSQL, seeded fast, cached as a template database.

Shared by ``bench_eod.py`` and ``bench_repay.py`` (see docs/BENCHMARKS.md). Nothing here goes through
the ORM: NumPy computes the schedules, binary ``COPY`` (psycopg 3 ``cursor.copy``) loads the
instalments and a staging table, and ``INSERT … SELECT`` builds loans, journal, events and EOD progress.

The book as of business date ``day`` (default 2026-06-15), *after* end of day ``day - 1`` has run:

* loans ``1..N``, generated in chunks of 10,000 from ``numpy.random.default_rng([seed, chunk])``, so
  the first 10,000 loans of every book are the same loans;
* 12-month equal-instalment (等额本息) loans, principal 500–30,000 CNY (whole yuan), nominal rate
  0–23.99% (5% of loans at 0%), started 1–364 days before ``day`` (so none has matured and
  ~1/33 have an instalment due on ``day``), disbursed on the start date, no fees; schedules as
  ``pricing.schedule.build_schedule`` computes them (payment rounded half up to the fen, interest
  rounded each month, the last instalment clears the balance), checked against it on a sample;
* instalments due before ``day`` are billed. 85% of loans paid every one of them on its due date;
  15% (of the loans with at least one due) left the latest 1–4 unpaid, and 1% the latest 5–11
  (DPD up to ~330: write-off candidates); a quarter of the late loans paid the interest and
  10–90% of the principal of their oldest unpaid instalment;
* 0.05% of the current loans hold an overpayment (a credit below one instalment);
* penalty rate: 12% a year before the cap, lowered so that APR + penalty ≤ 24%
  (``accrual.capped_penalty_rate``), daily rate in parts per 10^9 on a 360-day year (333,333 when
  uncapped); the penalties charged so far are overdue principal × days × rate, rounded once;
* stored balances (principal, interest, penalties outstanding, overpayment, paid total, DPD, bucket,
  state ``active``/``overdue``) agree with the instalments and with the journal;
* journal: per loan a ``disbursement`` entry (``disburse:<id>``: loan principal / cash) and one
  ``seed-history`` entry that sums everything after it up to ``day - 1`` (interest billed, repayments,
  penalties charged, overpayment held), so ``ledger check`` finds nothing;
* ``loan_events``: a ``write-off-candidate`` event for each loan already past 180 DPD (on the day it
  crossed); ``eod_steps``: every step of every business date from the first disbursement to
  ``day - 1`` is marked done, so end of day for ``day`` runs exactly one date.

With ``history="full"`` (template ``…_full``) the journal is the one a real book of that age has
instead of the ``seed-history`` summary: a ``billing`` entry per billed instalment (keyed as end of day
keys them), a ``repayment`` entry per instalment paid (in full on the due date; the part-payments three
days later, capped at ``day - 1``) with an allocation memo, a ``repayment`` entry for each overpayment
held, and a ``penalty`` entry for every day each late loan has been overdue (computed day by day, half
up, exactly as end of day computes it; the loan's penalty balance is their sum): about 21 entries and
47 postings per loan instead of 2 and 6.

Not seeded: ``commands`` rows (one per past command in a real book) and ``bucket-entered`` events.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import psycopg

DAY = date(2026, 6, 15)
SEED = 20260615
CHUNK = 10_000
TERM = 12
GENERATOR_VERSION = "seed_loans/4"
ADMIN_URL = os.environ.get("XIAODAI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BUCKETS = "M0:0,M1:1,M2:31,M3:61,M4+:91"
PG_EPOCH = np.datetime64("2000-01-01", "D")
SEED_TABLES = ("loans", "installments", "journal_entries", "postings", "loan_events", "eod_steps")

I64 = npt.NDArray[np.int64]


def pg_url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def database_exists(name: str) -> bool:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def database_comment(name: str) -> str | None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return None if row is None else row[0]


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clone_database(template: str, name: str) -> str:
    """A fresh copy of ``template`` (file copy: fast for big databases); returns its URL.

    The copy's files are flushed to disk (``sync``) before returning, so that a timed run that follows
    does not compete with the kernel writing gigabytes of freshly copied pages back.
    """
    drop_database(name)
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    os.sync()
    return pg_url(name)


def prewarm(name: str) -> float:
    """Read every table and index of database ``name`` into the OS page cache (``pg_prewarm``, mode
    ``read``); returns the seconds it took. A database server keeps its working set in memory; a copy
    made from a template a moment ago may not be, and the kernel may have evicted it already."""
    started = time.perf_counter()
    with psycopg.connect(pg_url(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute(
            "SELECT pg_prewarm(c.oid, 'read') FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i', 't')"
        )
    return time.perf_counter() - started


def database_size(name: str) -> int:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SELECT pg_database_size(%s)", (name,)).fetchone()
    return int(row[0]) if row else 0


def label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


@dataclass(frozen=True, slots=True)
class Book:
    loans: int
    day: date = DAY
    seed: int = SEED
    delinquent_share: float = 0.15
    long_delinquent_share: float = 0.01
    partial_share: float = 0.25
    overpay_share: float = 0.0005
    history: str = "compact"  # or "full": one journal entry per past event (see the module docstring)

    def __post_init__(self) -> None:
        if self.history not in {"compact", "full"}:
            raise ValueError(f"history must be compact or full, not {self.history!r}")

    @property
    def template(self) -> str:
        suffix = "_full" if self.history == "full" else ""
        return f"xiaodai_bench_tmpl_{label(self.loans)}{suffix}"

    def fingerprint(self, head: str) -> str:
        return (
            f"{GENERATOR_VERSION} loans={self.loans} day={self.day} seed={self.seed} "
            f"late={self.delinquent_share}/{self.long_delinquent_share}/{self.partial_share} "
            f"over={self.overpay_share} history={self.history} schema={head} "
            f"eod={'+'.join(eod_step_names())}"
        )


# --------------------------------------------------------------------------------------------- generate


@dataclass(slots=True)
class Chunk:
    ids: I64  # (n,)
    principal: I64
    rate_bps: I64
    start: npt.NDArray[np.datetime64]
    payment: I64  # regular instalment (fen)
    due: npt.NDArray[np.datetime64]  # (n, TERM)
    period_start: npt.NDArray[np.datetime64]  # (n, TERM)
    principal_k: I64  # (n, TERM)
    interest_k: I64
    billed: npt.NDArray[np.bool_]
    paid_principal_k: I64
    paid_interest_k: I64
    paid: npt.NDArray[np.bool_]  # fully paid (paid_on set)
    overpayment: I64
    penalties: I64
    penalty_e9: I64
    capped: I64
    dpd: I64
    oldest_unpaid: npt.NDArray[np.datetime64]  # NaT when none


def _round_half_up_div(num: I64, den: int) -> I64:
    return (num * 2 + den) // (den * 2)


def _add_months(start: npt.NDArray[np.datetime64], months: int) -> npt.NDArray[np.datetime64]:
    """``money.dates.add_months`` vectorised: same day of month, clamped to the month's end."""
    month0 = start.astype("datetime64[M]")
    day = (start - month0.astype("datetime64[D]")).astype(np.int64) + 1
    target = month0 + months
    last = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    due: npt.NDArray[np.datetime64] = target.astype("datetime64[D]") + (np.minimum(day, last) - 1)
    return due


def generate_chunk(book: Book, chunk_no: int) -> Chunk:
    first = chunk_no * CHUNK
    n = min(CHUNK, book.loans - first)
    rng = np.random.default_rng([book.seed, chunk_no])
    # draw full-size arrays in a fixed order: a chunk's loans never depend on its size or masks
    principal = rng.integers(500, 30_001, CHUNK)[:n].astype(np.int64) * 100
    rate_bps = rng.integers(0, 2_400, CHUNK)[:n].astype(np.int64)
    promo = rng.random(CHUNK)[:n] < 0.05
    offset = rng.integers(1, 365, CHUNK)[:n].astype(np.int64)
    late_u = rng.random(CHUNK)[:n]
    late_k = rng.integers(1, 5, CHUNK)[:n]
    long_k = rng.integers(5, 12, CHUNK)[:n]
    partial_u = rng.random(CHUNK)[:n]
    partial_f = rng.uniform(0.1, 0.9, CHUNK)[:n]
    over_u = rng.random(CHUNK)[:n]
    over_f = rng.random(CHUNK)[:n]
    rate_bps[promo] = 0

    day = np.datetime64(book.day, "D")
    start = day - offset
    ids = np.arange(first + 1, first + n + 1, dtype=np.int64)

    # schedule: pricing.schedule.build_schedule, equal instalment, in integer fen
    r = rate_bps / 120_000.0
    growth = (1.0 + r) ** TERM
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.floor(principal * r * growth / (growth - 1.0) + 0.5).astype(np.int64)
    payment = np.where(rate_bps == 0, _round_half_up_div(principal, TERM), annuity)
    due = np.stack([_add_months(start, k) for k in range(1, TERM + 1)], axis=1)
    period_start = np.concatenate([start[:, None], due[:, :-1]], axis=1)
    principal_k = np.zeros((n, TERM), np.int64)
    interest_k = np.zeros((n, TERM), np.int64)
    balance = principal.copy()
    for k in range(TERM):
        interest_k[:, k] = _round_half_up_div(balance * rate_bps, 120_000)
        principal_k[:, k] = balance if k == TERM - 1 else payment - interest_k[:, k]
        balance = balance - principal_k[:, k]

    # behaviour up to day - 1
    billed = due < day
    m = billed.sum(axis=1)
    k_unpaid = np.where(late_u < book.delinquent_share, late_k, 0)
    k_unpaid = np.where(late_u < book.long_delinquent_share, long_k, k_unpaid)
    k_unpaid = np.minimum(k_unpaid, m)
    col = np.arange(TERM)[None, :]
    unpaid = (col >= (m - k_unpaid)[:, None]) & (col < m[:, None])
    paid = billed & ~unpaid
    paid_principal_k = np.where(paid, principal_k, 0)
    paid_interest_k = np.where(paid, interest_k, 0)
    late = k_unpaid > 0
    partial = late & (partial_u < book.partial_share)
    rows = np.nonzero(partial)[0]
    oldest_col = (m - k_unpaid)[rows]
    paid_interest_k[rows, oldest_col] = interest_k[rows, oldest_col]
    paid_principal_k[rows, oldest_col] = np.floor(principal_k[rows, oldest_col] * partial_f[rows]).astype(
        np.int64
    )

    overpayment = np.where(
        ~late & (over_u < book.overpay_share),
        np.maximum(100, (over_f * payment).astype(np.int64) // 100 * 100),
        0,
    ).astype(np.int64)

    # penalty rate: 12% a year, capped so that APR (= the nominal rate here) + penalty <= 24%
    annual_e6 = np.clip(240_000 - rate_bps * 100, 0, 120_000)
    penalty_e9 = _round_half_up_div(annual_e6 * 1000, 360)
    capped = (annual_e6 < 120_000).astype(np.int64)

    # penalties charged by the daily EOD so far: overdue principal x days x rate, rounded once
    eve = day - 1
    overdue_days = np.where(unpaid, (eve - due).astype(np.int64), 0).clip(min=0)
    exposure = ((principal_k - paid_principal_k) * overdue_days).sum(axis=1)
    penalties = (exposure * penalty_e9 * 2 + 1_000_000_000) // 2_000_000_000

    oldest_unpaid = np.full(n, np.datetime64("NaT"), "datetime64[D]")
    oldest_unpaid[late] = due[late, (m - k_unpaid)[late]]
    dpd = np.where(late, (eve - oldest_unpaid).astype(np.int64), 0).clip(min=0)
    dpd = np.where(late, dpd, 0)
    return Chunk(
        ids,
        principal,
        rate_bps,
        start,
        payment,
        due,
        period_start,
        principal_k,
        interest_k,
        billed,
        paid_principal_k,
        paid_interest_k,
        paid & (paid_principal_k == principal_k),
        overpayment,
        penalties,
        penalty_e9.astype(np.int64),
        capped,
        dpd,
        oldest_unpaid,
    )


# ------------------------------------------------------------------------------------- binary COPY

_KINDS = {"i8": (">i8", 8), "i4": (">i4", 4), "date": (">i4", 4), "bool": ("u1", 1)}
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def encode_rows(columns: list[tuple[str, str]], values: dict[str, np.ndarray], null: set[str]) -> bytes:
    """Rows in PostgreSQL binary COPY format (no header); the columns in ``null`` are NULL in every row."""
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, kind in columns:
        fields.append((f"len_{name}", ">i4"))
        if name not in null:
            fields.append((name, _KINDS[kind][0]))
    n = len(next(iter(values.values())))
    out = np.zeros(n, np.dtype(fields))
    out["nfields"] = len(columns)
    for name, kind in columns:
        if name in null:
            out[f"len_{name}"] = -1
            continue
        out[f"len_{name}"] = _KINDS[kind][1]
        value = values[name]
        if kind == "date":
            value = (value.astype("datetime64[D]") - PG_EPOCH).astype(np.int64)
        out[name] = value
    return out.tobytes()


INSTALLMENT_COLUMNS = [
    ("id", "i8"),
    ("loan_id", "i8"),
    ("period", "i4"),
    ("schedule_version", "i4"),
    ("active", "bool"),
    ("start_on", "date"),
    ("due_on", "date"),
    ("principal_fen", "i8"),
    ("interest_fen", "i8"),
    ("fee_fen", "i8"),
    ("billed", "bool"),
    ("paid_principal_fen", "i8"),
    ("paid_interest_fen", "i8"),
    ("paid_fee_fen", "i8"),
    ("paid_on", "date"),
]

STAGE_COLUMNS = [
    ("id", "i8"),
    ("principal", "i8"),
    ("rate_bps", "i4"),
    ("start_on", "date"),
    ("payment", "i8"),
    ("penalty_e9", "i8"),
    ("capped", "i4"),
    ("disclosed", "i8"),
    ("paid_principal", "i8"),
    ("paid_interest", "i8"),
    ("billed_interest", "i8"),
    ("penalties", "i8"),
    ("overpayment", "i8"),
    ("dpd", "i4"),
    ("n_billed", "i4"),
    ("n_paid", "i4"),
    ("oldest_unpaid", "date"),
]


def installment_bytes(c: Chunk) -> bytes:
    n = len(c.ids)
    values = {
        "id": (c.ids[:, None] - 1) * TERM + np.arange(1, TERM + 1)[None, :],
        "loan_id": np.repeat(c.ids[:, None], TERM, axis=1),
        "period": np.broadcast_to(np.arange(1, TERM + 1), (n, TERM)),
        "schedule_version": np.ones((n, TERM), np.int64),
        "active": np.ones((n, TERM), np.int64),
        "start_on": c.period_start,
        "due_on": c.due,
        "principal_fen": c.principal_k,
        "interest_fen": c.interest_k,
        "fee_fen": np.zeros((n, TERM), np.int64),
        "billed": c.billed.astype(np.int64),
        "paid_principal_fen": c.paid_principal_k,
        "paid_interest_fen": c.paid_interest_k,
        "paid_fee_fen": np.zeros((n, TERM), np.int64),
        "paid_on": c.due,
    }
    flat = {k: np.ascontiguousarray(v).reshape(-1) for k, v in values.items()}
    paid = c.paid.reshape(-1)
    with_date = encode_rows(INSTALLMENT_COLUMNS, {k: v[paid] for k, v in flat.items()}, set())
    without = encode_rows(INSTALLMENT_COLUMNS, {k: v[~paid] for k, v in flat.items()}, {"paid_on"})
    return with_date + without


def stage_bytes(c: Chunk) -> bytes:
    values = {
        "id": c.ids,
        "principal": c.principal,
        "rate_bps": c.rate_bps,
        "start_on": c.start,
        "payment": c.payment,
        "penalty_e9": c.penalty_e9,
        "capped": c.capped,
        "disclosed": (c.principal_k + c.interest_k).sum(axis=1),
        "paid_principal": c.paid_principal_k.sum(axis=1),
        "paid_interest": c.paid_interest_k.sum(axis=1),
        "billed_interest": np.where(c.billed, c.interest_k, 0).sum(axis=1),
        "penalties": c.penalties,
        "overpayment": c.overpayment,
        "dpd": c.dpd,
        "n_billed": c.billed.sum(axis=1),
        "n_paid": c.paid.sum(axis=1),
        "oldest_unpaid": np.where(np.isnat(c.oldest_unpaid), PG_EPOCH, c.oldest_unpaid),
    }
    return encode_rows(STAGE_COLUMNS, values, set())


# ------------------------------------------------------------------------------------------- SQL

STAGE_DDL = """
CREATE UNLOGGED TABLE bench_seed_loans (
  id bigint, principal bigint, rate_bps integer, start_on date, payment bigint, penalty_e9 bigint,
  capped integer, disclosed bigint, paid_principal bigint, paid_interest bigint, billed_interest bigint,
  penalties bigint, overpayment bigint, dpd integer, n_billed integer, n_paid integer, oldest_unpaid date)
"""

BUCKET_CASE = (
    "CASE WHEN s.dpd >= 91 THEN 'M4+' WHEN s.dpd >= 61 THEN 'M3' WHEN s.dpd >= 31 THEN 'M2' "
    "WHEN s.dpd >= 1 THEN 'M1' ELSE 'M0' END"
)

LOANS_SQL = f"""
INSERT INTO loans (id, product, currency, state, method, principal_fen, term, annual_rate, start_on,
  first_due_on, odd_period_daycount, upfront_fee_fen, upfront_fee_timing, monthly_fee_fen, flat_fee_rate,
  apr_percent, disclosed_repayment_fen, cap_profile, penalty_rate_disclosed, penalty_rate_daily_e9,
  penalty_reason, allocation_order, write_off_dpd, buckets, principal_outstanding_fen,
  interest_outstanding_fen, fees_outstanding_fen, penalties_outstanding_fen, overpayment_fen,
  paid_total_fen, penalties_charged_fen, dpd, bucket, disbursed_on, closed_on, version)
SELECT s.id, 'consumer-12m', 'CNY', CASE WHEN s.dpd > 0 THEN 'overdue' ELSE 'active' END,
  'equal-installment', s.principal, {TERM}, trim_scale(s.rate_bps / 10000.0)::text, s.start_on,
  NULL, 'act/360', 0, 'deducted', 0, '0', trim_scale(s.rate_bps / 100.0)::text, s.disclosed,
  'cn-consumer-24', '0.12', s.penalty_e9,
  CASE WHEN s.capped = 1 THEN 'PENALTY_CAPPED_BY_PROFILE' ELSE 'PENALTY_AS_DISCLOSED' END,
  'overdue-first', 180, '{BUCKETS}', s.principal - s.paid_principal,
  s.billed_interest - s.paid_interest, 0, s.penalties, s.overpayment,
  s.paid_principal + s.paid_interest + s.overpayment, s.penalties, s.dpd, {BUCKET_CASE},
  s.start_on, NULL, 2 + s.n_paid
FROM bench_seed_loans s
"""

DISBURSE_SQL = """
INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
SELECT s.id, s.start_on, 'disbursement', 'disburse:' || s.id, s.id, '' FROM bench_seed_loans s
"""

DISBURSE_POSTINGS_SQL = """
INSERT INTO postings (entry_id, account, loan_id, amount_fen)
SELECT s.id, v.account, s.id, v.amount FROM bench_seed_loans s
CROSS JOIN LATERAL (VALUES ('assets:loans:principal', s.principal),
                           ('assets:cash:settlement', -s.principal)) v(account, amount)
"""

HISTORY_WHERE = "(s.billed_interest > 0 OR s.paid_principal > 0 OR s.penalties > 0 OR s.overpayment > 0)"

HISTORY_SQL = f"""
INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
SELECT %(n)s + s.id, %(eve)s, 'seed-history', 'seed-history:' || s.id, s.id,
  '{{"seeded": "interest billed, repayments, penalties and overpayment up to this date, summed"}}'
FROM bench_seed_loans s WHERE {HISTORY_WHERE}
"""

HISTORY_POSTINGS_SQL = f"""
INSERT INTO postings (entry_id, account, loan_id, amount_fen)
SELECT %(n)s + s.id, v.account, s.id, v.amount FROM bench_seed_loans s
CROSS JOIN LATERAL (VALUES
  ('assets:loans:interest', s.billed_interest - s.paid_interest),
  ('income:interest', -s.billed_interest),
  ('assets:cash:settlement', s.paid_principal + s.paid_interest + s.overpayment),
  ('assets:loans:principal', -s.paid_principal),
  ('assets:loans:penalties', s.penalties),
  ('income:penalties', -s.penalties),
  ('liabilities:borrowers:overpayment', -s.overpayment)) v(account, amount)
WHERE {HISTORY_WHERE} AND v.amount <> 0
"""

# --history full: the journal a real book of this age has, one entry per event (ids in fixed ranges)
FULL_PENALTY_SQL = """
CREATE UNLOGGED TABLE bench_seed_penalty AS
SELECT loan_id, day, amount FROM (
  SELECT i.loan_id, d::date AS day,
         (CAST(SUM(i.principal_fen - i.paid_principal_fen) AS BIGINT) * MAX(s.penalty_e9) + 500000000)
           / 1000000000 AS amount
  FROM installments i JOIN bench_seed_loans s ON s.id = i.loan_id
  CROSS JOIN LATERAL generate_series(i.due_on + 1, %(eve)s::date, interval '1 day') d
  WHERE i.billed AND i.paid_on IS NULL AND s.penalty_e9 > 0
  GROUP BY i.loan_id, d) x
WHERE amount > 0
"""

FULL_PENALTY_TOTALS_SQL = """
UPDATE bench_seed_loans s SET penalties = COALESCE(t.total, 0)
FROM bench_seed_loans s2 LEFT JOIN (SELECT loan_id, SUM(amount) AS total FROM bench_seed_penalty
                                    GROUP BY loan_id) t ON t.loan_id = s2.id
WHERE s2.id = s.id
"""

FULL_JOURNAL_SQL = [
    # billing of every past instalment, as end of day posts it
    """INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
       SELECT 2 * %(n)s + i.id, i.due_on, 'billing', 'eod:billing:' || i.due_on || ':' || i.loan_id,
              i.loan_id, ''
       FROM installments i WHERE i.billed AND i.interest_fen + i.fee_fen > 0""",
    """INSERT INTO postings (entry_id, account, loan_id, amount_fen)
       SELECT 2 * %(n)s + i.id, v.account, i.loan_id, v.amount FROM installments i
       CROSS JOIN LATERAL (VALUES ('assets:loans:interest', i.interest_fen),
                                  ('income:interest', -i.interest_fen)) v(account, amount)
       WHERE i.billed AND i.interest_fen + i.fee_fen > 0 AND v.amount <> 0""",
    # one repayment per instalment paid (in full on its due date, or in part three days later)
    """INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
       SELECT 14 * %(n)s + i.id, LEAST(COALESCE(i.paid_on, i.due_on + 3), %(eve)s::date), 'repayment',
              'repay:seed:' || i.loan_id || ':' || i.period, i.loan_id,
              '{"allocations": [[' || i.period || ', "interest", ' || i.paid_interest_fen || '], ['
                || i.period || ', "principal", ' || i.paid_principal_fen || ']], "overpayment": 0}'
       FROM installments i WHERE i.paid_principal_fen + i.paid_interest_fen > 0""",
    """INSERT INTO postings (entry_id, account, loan_id, amount_fen)
       SELECT 14 * %(n)s + i.id, v.account, i.loan_id, v.amount FROM installments i
       CROSS JOIN LATERAL (VALUES ('assets:cash:settlement', i.paid_principal_fen + i.paid_interest_fen),
                                  ('assets:loans:principal', -i.paid_principal_fen),
                                  ('assets:loans:interest', -i.paid_interest_fen)) v(account, amount)
       WHERE i.paid_principal_fen + i.paid_interest_fen > 0 AND v.amount <> 0""",
    # the overpayment held
    """INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
       SELECT %(n)s + s.id, %(eve)s, 'repayment', 'repay:seed-over:' || s.id, s.id,
              '{"allocations": [], "overpayment": ' || s.overpayment || '}'
       FROM bench_seed_loans s WHERE s.overpayment > 0""",
    """INSERT INTO postings (entry_id, account, loan_id, amount_fen)
       SELECT %(n)s + s.id, v.account, s.id, v.amount FROM bench_seed_loans s
       CROSS JOIN LATERAL (VALUES ('assets:cash:settlement', s.overpayment),
                                  ('liabilities:borrowers:overpayment', -s.overpayment)) v(account, amount)
       WHERE s.overpayment > 0""",
    # every day's penalty since each loan fell behind
    """INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo)
       SELECT 26 * %(n)s + row_number() OVER (ORDER BY p.day, p.loan_id), p.day, 'penalty',
              'eod:penalty:' || p.day || ':' || p.loan_id, p.loan_id, ''
       FROM bench_seed_penalty p""",
    """INSERT INTO postings (entry_id, account, loan_id, amount_fen)
       SELECT 26 * %(n)s + p.n, v.account, p.loan_id, v.amount
       FROM (SELECT row_number() OVER (ORDER BY day, loan_id) AS n, loan_id, amount
             FROM bench_seed_penalty) p
       CROSS JOIN LATERAL (VALUES ('assets:loans:penalties', p.amount),
                                  ('income:penalties', -p.amount)) v(account, amount)""",
]

EVENTS_SQL = """
INSERT INTO loan_events (loan_id, business_date, kind, payload)
SELECT s.id, s.oldest_unpaid + 180, 'write-off-candidate', '{"dpd": 180}'
FROM bench_seed_loans s WHERE s.dpd >= 180
"""

EOD_STEPS_SQL = """
INSERT INTO eod_steps (business_date, step, rows_affected, completed_at)
SELECT d::date, st.step, 0, d + interval '1 day 2 hours'
FROM generate_series(%(first)s::date, %(eve)s::date, interval '1 day') d
CROSS JOIN unnest(%(steps)s::text[]) st(step)
"""


def eod_step_names() -> list[str]:
    from xiaodai.servicing.eod import STEPS

    return [step.name for step in STEPS]


@dataclass(slots=True)
class SchemaObjects:
    constraints: list[tuple[str, str, str, str]]  # (table, name, type, definition)
    indexes: list[tuple[str, str]]  # (name, definition)


def _capture_and_drop(conn: psycopg.Connection) -> SchemaObjects:
    """Drop constraints and indexes of the seeded tables (bulk load first, index after)."""
    tables = list(SEED_TABLES)
    constraints = [
        (str(t), str(n), str(k), str(d))
        for t, n, k, d in conn.execute(
            """SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
               FROM pg_constraint c
               WHERE (c.conrelid::regclass::text = ANY(%s) AND c.contype IN ('p', 'u', 'f'))
                  OR (c.confrelid::regclass::text = ANY(%s) AND c.contype = 'f')""",
            (tables, tables),
        ).fetchall()
    ]
    indexes = [
        (str(n), str(d))
        for n, d in conn.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
                 AND i.indexname NOT IN (SELECT conname FROM pg_constraint)""",
            (tables,),
        ).fetchall()
    ]
    for table, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return SchemaObjects(constraints, indexes)


def _restore(conn: psycopg.Connection, objects: SchemaObjects) -> None:
    order = {"p": 0, "u": 1, "f": 3}
    for table, name, kind, definition in sorted(objects.constraints, key=lambda c: order[c[2]]):
        if kind == "f":
            continue
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in objects.indexes:
        conn.execute(definition)
    for table, name, kind, definition in objects.constraints:
        if kind == "f":
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def schema_head() -> str:
    from alembic.script import ScriptDirectory

    from xiaodai.db.migrate import alembic_config

    return str(ScriptDirectory.from_config(alembic_config(ADMIN_URL)).get_current_head())


@dataclass(slots=True)
class SeedReport:
    database: str
    loans: int
    installments: int
    seconds: float
    phases: list[tuple[str, float]]
    size_bytes: int
    pricing_check: str


def check_against_pricing(book: Book, sample: int = 200) -> str:
    """Compare the vectorised schedules with ``pricing.schedule.build_schedule`` on a sample."""
    from xiaodai.pricing.schedule import LoanTerms, Method, build_schedule

    c = generate_chunk(book, 0)
    bad = 0
    count = min(sample, len(c.ids))
    for i in range(count):
        terms = LoanTerms(
            principal=Decimal(int(c.principal[i])) / 100,
            term=TERM,
            method=Method.EQUAL_INSTALLMENT,
            annual_rate=Decimal(int(c.rate_bps[i])) / 10_000,
            start_on=c.start[i].astype(date),
        )
        rows = build_schedule(terms).rows
        mine = [
            (c.due[i, k].astype(date), int(c.principal_k[i, k]), int(c.interest_k[i, k])) for k in range(TERM)
        ]
        theirs = [(r.due_on, int(r.principal * 100), int(r.interest * 100)) for r in rows]
        bad += mine != theirs
    return f"{count - bad}/{count} schedules identical to build_schedule"


def seed(book: Book, name: str, *, progress: bool = True) -> SeedReport:
    """Create database ``name`` (dropped first), migrate it and load ``book`` into it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from xiaodai.db.migrate import upgrade

    started = time.perf_counter()
    phases: list[tuple[str, float]] = []
    mark = started

    def phase(what: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases.append((what, now - mark))
        mark = now

    drop_database(name)
    admin(f'CREATE DATABASE "{name}"')
    upgrade(pg_url(name))
    phase("create + migrate")
    pricing_check = check_against_pricing(book)
    chunks = (book.loans + CHUNK - 1) // CHUNK
    eve = book.day - timedelta(days=1)
    with psycopg.connect(pg_url(name)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        objects = _capture_and_drop(conn)
        conn.execute(STAGE_DDL)
        phase("drop indexes")
        first_start = book.day
        columns = ", ".join(c for c, _ in INSTALLMENT_COLUMNS)
        with (
            Progress(
                TextColumn("  seeding {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                disable=not progress,
                transient=True,
            ) as bar,
            conn.cursor() as cur,
        ):
            task = bar.add_task(f"{book.loans:,} loans (numpy + binary COPY)", total=book.loans)
            with (
                cur.copy(f"COPY installments ({columns}) FROM STDIN (FORMAT BINARY)") as inst,
            ):
                inst.write(COPY_HEADER)
                stage_parts: list[bytes] = []
                for chunk_no in range(chunks):
                    c = generate_chunk(book, chunk_no)
                    first_start = min(first_start, c.start.min().astype(date))
                    inst.write(installment_bytes(c))
                    stage_parts.append(stage_bytes(c))
                    bar.advance(task, len(c.ids))
                inst.write(COPY_TRAILER)
            phase("generate + COPY instalments")
            stage_cols = ", ".join(c for c, _ in STAGE_COLUMNS)
            with cur.copy(f"COPY bench_seed_loans ({stage_cols}) FROM STDIN (FORMAT BINARY)") as st:
                st.write(COPY_HEADER)
                for part in stage_parts:
                    st.write(part)
                st.write(COPY_TRAILER)
            del stage_parts
            phase("COPY loan staging")
        params = {
            "n": book.loans,
            "eve": eve,
            "first": first_start + timedelta(days=1),
            "steps": eod_step_names(),
        }
        if book.history == "full":
            conn.execute(FULL_PENALTY_SQL, params)
            conn.execute(FULL_PENALTY_TOTALS_SQL)
            phase("daily penalties")
        conn.execute(LOANS_SQL)
        phase("INSERT loans")
        conn.execute(DISBURSE_SQL)
        conn.execute(DISBURSE_POSTINGS_SQL)
        if book.history == "full":
            for sql in FULL_JOURNAL_SQL:
                conn.execute(sql, params)
            conn.execute("DROP TABLE bench_seed_penalty")
        else:
            conn.execute(HISTORY_SQL, params)
            conn.execute(HISTORY_POSTINGS_SQL, params)
        conn.execute(EVENTS_SQL)
        conn.execute(EOD_STEPS_SQL, params)
        phase("INSERT journal, events, eod_steps")
        conn.execute("DROP TABLE bench_seed_loans")
        _restore(conn, objects)
        for table in ("loans", "installments", "journal_entries", "postings", "loan_events"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        phase("indexes + constraints")
    with psycopg.connect(pg_url(name), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("VACUUM (FREEZE, ANALYZE)")
        conn.execute("CHECKPOINT")
        counted = conn.execute("SELECT count(*) FROM installments").fetchone()
        installments = int(counted[0]) if counted else 0
    phase("VACUUM (FREEZE, ANALYZE) + CHECKPOINT")
    return SeedReport(
        name,
        book.loans,
        installments,
        time.perf_counter() - started,
        phases,
        database_size(name),
        pricing_check,
    )


def ensure_template(book: Book, *, reseed: bool = False, progress: bool = True) -> SeedReport | None:
    """Seed ``book.template`` unless a template with the same fingerprint exists; returns the report."""
    want = book.fingerprint(schema_head())
    if not reseed and database_exists(book.template) and database_comment(book.template) == want:
        return None
    report = seed(book, book.template, progress=progress)
    admin(f"COMMENT ON DATABASE \"{book.template}\" IS '{want}'")
    return report


def print_seed_report(report: SeedReport | None, book: Book) -> None:
    if report is None:
        print(
            f"  template {book.template} reused ({database_size(book.template) / 2**30:.2f} GiB); "
            "--reseed to rebuild"
        )
        return
    print(
        f"  seeded {report.database}: {report.loans:,} loans, {report.installments:,} instalments in "
        f"{report.seconds:.1f} s ({report.size_bytes / 2**30:.2f} GiB); {report.pricing_check}"
    )
    print("    " + "; ".join(f"{what} {secs:.1f} s" for what, secs in report.phases))
