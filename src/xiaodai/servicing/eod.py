"""End of day, set-based: SQL over all loans (``INSERT … SELECT``, ``UPDATE … FROM``), never a per-loan loop
on the hot path.

Steps run in a fixed, declared order. Each step commits in one transaction together with its row in
``eod_steps``: a crash rolls the step back whole, a rerun skips what committed, and running a day twice
equals running it once. Several missed days are caught up one business date at a time.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, Date, Engine, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from xiaodai.db.tables import EodStepRow, LoanRow
from xiaodai.metrics import EOD_STEP_SECONDS
from xiaodai.servicing.billing import apply_overpayment
from xiaodai.servicing.delinquency import parse_buckets
from xiaodai.servicing.lifecycle import LoanState
from xiaodai.servicing.loans import installments, refresh_status

log = logging.getLogger(__name__)
OPEN = (LoanState.ACTIVE.value, LoanState.OVERDUE.value)
# For the set-based steps' transactions on PostgreSQL (SET LOCAL: gone at commit). JIT compiles each big
# statement for ~0.2–1.1 s (inlining and optimisation above jit_inline_above_cost), more than it saves on
# these simple scans; 64 MB lets the hash joins and sorts over 10^5–10^6 rows stay in memory instead of
# spilling in batches at the default 4 MB (docs/BENCHMARKS.md, end of day).
PG_STEP_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")
Progress = Callable[[str, int, int], None]  # (step, done, total)


def _days(conn: Connection, later: str, earlier: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _execute(conn: Connection, sql: str, day: date, **params: object) -> CursorResult[Any]:
    """``sql`` with ``:d`` the business date (and ``:lo`` a date) bound as dates on both databases."""
    statement = text(sql)
    values: dict[str, object] = {"d": day, **params}
    used = set(statement._bindparams)
    typed = [bindparam(n, type_=Date) for n in ("d", "lo") if n in used]
    if typed:
        statement = statement.bindparams(*typed)
    return conn.execute(statement, {k: v for k, v in values.items() if k in used})


def _run(conn: Connection, sql: str, day: date, **params: object) -> int:
    return int(_execute(conn, sql, day, **params).rowcount or 0)


def _temp(conn: Connection, name: str, select_sql: str, day: date, **params: object) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    _run(conn, f"CREATE TEMP TABLE {name} AS {select_sql}", day, **params)


def _post_day_entry(
    conn: Connection,
    day: date,
    *,
    temp: str,
    event: str,
    loan_legs: list[tuple[str, str]],
    income_legs: list[tuple[str, str]],
    where: str = "1 = 1",
) -> int:
    """ONE journal entry for the day's ``event`` across every loan in ``temp`` (rows matching ``where``, one
    row per loan): a posting per loan and receivable leg — the loan sub-ledger, so each loan's balance stays
    derivable from ``postings.loan_id`` — and one posting per income account for the day's total (the
    general ledger). Returns the number of loans in the entry (0: no entry at all).

    One entry a day instead of one per loan: 137k fewer journal rows (each with five index insertions and a
    foreign-key check) and half the postings on a 1M-loan day (docs/BENCHMARKS.md, 2026-11-29 evening). The
    key ``eod:<event>:<date>`` makes a second run of the day fail loudly rather than post twice.
    """
    totals = ", ".join(f"COALESCE(SUM({expr}), 0)" for _, expr in income_legs)
    row = conn.execute(text(f"SELECT count(*), {totals} FROM {temp} t WHERE {where}")).one()
    loans = int(row[0])
    if loans == 0:
        return 0
    memo = json.dumps({"loans": loans, "detail": "postings.loan_id"})
    entry_id = _execute(
        conn,
        "INSERT INTO journal_entries (business_date, event, idempotency_key, loan_id, memo) "
        "VALUES (:d, :event, :key, NULL, :memo) RETURNING id",
        day,
        event=event,
        key=f"eod:{event}:{day.isoformat()}",
        memo=memo,
    ).scalar_one()
    selects = " UNION ALL ".join(
        f"SELECT :e, '{account}', t.loan_id, {expr} FROM {temp} t WHERE {where} AND {expr} <> 0"
        for account, expr in loan_legs
    )
    conn.execute(
        text(f"INSERT INTO postings (entry_id, account, loan_id, amount_fen) {selects}"), {"e": entry_id}
    )
    income = [
        {"e": entry_id, "account": account, "amount": -int(total)}
        for (account, _), total in zip(income_legs, row[1:], strict=True)
        if int(total) != 0
    ]
    if income:
        conn.execute(
            text(
                "INSERT INTO postings (entry_id, account, loan_id, amount_fen) "
                "VALUES (:e, :account, NULL, :amount)"
            ),
            income,
        )
    # the entry's two sides come from two queries: the database sums them before the step may commit
    net = conn.execute(
        text("SELECT COALESCE(SUM(amount_fen), 0) FROM postings WHERE entry_id = :e"), {"e": entry_id}
    ).scalar_one()
    if int(net) != 0:
        raise RuntimeError(f"end of day {event} entry {entry_id} for {day} does not net to zero: {net}")
    return loans


def step_bill(conn: Connection, day: date) -> int:
    """Instalments due today become billed; their interest and fees become receivable (one entry for the
    day, a posting per loan).

    On PostgreSQL the instalments are marked billed FIRST, with ``UPDATE … RETURNING``: rows a concurrent
    repayment is billing are locked, and once it commits they no longer match — nothing is billed twice.
    SQLite serialises writers, so the plain read-then-update is safe there. Both find the rows through the
    partial index ``ix_installments_unbilled`` (what is not billed yet). Returns the instalments billed.
    """
    conn.execute(text("DROP TABLE IF EXISTS eod_bill"))
    # The oldest unbilled due date of an open loan, walking ix_installments_unbilled from its first entry
    # (past the few unbilled rows of closed loans: a written-off loan keeps its future instalments). With
    # it as a lower bound the planner sees a range of a few days (estimated from due_on's histogram)
    # instead of "half the table is unbilled × half is due", and reads the partial index rather than all
    # 10^7 instalments.
    lo = _execute(
        conn,
        "SELECT MIN(i.due_on) FROM installments i WHERE NOT i.billed AND i.active AND i.due_on <= :d "
        "AND EXISTS (SELECT 1 FROM loans l WHERE l.id = i.loan_id AND l.state IN ('active', 'overdue'))",
        day,
    ).scalar_one_or_none()
    if lo is None:
        return 0
    if isinstance(lo, str):  # SQLite returns the ISO text of a date from an aggregate
        lo = date.fromisoformat(lo)
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("CREATE TEMP TABLE eod_bill (loan_id BIGINT, interest BIGINT, fee BIGINT, n BIGINT)")
        )
        _run(
            conn,
            """
            WITH b AS (
              UPDATE installments i SET billed = TRUE
              FROM loans l
              WHERE l.id = i.loan_id AND i.due_on BETWEEN :lo AND :d AND NOT i.billed AND i.active
                AND l.state IN ('active', 'overdue')
              RETURNING i.loan_id AS loan_id, i.interest_fen AS interest_fen, i.fee_fen AS fee_fen)
            INSERT INTO eod_bill (loan_id, interest, fee, n)
            SELECT loan_id, CAST(SUM(interest_fen) AS BIGINT), CAST(SUM(fee_fen) AS BIGINT), count(*)
            FROM b GROUP BY loan_id""",
            day,
            lo=lo,
        )
        billed = int(conn.execute(text("SELECT COALESCE(SUM(n), 0) FROM eod_bill")).scalar_one())
    else:
        _temp(
            conn,
            "eod_bill",
            """
            SELECT i.loan_id AS loan_id, SUM(i.interest_fen) AS interest, SUM(i.fee_fen) AS fee
            FROM installments i JOIN loans l ON l.id = i.loan_id
            WHERE i.due_on BETWEEN :lo AND :d AND NOT i.billed AND i.active
              AND l.state IN ('active', 'overdue')
            GROUP BY i.loan_id""",
            day,
            lo=lo,
        )
        billed = _run(
            conn,
            """
            UPDATE installments SET billed = 1
            WHERE due_on BETWEEN :lo AND :d AND NOT billed AND active
              AND loan_id IN (SELECT loan_id FROM eod_bill)""",
            day,
            lo=lo,
        )
    _run(
        conn,
        """
        UPDATE loans SET interest_outstanding_fen = interest_outstanding_fen + b.interest,
                         fees_outstanding_fen = fees_outstanding_fen + b.fee,
                         version = loans.version + 1
        FROM eod_bill b WHERE loans.id = b.loan_id AND b.interest + b.fee > 0""",
        day,
    )
    _post_day_entry(
        conn,
        day,
        temp="eod_bill",
        event="billing",
        where="t.interest + t.fee > 0",
        loan_legs=[("assets:loans:interest", "t.interest"), ("assets:loans:fees", "t.fee")],
        income_legs=[("income:interest", "t.interest"), ("income:fees", "t.fee")],
    )
    return billed


def _overdue_rows_sql(conn: Connection, only: str = "") -> str:
    """One row per open loan with a late unpaid instalment or in state ``overdue``: its DPD and the day's
    penalty, with what the update and the events need (``only``: restrict to ``loan_id IN (SELECT loan_id
    FROM <only>)``)."""
    restrict_late = f"AND i.loan_id IN (SELECT loan_id FROM {only})" if only else ""
    restrict_loans = f"AND l.id IN (SELECT loan_id FROM {only})" if only else ""
    return f"""
        WITH late AS (
          SELECT i.loan_id AS loan_id,
                 CAST(SUM(i.principal_fen - i.paid_principal_fen) AS BIGINT) AS overdue_principal,
                 MIN(CASE WHEN i.principal_fen + i.interest_fen + i.fee_fen
                               > i.paid_principal_fen + i.paid_interest_fen + i.paid_fee_fen
                          THEN i.due_on END) AS oldest
          FROM installments i
          WHERE i.billed AND i.active AND i.paid_on IS NULL AND i.due_on < :d {restrict_late}
          GROUP BY i.loan_id)
        SELECT l.id AS loan_id, l.version AS version, l.buckets AS buckets, l.bucket AS old_bucket,
               l.write_off_dpd AS write_off_dpd,
               COALESCE({_days(conn, ":d", "late.oldest")}, 0) AS dpd,
               CASE WHEN late.overdue_principal > 0 AND l.penalty_rate_daily_e9 > 0
                         AND NOT l.penalty_suspended
                    THEN (late.overdue_principal * CAST(l.penalty_rate_daily_e9 AS BIGINT) + 500000000)
                         / 1000000000
                    ELSE 0 END AS penalty
        FROM loans l LEFT JOIN late ON late.loan_id = l.id
        WHERE l.state IN ('active', 'overdue') AND (late.loan_id IS NOT NULL OR l.state = 'overdue')
          {restrict_loans}"""


def _bucket_case(spec: str) -> str:
    """SQL for the bucket of ``o.dpd`` under a loan's bucket table (names checked by ``parse_buckets``)."""
    buckets = parse_buckets(spec)
    return (
        "CASE " + " ".join(f"WHEN o.dpd >= {b.min_dpd} THEN '{b.name}'" for b in reversed(buckets)) + " END"
    )


def _apply_overdue(conn: Connection, day: date, *, rows: str, check_version: bool) -> int:
    """Write ``rows`` (an ``eod_overdue``-shaped table) to the loans, one UPDATE per bucket table. With
    ``check_version`` only loans still at the version and open state read into ``rows`` are written, and
    (PostgreSQL) the ids written are collected in ``eod_applied``."""
    guard = "AND loans.version = o.version AND loans.state IN ('active', 'overdue')" if check_version else ""
    changed = 0
    for spec in [r[0] for r in conn.execute(text(f"SELECT DISTINCT buckets FROM {rows}"))]:
        update = f"""
            UPDATE loans SET penalties_outstanding_fen = penalties_outstanding_fen + o.penalty,
                             penalties_charged_fen = penalties_charged_fen + o.penalty,
                             dpd = o.dpd, bucket = {_bucket_case(spec)},
                             state = CASE WHEN o.dpd > 0 THEN 'overdue' ELSE 'active' END,
                             version = loans.version + 1
            FROM {rows} o WHERE loans.id = o.loan_id AND o.buckets = :spec {guard}"""
        if check_version:
            update = f"WITH u AS ({update} RETURNING loans.id) INSERT INTO eod_applied SELECT id FROM u"
        changed += _run(conn, update, day, spec=spec)
    return changed


def _overdue_events(conn: Connection, day: date) -> None:
    """``bucket-entered`` when the bucket changed; ``write-off-candidate`` the first time a loan reaches its
    write-off DPD (collections and the write-off approval take it from there)."""
    for spec in [r[0] for r in conn.execute(text("SELECT DISTINCT buckets FROM eod_overdue"))]:
        case = _bucket_case(spec)
        _run(
            conn,
            f"""
            INSERT INTO loan_events (loan_id, business_date, kind, payload)
            SELECT o.loan_id, :d, 'bucket-entered',
                   '{{"from": "' || o.old_bucket || '", "to": "' || {case}
                   || '", "dpd": ' || CAST(o.dpd AS TEXT) || '}}'
            FROM eod_overdue o WHERE o.buckets = :spec AND {case} <> o.old_bucket
              AND NOT EXISTS (SELECT 1 FROM loan_events e WHERE e.loan_id = o.loan_id AND e.business_date = :d
                              AND e.kind = 'bucket-entered')""",
            day,
            spec=spec,
        )
    _run(
        conn,
        """
        INSERT INTO loan_events (loan_id, business_date, kind, payload)
        SELECT o.loan_id, :d, 'write-off-candidate', '{"dpd": ' || CAST(o.dpd AS TEXT) || '}'
        FROM eod_overdue o
        WHERE o.dpd > 0 AND o.dpd >= o.write_off_dpd
          AND NOT EXISTS (SELECT 1 FROM loan_events e
                          WHERE e.loan_id = o.loan_id AND e.kind = 'write-off-candidate')""",
        day,
    )


def step_overdue(conn: Connection, day: date) -> int:
    """Penalty interest for the day; days past due, bucket and state; write-off candidates — one pass,
    ONE write per loan.

    * Penalty (罚息): overdue principal × the loan's effective (capped) daily rate, half up to the fen,
      unless the rate is 0 or penalties are suspended (a dispute or hardship hold).
    * DPD from the oldest billed instalment due before today with something unpaid; bucket from the
      loan's bucket table; state ``overdue`` when DPD > 0, else ``active``; a ``bucket-entered`` event when
      the bucket changes;
    * a ``write-off-candidate`` event the first time a loan reaches its write-off DPD.

    The open loans left-joined to their late instalments are read once (one scan of each table) and each
    loan with something late or in state ``overdue`` is written once (penalty, DPD and write-off
    candidates used to be three steps: two rewrote the same rows and the third read every loan again).

    Concurrency (PostgreSQL): the rows are computed without locking 10^5 loans. The update writes a loan
    only if its ``version`` and open state are still the ones read (every change bumps the version: the
    ORM's version counter, ``loans.save``, these UPDATEs); a loan a repayment, waiver, write-off or fee
    dispute changed in the meantime is locked, read again and written in a second, small pass — so the
    day's penalty and DPD always come from the loan as it is when written.
    Returns the loans updated.
    """
    pg = conn.dialect.name == "postgresql"
    _temp(conn, "eod_overdue", _overdue_rows_sql(conn), day)
    if pg:
        conn.execute(text("DROP TABLE IF EXISTS eod_applied"))
        conn.execute(text("CREATE TEMP TABLE eod_applied (id BIGINT PRIMARY KEY)"))
    changed = _apply_overdue(conn, day, rows="eod_overdue", check_version=pg)
    if pg:
        _temp(
            conn,
            "eod_changed",
            "SELECT o.loan_id AS loan_id FROM eod_overdue o "
            "WHERE NOT EXISTS (SELECT 1 FROM eod_applied a WHERE a.id = o.loan_id)",
            day,
        )
        if conn.execute(text("SELECT count(*) FROM eod_changed")).scalar_one():
            lock = "SELECT id FROM loans WHERE id IN (SELECT loan_id FROM eod_changed) ORDER BY id FOR UPDATE"
            conn.execute(text(lock))
            conn.execute(text("DELETE FROM eod_overdue WHERE loan_id IN (SELECT loan_id FROM eod_changed)"))
            _temp(conn, "eod_overdue_again", _overdue_rows_sql(conn, only="eod_changed"), day)
            changed += _apply_overdue(conn, day, rows="eod_overdue_again", check_version=False)
            conn.execute(text("INSERT INTO eod_overdue SELECT * FROM eod_overdue_again"))
    _overdue_events(conn, day)
    _post_day_entry(
        conn,
        day,
        temp="eod_overdue",
        event="penalty",
        where="t.penalty > 0",
        loan_legs=[("assets:loans:penalties", "t.penalty")],
        income_legs=[("income:penalties", "t.penalty")],
    )
    return changed


def step_apply_overpayment(session: Session, day: date) -> int:
    """Money held as overpayment settles what fell due (only loans holding an overpayment: a few)."""
    loan_ids = (
        session.execute(
            select(LoanRow.id)
            .where(LoanRow.overpayment_fen > 0, LoanRow.state.in_(OPEN))
            .order_by(
                LoanRow.id
            )  # locks in id order (as repayments take them one at a time); same ids every run
        )
        .scalars()
        .all()
    )
    applied = 0
    for loan_id in loan_ids:
        loan = session.execute(select(LoanRow).where(LoanRow.id == loan_id).with_for_update()).scalar_one()
        rows = installments(session, loan_id, lock=True)
        if apply_overpayment(session, loan, rows, day):
            refresh_status(loan, rows, day)
            applied += 1
    return applied


def step_promises(session: Session, day: date) -> int:
    """Promises to pay that fell due: kept or broken (a ``promise-broken`` event for collections)."""
    from xiaodai.collections.workflow import settle_promises

    counts = settle_promises(session, today=day)
    return counts["kept"] + counts["broken"]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: Callable[[Connection, date], int] | None = None
    run_orm: Callable[[Session, date], int] | None = None


STEPS: tuple[Step, ...] = (
    Step("bill", run=step_bill),
    Step("apply-overpayment", run_orm=step_apply_overpayment),
    Step("overdue", run=step_overdue),
    Step("promises", run_orm=step_promises),
)


@dataclass(frozen=True, slots=True)
class StepResult:
    business_date: date
    step: str
    rows: int
    skipped: bool


def completed_steps(engine: Engine, day: date) -> set[str]:
    with Session(engine) as session:
        return set(session.execute(select(EodStepRow.step).where(EodStepRow.business_date == day)).scalars())


def last_completed_day(engine: Engine) -> date | None:
    """The latest business date on which every step of ``STEPS`` committed (rows of steps that no longer
    exist, e.g. ``penalty`` and ``delinquency`` before they became ``overdue``, do not count)."""
    names = [step.name for step in STEPS]
    with Session(engine) as session:
        rows = session.execute(
            select(EodStepRow.business_date, func.count())
            .where(EodStepRow.step.in_(names))
            .group_by(EodStepRow.business_date)
        ).all()
    complete = [d for d, n in rows if n == len(names)]
    return max(complete) if complete else None


# PostgreSQL: deadlock detected, serialization failure. A step and a repayment lock the same rows in
# different orders (the bill step: instalments, then loans; a repayment: the loan, then its instalments),
# and PostgreSQL cancels one of them; the step rolled back whole, so it is simply run again.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
STEP_ATTEMPTS = 3


def _retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES


def _run_step(engine: Engine, day: date, step: Step, crash_after: str | None) -> int:
    """One step in one transaction together with its ``eod_steps`` row."""
    with Session(engine) as session, session.begin():
        if step.run is not None:
            conn = session.connection()
            if conn.dialect.name == "postgresql":
                for setting in PG_STEP_SETTINGS:
                    conn.execute(text(setting))
            rows = step.run(conn, day)
        else:
            assert step.run_orm is not None
            rows = step.run_orm(session, day)
        session.add(EodStepRow(business_date=day, step=step.name, rows_affected=rows))
        if crash_after == step.name:
            raise SystemExit(f"simulated crash after {step.name}")
    return rows


def run_day(
    engine: Engine, day: date, *, progress: Progress | None = None, crash_after: str | None = None
) -> list[StepResult]:
    """Run every step not yet committed for ``day``; a step cancelled by a deadlock or serialization
    failure is run again (up to ``STEP_ATTEMPTS`` times). ``crash_after`` exists for crash tests only."""
    done = completed_steps(engine, day)
    results = []
    for index, step in enumerate(STEPS):
        if step.name in done:
            results.append(StepResult(day, step.name, 0, True))
        else:
            for attempt in range(1, STEP_ATTEMPTS + 1):
                try:
                    started = time.perf_counter()
                    rows = _run_step(engine, day, step, crash_after)
                    EOD_STEP_SECONDS.labels(step=step.name).observe(time.perf_counter() - started)
                    break
                except DBAPIError as exc:
                    if attempt == STEP_ATTEMPTS or not _retryable(exc):
                        raise
                    log.warning(
                        "eod %s %s: %s, attempt %d of %d", day, step.name, exc.orig, attempt, STEP_ATTEMPTS
                    )
            results.append(StepResult(day, step.name, rows, False))
        if progress is not None:
            progress(step.name, index + 1, len(STEPS))
    return results


def days_to_run(engine: Engine, through: date, *, catch_up: bool = True) -> list[date]:
    if not catch_up:
        return [through]
    last = last_completed_day(engine)
    if last is None:
        with Session(engine) as session:
            first = session.execute(select(func.min(LoanRow.disbursed_on))).scalar_one_or_none()
        start = (first + timedelta(days=1)) if first else through
    else:
        start = last + timedelta(days=1)
    start = min(start, through)
    return [start + timedelta(days=k) for k in range((through - start).days + 1)]


def run_eod(
    engine: Engine, through: date, *, catch_up: bool = True, progress: Progress | None = None
) -> list[StepResult]:
    results: list[StepResult] = []
    for day in days_to_run(engine, through, catch_up=catch_up):
        results.extend(run_day(engine, day, progress=progress))
    return results
