"""End-of-day benchmark on PostgreSQL: the set-based ``run_day`` over a 1,000,000-loan book, and a per-loan
ORM loop (the Fineract / frappe way) over a 10,000-loan sample of the same book (see docs/BENCHMARKS.md).

    .venv/bin/python benchmarks/bench_eod.py             # 1,000,000 loans, 10,000-loan ORM sample
    .venv/bin/python benchmarks/bench_eod.py --quick     # 100,000 loans, 2,000-loan sample
    .venv/bin/python benchmarks/bench_eod.py --reseed    # rebuild the cached template databases

The books are seeded by ``seed_loans.py`` (binary COPY, no ORM) into template databases
``xiaodai_bench_tmpl_<size>`` and cached there; every run times a fresh ``CREATE DATABASE … TEMPLATE``
copy. One business date (2026-06-15) is closed: every earlier date is already marked done.

* set-based: ``xiaodai.servicing.eod.run_day(engine, day)``, wall time per step and in total
  (goal: 1,000,000 loans in at most 20 s);
* baseline: for every open loan of the sample, in id order, committing every 100 loans: load the loan
  and its instalments through the ORM, bill what is due (``billing.bill_through``: one journal entry per
  instalment, overpayment applied), apply any overpayment held, charge the day's penalty
  (``accrual.penalty_for_day`` + ``ledger.post``), recompute DPD / bucket / state (``refresh_status``),
  write the bucket-entered and write-off-candidate events, flush;
* the set-based run is repeated on a copy of the sample and its result compared with the ORM loop's,
  row by row (loans, instalments, postings per loan and account, events): the two do the same work;
* loans per second of each, and the speed-up per loan (goal: at least 100x);
* checks after the timed run: trial balance, every entry of the day nets to zero, balance deltas of the
  loans equal the day's postings, billing / penalty entries counted against the book, nothing due left
  unbilled, DPD of a random sample recomputed in Python.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

import seed_loans
from seed_loans import (
    DAY,
    Book,
    clone_database,
    drop_database,
    ensure_template,
    prewarm,
    print_seed_report,
)
from xiaodai.db.session import make_engine
from xiaodai.db.tables import LoanEventRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.servicing.accrual import penalty_for_day
from xiaodai.servicing.billing import apply_overpayment, bill_through
from xiaodai.servicing.delinquency import bucket_for, days_past_due, parse_buckets
from xiaodai.servicing.eod import OPEN, days_to_run, run_day
from xiaodai.servicing.lifecycle import LoanState
from xiaodai.servicing.loans import installments, refresh_status, unpaid

GOAL_SECONDS = 20.0
GOAL_SPEEDUP = 100.0
ORM_BATCH = 100


# ------------------------------------------------------------------------------------------ machine


def machine_info() -> None:
    with psycopg.connect(seed_loans.ADMIN_URL, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                "('shared_buffers','work_mem','maintenance_work_mem','max_wal_size','synchronous_commit',"
                "'max_parallel_workers_per_gather','effective_cache_size','random_page_cost')"
            ).fetchall()
        )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"machine: {platform.machine()} {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, "
        f"{mem:.0f} GiB RAM, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"software: CPython {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"psycopg {psycopg.__version__}, PostgreSQL {version[0] if version else '?'}"
    )
    print("postgres: " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())))
    print()


# ------------------------------------------------------------------------------------- the ORM loop


def orm_close_loan(session: Session, loan_id: int, day: date) -> None:
    """Everything EOD does for one loan, through the ORM objects."""
    loan = session.execute(select(LoanRow).where(LoanRow.id == loan_id)).scalar_one()
    rows = installments(session, loan_id)
    # bill
    bill_through(session, loan, rows, day)
    # apply overpayment
    if loan.overpayment_fen > 0:
        apply_overpayment(session, loan, rows, day)
    # penalty
    overdue_principal = sum(
        r.principal_fen - r.paid_principal_fen
        for r in rows
        if r.billed and r.active and r.paid_on is None and r.due_on < day
    )
    amount = penalty_for_day(overdue_principal, loan.penalty_rate_daily_e9)
    if amount > 0:
        ledger.post(
            session,
            entry(
                day,
                "penalty",
                f"eod:penalty:{day.isoformat()}:{loan.id}",
                [(Account.LOAN_PENALTIES, amount), (Account.PENALTY_INCOME, -amount)],
                loan_id=loan.id,
            ),
            loan=loan,
        )
        loan.penalties_charged_fen += amount
    # delinquency
    old_bucket = loan.bucket
    refresh_status(loan, rows, day)
    if loan.bucket != old_bucket:
        session.add(
            LoanEventRow(
                loan_id=loan.id,
                business_date=day,
                kind="bucket-entered",
                payload=json.dumps({"from": old_bucket, "to": loan.bucket, "dpd": loan.dpd}),
            )
        )
    # write-off candidates
    if loan.state == LoanState.OVERDUE.value and loan.dpd >= loan.write_off_dpd:
        flagged = session.execute(
            select(LoanEventRow.id)
            .where(LoanEventRow.loan_id == loan.id, LoanEventRow.kind == "write-off-candidate")
            .limit(1)
        ).first()
        if flagged is None:
            session.add(
                LoanEventRow(
                    loan_id=loan.id,
                    business_date=day,
                    kind="write-off-candidate",
                    payload=json.dumps({"dpd": loan.dpd}),
                )
            )
    session.flush()


def orm_close_day(engine: Engine, day: date, batch: int = ORM_BATCH) -> int:
    with Session(engine) as session:
        ids = list(
            session.execute(select(LoanRow.id).where(LoanRow.state.in_(OPEN)).order_by(LoanRow.id)).scalars()
        )
    for start in range(0, len(ids), batch):
        with Session(engine) as session, session.begin():
            for loan_id in ids[start : start + batch]:
                orm_close_loan(session, loan_id, day)
    return len(ids)


# ------------------------------------------------------------------------------------ measurements


@dataclass(slots=True)
class EodTiming:
    total: float
    steps: list[tuple[str, float, int]] = field(default_factory=list)  # (step, seconds, rows)
    wal_bytes: int = 0  # WAL the cluster wrote meanwhile (other databases' work included)
    checkpoints: int = 0  # checkpoints that started meanwhile
    backend_writes: int = 0  # buffers written out by backends themselves (shared_buffers too small)

    def io(self) -> str:
        return (
            f"WAL {self.wal_bytes / 2**20:,.0f} MiB, {self.checkpoints} checkpoint(s), "
            f"{self.backend_writes:,} buffers written by backends (cluster-wide counters)"
        )


def cluster_counters() -> tuple[str, int, int]:
    with psycopg.connect(seed_loans.ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_current_wal_lsn()::text, checkpoints_timed + checkpoints_req, buffers_backend "
            "FROM pg_stat_bgwriter"
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2])


def timed_run_day(engine: Engine, day: date) -> EodTiming:
    lsn0, checkpoints0, writes0 = cluster_counters()
    marks: list[float] = []
    started = time.perf_counter()
    results = run_day(engine, day, progress=lambda *_: marks.append(time.perf_counter()))
    total = time.perf_counter() - started
    lsn1, checkpoints1, writes1 = cluster_counters()
    with psycopg.connect(seed_loans.ADMIN_URL, autocommit=True) as conn:
        wal = conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (lsn1, lsn0)).fetchone()
    edges = [started, *marks]
    timing = EodTiming(total, [], int(wal[0]) if wal else 0, checkpoints1 - checkpoints0, writes1 - writes0)
    for i, result in enumerate(results):
        timing.steps.append((result.step, edges[i + 1] - edges[i], result.rows))
    return timing


def explain_run_day(engine: Engine, day: date) -> list[tuple[float, str, list[str]]]:
    """``run_day`` with every set-based INSERT / UPDATE / CREATE TABLE AS run under EXPLAIN ANALYZE.

    EXPLAIN ANALYZE executes the statement, so the day is closed as usual; returns (seconds, statement,
    plan lines) of every statement, in order (other statements, e.g. the ORM step's, without a plan).
    """
    found: list[tuple[float, str, list[str]]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> Any:
        head = statement.lstrip().split(None, 1)[0].upper()
        upper = statement.upper()
        explain = (  # the set-based statements only: the ORM's own need their real results
            head in {"INSERT", "UPDATE", "CREATE"}
            and "RETURNING" not in upper
            and ("SELECT" in upper or " FROM " in upper)
        )
        conn.info["explain"] = explain
        conn.info["t0"] = time.perf_counter()
        if explain:
            statement = "EXPLAIN (ANALYZE, BUFFERS) " + statement
        return statement, parameters

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        plan = [row[0] for row in cursor.fetchall()] if conn.info.pop("explain", False) else []
        found.append((time.perf_counter() - conn.info.pop("t0"), statement, plan))

    event.listen(engine, "before_cursor_execute", before, retval=True)
    event.listen(engine, "after_cursor_execute", after)
    try:
        run_day(engine, day)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return found


def print_explained(found: list[tuple[float, str, list[str]]], top: int = 6) -> None:
    total = sum(t for t, _, _ in found)
    print(f"EXPLAIN ANALYZE of the run on another fresh copy ({len(found)} statements, {total:.2f} s in all)")
    print("  statements of 0.05 s or more, in order:")
    for seconds, statement, _ in found:
        if seconds >= 0.05:
            sql = " ".join(statement.replace("EXPLAIN (ANALYZE, BUFFERS) ", "").split())
            print(f"  {seconds:6.2f} s  {sql[:150]}")
    small = [t for t, _, _ in found if t < 0.05]
    print(f"  {sum(small):6.2f} s  the other {len(small)} statements")
    print(f"  plans of the {top} slowest:")
    for seconds, statement, plan in sorted(found, key=lambda f: -f[0])[:top]:
        sql = " ".join(statement.replace("EXPLAIN (ANALYZE, BUFFERS) ", "").split())
        print(f"  {seconds:6.2f} s  {sql[:300]}")
        for line in plan:
            print(f"           {line}")
    print()


# ---------------------------------------------------------------- experiments (suggested changes, measured)


@dataclass(frozen=True, slots=True)
class Experiment:
    name: str
    work_mem: str | None = None
    wal_compression: str | None = None


# Server settings that cannot be part of the code (variants A–C of the 2026-11-29 morning table — the
# RETURNING rewrite, the partial indexes and fillfactor 85 — are in src/ and migration 0012 since).
EXPERIMENTS = [
    Experiment("W  work_mem 64MB (session setting)", work_mem="64MB"),
    Experiment("L  wal_compression lz4 (session setting; superuser)", wal_compression="lz4"),
]


def fingerprint(engine: Engine, day: date) -> list[tuple[Any, ...]]:
    """Aggregates of everything end of day changes: equal for two runs that did the same work."""
    queries = [
        "SELECT 'entries', event, count(*), 0 FROM journal_entries WHERE business_date = :d GROUP BY event",
        """SELECT 'postings', p.account, count(*), SUM(p.amount_fen) FROM postings p
           JOIN journal_entries e ON e.id = p.entry_id WHERE e.business_date = :d GROUP BY p.account""",
        """SELECT 'loans', state || ' ' || bucket, count(*), SUM(dpd) + SUM(principal_outstanding_fen)
           + 3 * SUM(interest_outstanding_fen) + 7 * SUM(penalties_outstanding_fen)
           + 11 * SUM(overpayment_fen) + 13 * SUM(penalties_charged_fen)
           FROM loans GROUP BY state, bucket""",
        """SELECT 'installments', CAST(billed AS TEXT), count(*), SUM(paid_principal_fen + paid_interest_fen)
           FROM installments GROUP BY billed""",
        "SELECT 'events', kind, count(*), 0 FROM loan_events WHERE business_date = :d GROUP BY kind",
    ]
    with engine.connect() as conn:
        return sorted(tuple(r) for q in queries for r in conn.execute(text(q), {"d": day}).all())


def run_experiment(
    book: Book, day: date, experiment: Experiment, baseline: list[tuple[Any, ...]], *, warm: bool
) -> EodTiming:
    name = f"xiaodai_bench_eod_exp_{seed_loans.label(book.loans)}"
    url = clone_database(book.template, name)
    if warm:
        prewarm(name)
    kwargs: dict[str, Any] = {}
    options = []
    if experiment.work_mem:
        options.append(f"-c work_mem={experiment.work_mem}")
    if experiment.wal_compression:
        options.append(f"-c wal_compression={experiment.wal_compression}")
    if options:
        kwargs["connect_args"] = {"options": " ".join(options)}
    engine = make_engine(url, **kwargs)
    timing = timed_run_day(engine, day)
    same = fingerprint(engine, day) == baseline
    engine.dispose()
    drop_database(name)
    steps = ", ".join(f"{step} {secs:.2f}" for step, secs, _ in timing.steps)
    print(f"    {timing.total:6.2f} s ({steps}); same result as run_day: {mark_same(same)}")
    print(f"             {timing.io()}")
    return timing


BALANCE_COLUMNS = {
    "assets:loans:principal": ("principal_outstanding_fen", 1),
    "assets:loans:interest": ("interest_outstanding_fen", 1),
    "assets:loans:fees": ("fees_outstanding_fen", 1),
    "assets:loans:penalties": ("penalties_outstanding_fen", 1),
    "liabilities:borrowers:overpayment": ("overpayment_fen", -1),
}


def balance_sums(engine: Engine) -> dict[str, int]:
    cols = ", ".join(f"SUM({c})" for c, _ in BALANCE_COLUMNS.values())
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT {cols} FROM loans")).one()
    return {c: int(v or 0) for (c, _), v in zip(BALANCE_COLUMNS.values(), row, strict=True)}


# the day's penalty of every loan, in bigint arithmetic as accrual.penalty_for_day computes it
EXPECTED_PENALTY_SQL = """
CREATE TABLE bench_expected_penalty AS
SELECT loan_id, (overdue * rate + 500000000) / 1000000000 AS amount FROM (
  SELECT i.loan_id, MAX(l.penalty_rate_daily_e9) AS rate,
         CAST(SUM(i.principal_fen - i.paid_principal_fen) AS BIGINT) AS overdue
  FROM installments i JOIN loans l ON l.id = i.loan_id
  WHERE i.billed AND i.active AND i.paid_on IS NULL AND i.due_on < :d
    AND l.state IN ('active','overdue') GROUP BY i.loan_id) x
WHERE (overdue * rate + 500000000) / 1000000000 > 0
"""


def expectations(engine: Engine, day: date) -> dict[str, int]:
    """What end of day must produce, counted from the book before it runs."""
    with engine.connect() as conn:
        billing = conn.execute(
            text(
                """SELECT count(*) FROM (SELECT i.loan_id FROM installments i JOIN loans l ON l.id = i.loan_id
                   WHERE i.due_on <= :d AND NOT i.billed AND i.active AND l.state IN ('active','overdue')
                   GROUP BY i.loan_id HAVING SUM(i.interest_fen + i.fee_fen) > 0) x"""
            ),
            {"d": day},
        ).scalar_one()
        due_loans = conn.execute(
            text("SELECT count(DISTINCT loan_id) FROM installments WHERE due_on = :d AND active"), {"d": day}
        ).scalar_one()
        conn.execute(text("DROP TABLE IF EXISTS bench_expected_penalty"))
        conn.execute(text(EXPECTED_PENALTY_SQL), {"d": day})
        late = conn.execute(text("SELECT count(*) FROM bench_expected_penalty")).scalar_one()
        conn.commit()
        loans = conn.execute(text("SELECT count(*) FROM loans")).scalar_one()
        holders = conn.execute(text("SELECT count(*) FROM loans WHERE overpayment_fen > 0")).scalar_one()
    return {
        "loans": int(loans),
        "due_loans": int(due_loans),
        "billing": int(billing),
        "penalty": int(late),
        "holders": int(holders),
    }


def verify(
    engine: Engine, day: date, before: dict[str, int], expect: dict[str, int]
) -> list[tuple[str, bool, str]]:
    checks: list[tuple[str, bool, str]] = []
    with engine.connect() as conn:
        trial = int(conn.execute(text("SELECT COALESCE(SUM(amount_fen), 0) FROM postings")).scalar_one())
        checks.append(("trial balance (sum of all postings) = 0", trial == 0, f"{trial}"))
        unbalanced = conn.execute(
            text(
                """SELECT count(*) FROM (SELECT p.entry_id FROM postings p
                   JOIN journal_entries e ON e.id = p.entry_id WHERE e.business_date = :d
                   GROUP BY p.entry_id HAVING SUM(p.amount_fen) <> 0) x"""
            ),
            {"d": day},
        ).scalar_one()
        checks.append(("entries of the day that do not net to zero", unbalanced == 0, f"{unbalanced}"))
        # one entry per event for the whole day; its loan postings are the per-loan detail
        loans_by_event: dict[str, int] = dict(
            conn.execute(
                text(
                    """SELECT j.event, count(DISTINCT p.loan_id) FROM postings p
                       JOIN journal_entries j ON j.id = p.entry_id
                       WHERE j.business_date = :d AND p.loan_id IS NOT NULL
                         AND p.account IN ('assets:loans:interest', 'assets:loans:fees',
                                           'assets:loans:penalties')
                       GROUP BY j.event"""
                ),
                {"d": day},
            ).all()
        )
        checks.append(
            (
                "loans billed = loans with interest/fees falling due",
                loans_by_event.get("billing", 0) == expect["billing"],
                (
                    f"{loans_by_event.get('billing', 0):,} vs {expect['billing']:,} "
                    f"(loans with an instalment due: {expect['due_loans']:,})"
                ),
            )
        )
        checks.append(
            (
                "loans charged a penalty = loans with overdue principal",
                loans_by_event.get("penalty", 0) == expect["penalty"],
                f"{loans_by_event.get('penalty', 0):,} vs {expect['penalty']:,}",
            )
        )
        wrong = conn.execute(
            text(
                """SELECT count(*), COALESCE(SUM(COALESCE(a.amount, 0) - COALESCE(e.amount, 0)), 0),
                          count(*) FILTER (WHERE e.loan_id IS NULL)
                   FROM bench_expected_penalty e FULL JOIN (
                     SELECT p.loan_id, p.amount_fen AS amount FROM postings p
                     JOIN journal_entries j ON j.id = p.entry_id
                     WHERE j.business_date = :d AND j.event = 'penalty'
                       AND p.account = 'assets:loans:penalties') a ON a.loan_id = e.loan_id
                   WHERE e.amount IS DISTINCT FROM a.amount"""
            ),
            {"d": day},
        ).one()
        checks.append(
            (
                "each penalty = penalty_for_day(overdue principal, rate) (half up, integer fen)",
                wrong[0] == 0,
                (
                    f"{wrong[0]:,} loans differ, {int(wrong[1]):+,} fen in all, {wrong[2]:,} charged where "
                    "nothing is due"
                ),
            )
        )
        left = conn.execute(
            text(
                """SELECT count(*) FROM installments i JOIN loans l ON l.id = i.loan_id
                   WHERE i.due_on <= :d AND NOT i.billed AND i.active AND l.state IN ('active','overdue')"""
            ),
            {"d": day},
        ).scalar_one()
        checks.append(("instalments due and still unbilled", left == 0, f"{left}"))
        moved: dict[str, int] = dict(
            conn.execute(
                text(
                    """SELECT p.account, SUM(p.amount_fen) FROM postings p
                       JOIN journal_entries e ON e.id = p.entry_id
                       WHERE e.business_date = :d GROUP BY p.account"""
                ),
                {"d": day},
            ).all()
        )
    after = balance_sums(engine)
    bad = []
    for account, (column, sign) in BALANCE_COLUMNS.items():
        delta = after[column] - before[column]
        if delta != sign * int(moved.get(account, 0)):
            bad.append(f"{column}: {delta} vs {sign * int(moved.get(account, 0))}")
    checks.append(
        (
            "change of stored loan balances = the day's postings",
            not bad,
            "; ".join(bad)
            or "interest +{:,} fen, penalties +{:,} fen".format(
                after["interest_outstanding_fen"] - before["interest_outstanding_fen"],
                after["penalties_outstanding_fen"] - before["penalties_outstanding_fen"],
            ),
        )
    )
    checks.append(dpd_sample_check(engine, day))
    return checks


def dpd_sample_check(engine: Engine, day: date, size: int = 2000) -> tuple[str, bool, str]:
    """DPD, bucket and state of random loans recomputed in Python from their instalments."""
    with engine.connect() as conn:
        top = int(conn.execute(text("SELECT max(id) FROM loans")).scalar_one())
    rng = random.Random(7)
    ids = sorted(rng.sample(range(1, top + 1), min(size, top)))
    wrong = 0
    overdue = 0
    with Session(engine) as session:
        loans = {
            loan.id: loan for loan in session.execute(select(LoanRow).where(LoanRow.id.in_(ids))).scalars()
        }
        for loan_id in ids:
            loan = loans[loan_id]
            rows = installments(session, loan_id)
            late = [r.due_on for r in rows if r.billed and r.due_on < day and unpaid(r) > 0]
            dpd = days_past_due(min(late) if late else None, day)
            state = "overdue" if dpd > 0 else "active"
            bucket = bucket_for(dpd, parse_buckets(loan.buckets))
            overdue += dpd > 0
            wrong += (loan.dpd, loan.bucket, loan.state) != (dpd, bucket, state)
    return (
        f"DPD/bucket/state of {len(ids):,} random loans recomputed in Python",
        wrong == 0,
        f"{wrong} differ ({overdue} of them overdue)",
    )


def snapshot(engine: Engine, day: date) -> dict[str, list[tuple[Any, ...]]]:
    """What a close of the day leaves, comparable between the set-based run and the ORM loop. The ORM loop
    posts an entry per loan (income legs per loan), ``run_day`` one entry per event for the day (income
    legs as the day's total): loans' postings are compared per loan, event and receivable account, and
    every account's total."""
    queries = {
        "loans": """SELECT id, state, dpd, bucket, principal_outstanding_fen, interest_outstanding_fen,
                    fees_outstanding_fen, penalties_outstanding_fen, overpayment_fen, paid_total_fen,
                    penalties_charged_fen FROM loans ORDER BY id""",
        "installments": """SELECT loan_id, period, schedule_version, active, billed, paid_principal_fen,
                           paid_interest_fen, paid_fee_fen, paid_on FROM installments
                           ORDER BY loan_id, period, schedule_version""",
        "postings by loan and account": """SELECT loan_id, account, SUM(amount_fen) FROM postings
                                           WHERE loan_id IS NOT NULL AND account NOT LIKE 'income:%'
                                           GROUP BY loan_id, account ORDER BY loan_id, account""",
        "postings per account": """SELECT account, SUM(amount_fen) FROM postings
                                   GROUP BY account ORDER BY account""",
        "the day's loan postings by event": """SELECT p.loan_id, j.event, p.account, SUM(p.amount_fen)
                                             FROM postings p JOIN journal_entries j ON j.id = p.entry_id
                                             WHERE j.business_date = :d AND p.loan_id IS NOT NULL
                                               AND p.account NOT LIKE 'income:%'
                                             GROUP BY p.loan_id, j.event, p.account
                                             ORDER BY p.loan_id, j.event, p.account""",
        "events": """SELECT loan_id, business_date, kind, payload FROM loan_events
                     ORDER BY loan_id, business_date, kind""",
    }
    with engine.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(text(q), {"d": day}).all()] for k, q in queries.items()}


def without_penalties(snap: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot without penalty amounts: loans' penalty balances, penalty postings and entries."""
    return {
        "loans": [r[:7] + r[8:10] for r in snap["loans"]],
        "installments": snap["installments"],
        "postings by loan and account": [
            r for r in snap["postings by loan and account"] if "penalt" not in r[1]
        ],
        "postings per account": [r for r in snap["postings per account"] if "penalt" not in r[0]],
        "the day's loan postings by event": [
            r for r in snap["the day's loan postings by event"] if r[1] != "penalty"
        ],
        "events": snap["events"],
    }


def compare(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Differences between two snapshots (set-based ``a``, ORM ``b``), per table: counts and examples."""
    out = []
    for key, rows in a.items():
        if rows != b[key]:
            only_a = sorted(set(rows) - set(b[key]))
            only_b = sorted(set(b[key]) - set(rows))
            out.append(
                f"{key}: {len(rows):,} vs {len(b[key]):,} rows, {len(only_a):,} only in set-based, "
                f"{len(only_b):,} only in ORM; e.g. set-based {only_a[:2]} ORM {only_b[:2]}"
            )
    return out


# ------------------------------------------------------------------------------------------- main


def mark(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def mark_same(same: bool) -> str:
    return "yes" if same else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=None, help="loans in the book (default 1,000,000)")
    parser.add_argument("--sample", type=int, default=None, help="loans for the ORM loop (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="100,000 loans and a 2,000-loan sample")
    parser.add_argument("--reseed", action="store_true", help="rebuild the template databases")
    parser.add_argument(
        "--history",
        choices=("compact", "full"),
        default="compact",
        help="journal of the past: 2 entries per loan (compact) or one per past event (full, ~21 per loan)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="timed set-based runs, each on a fresh copy")
    parser.add_argument("--keep", action="store_true", help="keep the run databases (xiaodai_bench_eod_*)")
    parser.add_argument("--full-check", action="store_true", help="also run ledger.check on the big book")
    parser.add_argument(
        "--cold", action="store_true", help="do not read the copy into the OS page cache before timing"
    )
    parser.add_argument(
        "--experiment",
        nargs="?",
        const="WL",
        default="",
        metavar="LETTERS",
        help="then time server settings on fresh copies: all, or those whose letters are given (W L)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="then EXPLAIN ANALYZE every statement of the day on a fresh copy",
    )
    args = parser.parse_args(argv)
    n_loans = args.loans or (100_000 if args.quick else 1_000_000)
    n_sample = args.sample if args.sample is not None else (2_000 if args.quick else 10_000)
    day = DAY

    print(
        f"xiaodai end-of-day benchmark: {n_loans:,} loans set-based, {n_sample:,}-loan ORM sample; day {day}"
    )
    print()
    machine_info()

    book = Book(loans=n_loans, history=args.history)
    print(f"book template {book.template}")
    print_seed_report(ensure_template(book, reseed=args.reseed), book)
    sample = Book(loans=n_sample, history=args.history)
    if n_sample:
        print(f"sample template {sample.template} (the first {n_sample:,} loans of the same generator)")
        print_seed_report(ensure_template(sample, reseed=args.reseed), sample)
    print()

    run_dbs: list[str] = []
    timings: list[EodTiming] = []
    expect: dict[str, int] = {}
    checks: list[tuple[str, bool, str]] = []
    for attempt in range(args.repeat):
        name = f"xiaodai_bench_eod_{seed_loans.label(n_loans)}"
        started = time.perf_counter()
        url = clone_database(book.template, name)
        copy_s = time.perf_counter() - started
        warm_s = 0.0 if args.cold else prewarm(name)
        load = os.getloadavg()[0]
        run_dbs.append(name)
        engine = make_engine(url)
        expect = expectations(engine, day)
        pending = days_to_run(engine, day)  # what `xiaodai eod --date` would run: this date only
        before = balance_sums(engine)
        timing = timed_run_day(engine, day)
        timings.append(timing)
        print(
            f"set-based run_day({day}) on {expect['loans']:,} loans, run {attempt + 1}/{args.repeat} "
            f"(fresh copy made in {copy_s:.1f} s, "
            f"{'not prewarmed' if args.cold else f'read into the page cache in {warm_s:.1f} s'}, "
            f"load average {load:.2f} before): "
            f"{timing.total:.2f} s"
        )
        for step, secs, rows in timing.steps:
            print(f"    {step:<22} {secs:>7.2f} s  {rows:>9,} rows")
        print(f"    {timing.io()}")
        if attempt == args.repeat - 1:
            checks = [
                (
                    "earlier dates all done: catch-up runs this date only",
                    pending == [day],
                    f"{len(pending)} date(s) to run",
                ),
                *verify(engine, day, before, expect),
            ]
            baseline = fingerprint(engine, day) if args.experiment else []
            if args.full_check:
                with Session(engine) as session:
                    started = time.perf_counter()
                    problems = ledger.check(session)
                checks.append(
                    (
                        "ledger check (every loan re-derived from the journal)",
                        not problems,
                        f"{len(problems)} differences in {time.perf_counter() - started:.1f} s",
                    )
                )
        engine.dispose()
        if attempt < args.repeat - 1 and not args.keep:
            drop_database(name)
    print(
        f"  book: {expect['due_loans']:,} loans with an instalment due on {day}, "
        f"{expect['penalty']:,} charged a penalty, {expect['holders']:,} holding an overpayment"
    )
    print("  checks after the timed run:")
    for what, ok, detail in checks:
        print(f"    [{'ok' if ok else 'FAIL'}] {what}: {detail}")
    print()

    if args.experiment:
        print("server settings, each timed on a fresh copy")
        medians = []
        for experiment in (e for e in EXPERIMENTS if e.name[0] in args.experiment.upper()):
            print(f"  {experiment.name}")
            seconds = [
                run_experiment(book, day, experiment, baseline, warm=not args.cold).total
                for _ in range(args.repeat)
            ]
            medians.append((experiment.name, statistics.median(seconds)))
        print("  medians: " + "; ".join(f"{name.split()[0]} {secs:.2f} s" for name, secs in medians))
        print()

    if args.explain:
        name = f"xiaodai_bench_eod_explain_{seed_loans.label(n_loans)}"
        engine = make_engine(clone_database(book.template, name))
        run_dbs.append(name)
        if not args.cold:
            prewarm(name)
        print_explained(explain_run_day(engine, day))
        engine.dispose()

    set_s = statistics.median(t.total for t in timings)
    orm_s = set_small_s = 0.0
    same: list[str] = []
    same_but_penalties: list[str] = []
    if n_sample:
        orm_db = f"xiaodai_bench_eod_orm_{seed_loans.label(n_sample)}"
        set_db = f"xiaodai_bench_eod_set_{seed_loans.label(n_sample)}"
        orm_engine = make_engine(clone_database(sample.template, orm_db))
        set_engine = make_engine(clone_database(sample.template, set_db))
        if not args.cold:
            prewarm(orm_db)
            prewarm(set_db)
        run_dbs += [orm_db, set_db]
        print(f"ORM loop over the {n_sample:,}-loan sample (commit every {ORM_BATCH} loans) ...")
        started = time.perf_counter()
        processed = orm_close_day(orm_engine, day)
        orm_s = time.perf_counter() - started
        small = timed_run_day(set_engine, day)
        set_small_s = small.total
        set_snap, orm_snap = snapshot(set_engine, day), snapshot(orm_engine, day)
        same = compare(set_snap, orm_snap)
        same_but_penalties = compare(without_penalties(set_snap), without_penalties(orm_snap))
        with Session(orm_engine) as session:
            orm_problems = ledger.check(session)
        with Session(set_engine) as session:
            set_problems = ledger.check(session)
        orm_engine.dispose()
        set_engine.dispose()
        print(
            f"    ORM loop:         {processed:,} loans in {orm_s:.2f} s = {processed / orm_s:,.0f} loans/s"
        )
        print(
            f"    set-based (same sample): {set_small_s:.2f} s = {n_sample / set_small_s:,.0f} loans/s "
            "(fixed costs dominate a small book)"
        )
        print(
            "    results of the two identical (loans, instalments, postings per loan/account and per "
            "account, the day's postings per loan and event, "
            f"events): {mark_same(not same)}"
        )
        for line in same:
            print(f"      {line}")
        if same:
            print(
                "    identical when the day's penalty amounts are left out: "
                f"{mark_same(not same_but_penalties)}"
            )
        print(
            f"    ledger check: ORM copy {len(orm_problems)} differences, set-based copy {len(set_problems)}"
        )
        print()

    set_rate = n_loans / set_s
    print("summary")
    runs = f" (median of {len(timings)}: " + ", ".join(f"{t.total:.2f}" for t in timings) + ")"
    scaled = f"[scaled: {set_s * 1_000_000 / n_loans:.1f} s per million, not the goal size]"
    verdict = f"[{mark(set_s <= GOAL_SECONDS)}]" if n_loans == 1_000_000 else scaled
    print(
        f"  set-based EOD, {n_loans:,} loans: {set_s:.2f} s{runs if len(timings) > 1 else ''} "
        f"= {set_rate:,.0f} loans/s   goal <= {GOAL_SECONDS:.0f} s for 1,000,000 loans {verdict}"
    )
    if n_sample:
        orm_rate = n_sample / orm_s
        speedup = set_rate / orm_rate
        print(
            f"  ORM loop, {n_sample:,} loans: {orm_s:.2f} s = {orm_rate:,.0f} loans/s "
            f"(a million would take ~{1_000_000 / orm_rate / 3600:.1f} h)"
        )
        verdict = mark(speedup >= GOAL_SPEEDUP)
        print(f"  speed-up per loan: {speedup:,.0f}x   goal >= {GOAL_SPEEDUP:.0f}x [{verdict}]")
        print(
            f"  set-based and ORM results identical on the sample: {mark_same(not same)}"
            + ("" if not same else f" (apart from the penalty amounts: {mark_same(not same_but_penalties)})")
        )
    print(f"  checks: {sum(ok for _, ok, _ in checks)}/{len(checks)} passed")
    if not args.keep:
        for name in run_dbs:
            drop_database(name)
    failed = any(not ok for _, ok, _ in checks) or bool(same)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
