"""Repayment posting benchmark on PostgreSQL: ``servicing.service.repay`` from 8 concurrent workers
(see docs/BENCHMARKS.md).

    .venv/bin/python benchmarks/bench_repay.py             # 20,000 payments on a 20,500-loan book
    .venv/bin/python benchmarks/bench_repay.py --quick     # 2,000 payments on a 2,500-loan book
    .venv/bin/python benchmarks/bench_repay.py --profile   # plus a single-worker profile of repay
    .venv/bin/python benchmarks/bench_repay.py --processes 2   # the 8 workers as 4 threads in 2 processes

The book is ``seed_loans.py``'s (valid for ``repay``: disbursed, instalments, journal), cached as a template
database and copied fresh for every run. Each worker is a thread with its own sessions from
``db.session.session_factory(engine)``; each payment is one unit of work::

    with factory() as s, s.begin():
        service.repay(s, loan_id=..., amount_fen=..., on=..., idempotency_key=...)

timed from before the session opens to after the commit. The payments (one per loan, shuffled):

* loans in arrears (~14% of the book) pay on the business date: 60% everything due (billed instalments,
  today's instalment, penalties), 40% part of it (30–90%);
* current loans pay their next instalment on its due date (repay bills it first): 85% exactly, 10% with
  50–500 CNY extra (held as overpayment), 5% only 20–80% of it;
* 1% are client retries of an earlier payment (same idempotency key and request: a replay).

Reported: sustained payments per second (measured payments / wall time; the first ``--warmup`` payments
are not measured), latency p50/p90/p99/max, payments per second in each whole second, CPU use, and
``ledger.service.check`` over the whole book afterwards (goals: >= 500 payments/s, p99 <= 50 ms).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import platform
import pstats
import queue
import random
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

import seed_loans
from seed_loans import DAY, Book, clone_database, drop_database, ensure_template, print_seed_report
from xiaodai.db.session import make_engine, session_factory
from xiaodai.ledger import service as ledger
from xiaodai.servicing import service

GOAL_RATE = 500.0
GOAL_P99_MS = 50.0
WORKERS = 8


@dataclass(frozen=True, slots=True)
class Payment:
    loan_id: int
    amount_fen: int
    on: date
    key: str
    kind: str


def plan_payments(engine: Engine, day: date, count: int, seed: int = 11) -> list[Payment]:
    """One payment per loan (a realistic mix, see the module docstring), shuffled, plus 1% retries."""
    with engine.connect() as conn:
        loans = conn.execute(
            text(
                "SELECT id, penalties_outstanding_fen FROM loans "
                "WHERE state IN ('active', 'overdue') ORDER BY id"
            )
        ).all()
        rows = conn.execute(
            text(
                """SELECT loan_id, due_on, principal_fen + interest_fen + fee_fen
                          - paid_principal_fen - paid_interest_fen - paid_fee_fen AS owed
                   FROM installments WHERE active ORDER BY loan_id, period"""
            )
        ).all()
    schedule: dict[int, list[tuple[date, int]]] = {}
    for loan_id, due_on, owed in rows:
        schedule.setdefault(loan_id, []).append((due_on, int(owed)))
    rng = random.Random(seed)
    ids = [(int(i), int(p)) for i, p in loans]
    rng.shuffle(ids)
    plan: list[Payment] = []
    for n, (loan_id, penalties) in enumerate(ids[:count]):
        rows_ = schedule[loan_id]
        late = any(due < day and owed > 0 for due, owed in rows_)
        u = rng.random()
        key = f"bench-repay:{loan_id}:{n}"
        if late:
            arrears = sum(owed for due, owed in rows_ if due <= day) + penalties
            if u < 0.6:
                plan.append(Payment(loan_id, arrears, day, key, "arrears in full"))
            else:
                part = max(100, int(arrears * rng.uniform(0.3, 0.9)) // 100 * 100)
                plan.append(Payment(loan_id, part, day, key, "arrears in part"))
            continue
        due_on, owed = next((d, o) for d, o in rows_ if o > 0 and d >= day)
        if u < 0.85:
            plan.append(Payment(loan_id, owed, due_on, key, "instalment on its due date"))
        elif u < 0.95:
            extra = rng.randint(50, 500) * 100
            plan.append(Payment(loan_id, owed + extra, due_on, key, "instalment + overpayment"))
        else:
            part = max(100, int(owed * rng.uniform(0.2, 0.8)) // 100 * 100)
            plan.append(Payment(loan_id, part, due_on, key, "part of the instalment"))
    retries = [
        (position, plan[rng.randrange(0, max(1, position - 200))])
        for position in sorted(rng.sample(range(400, len(plan)), k=len(plan) // 100))
        if len(plan) > 400
    ]
    for offset, (position, original) in enumerate(retries):
        retry = Payment(original.loan_id, original.amount_fen, original.on, original.key, "retry (replay)")
        plan.insert(position + offset, retry)
    return plan


@dataclass(slots=True)
class Outcome:
    index: int
    started: float
    seconds: float
    error: str | None
    replayed: bool


def pay(factory: sessionmaker[Session], p: Payment) -> tuple[str | None, bool]:
    """One payment, one unit of work: (error, replayed)."""
    try:
        with factory() as s, s.begin():
            result = service.repay(
                s, loan_id=p.loan_id, amount_fen=p.amount_fen, on=p.on, idempotency_key=p.key
            )
            return None, bool(result.get("replayed"))
    except Exception as exc:  # counted and reported, never hidden
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}", False


def run_workers(engine: Engine, plan: list[Payment], workers: int) -> list[Outcome]:
    """``workers`` threads of this process, each with its own sessions, taking payments from one queue."""
    factory = session_factory(engine)
    jobs: queue.Queue[int] = queue.Queue()
    for i in range(len(plan)):
        jobs.put(i)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    gate = threading.Barrier(workers)

    def work() -> None:
        mine: list[Outcome] = []
        gate.wait()
        while True:
            try:
                i = jobs.get_nowait()
            except queue.Empty:
                break
            started = time.perf_counter()
            error, replayed = pay(factory, plan[i])
            mine.append(Outcome(i, started, time.perf_counter() - started, error, replayed))
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=work, name=f"repay-{k}") for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes, key=lambda o: o.started)


def track_backends(engine: Engine) -> set[int]:
    """The PostgreSQL backend process ids of every connection ``engine`` opens from now on."""
    pids: set[int] = set()

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        pids.add(int(dbapi_connection.info.backend_pid))

    event.listen(engine, "connect", on_connect)
    return pids


def backend_cpu(pids: set[int]) -> float:
    """CPU seconds (user + system) used so far by these PostgreSQL backends (same machine: /proc)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


Snapshot = tuple[float, float, float, float]  # machine busy and total jiffies, load average, perf_counter


def snapshot() -> Snapshot:
    """The start of the measured phase: machine CPU counters, load average, wall clock."""
    busy, total = cpu_busy()
    return busy, total, os.getloadavg()[0], time.perf_counter()


def _drain(factory: sessionmaker[Session], plan: list[Payment], counter: Any, out: list[Outcome]) -> None:
    """Take payments from a counter shared by every worker process until the plan is done."""
    while True:
        with counter.get_lock():
            i = counter.value
            counter.value += 1
        if i >= len(plan):
            return
        started = time.perf_counter()
        error, replayed = pay(factory, plan[i])
        out.append(Outcome(i, started, time.perf_counter() - started, error, replayed))


def _process_worker(  # noqa: PLR0917
    url: str,
    warmup: list[Payment],
    measured: list[Payment],
    threads: int,
    counters: tuple[Any, Any],
    gate: Any,
    results: Any,
) -> None:
    """One worker process: ``threads`` threads, the warm-up then (after every process is warm) the run."""
    engine = make_engine(url)
    pids = track_backends(engine)
    factory = session_factory(engine)

    def phase(plan: list[Payment], counter: Any) -> list[Outcome]:
        outs: list[list[Outcome]] = [[] for _ in range(threads)]
        workers = [
            threading.Thread(target=_drain, args=(factory, plan, counter, out), name=f"repay-{k}")
            for k, out in enumerate(outs)
        ]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        return [o for out in outs for o in out]

    gate.wait()
    phase(warmup, counters[0])
    gate.wait()  # every process is warm: the parent starts its clocks
    cpu0, pg0 = time.process_time(), backend_cpu(pids)
    mine = phase(measured, counters[1])
    results.put((mine, time.process_time() - cpu0, backend_cpu(pids) - pg0))
    engine.dispose()


def run_processes(
    url: str, warmup: list[Payment], measured: list[Payment], workers: int, processes: int
) -> tuple[list[Outcome], float, float, Snapshot]:
    """``workers`` spread over ``processes`` processes (threads within each; no GIL shared between
    processes), taking payments from a shared counter. The same processes run the warm-up and then the
    measured payments, so that the measured ones find warm caches as the threads do.

    Returns the measured outcomes, the CPU seconds the workers and their PostgreSQL backends used for them,
    and the snapshot taken when the measured phase started."""
    ctx = multiprocessing.get_context("spawn")
    counters = (ctx.Value("i", 0), ctx.Value("i", 0))
    gate = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    threads = [workers // processes + (k < workers % processes) for k in range(processes)]
    procs = [
        ctx.Process(target=_process_worker, args=(url, warmup, measured, n, counters, gate, results))
        for n in threads
    ]
    for proc in procs:
        proc.start()
    gate.wait()
    gate.wait()  # warm-up over in every process
    start = snapshot()
    parts = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    outcomes = sorted((o for mine, _, _ in parts for o in mine), key=lambda o: o.started)
    return outcomes, sum(p[1] for p in parts), sum(p[2] for p in parts), start


def cpu_busy() -> tuple[float, float]:
    """(busy jiffies, total jiffies) of the whole machine."""
    with open("/proc/stat") as f:
        parts = [float(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def profile_repay(engine: Engine, plan: list[Payment]) -> None:
    """One worker, no contention: statements per payment, time in the database vs in Python, hot spots."""
    factory = session_factory(engine)
    stats = {"statements": 0, "db": 0.0}
    kinds: Counter[str] = Counter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["t0"] = time.perf_counter()
        kinds[" ".join(statement.split()[:3])[:40]] += 1

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        stats["statements"] += 1
        stats["db"] += time.perf_counter() - conn.info.pop("t0")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    commits = {"n": 0, "s": 0.0}
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    failed = 0
    for p in plan:
        try:
            with factory() as s:
                with s.begin():
                    service.repay(
                        s, loan_id=p.loan_id, amount_fen=p.amount_fen, on=p.on, idempotency_key=p.key
                    )
                    t0 = time.perf_counter()
                commits["s"] += time.perf_counter() - t0
                commits["n"] += 1
        except sqlalchemy.exc.DBAPIError:
            failed += 1
    profiler.disable()
    wall = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    n = len(plan)
    print(
        f"profile: {n:,} payments by one worker ({failed} failed), no contention, under cProfile "
        "(slower than without)"
    )
    print(
        f"    {wall / n * 1000:.2f} ms per payment: {stats['statements'] / n:.1f} SQL statements "
        f"({stats['db'] / n * 1000:.2f} ms waiting on them), commit {commits['s'] / n * 1000:.2f} ms, "
        f"Python {(wall - stats['db'] - commits['s']) / n * 1000:.2f} ms"
    )
    print("    statements per payment: " + ", ".join(f"{k} x{v / n:.2f}" for k, v in kinds.most_common(12)))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(28)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("    cProfile, cumulative:")
    for line in lines[start : start + 29]:
        print("      " + line[:150])
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--payments", type=int, default=None, help="measured payments (default 20,000)")
    parser.add_argument("--warmup", type=int, default=None, help="payments before measuring (default 500)")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--quick", action="store_true", help="2,000 payments")
    parser.add_argument("--reseed", action="store_true", help="rebuild the template database")
    parser.add_argument("--profile", action="store_true", help="also profile 1,000 payments by one worker")
    parser.add_argument("--keep", action="store_true", help="keep the run database (xiaodai_bench_repay)")
    parser.add_argument(
        "--processes",
        nargs="?",
        type=int,
        const=0,
        default=None,
        metavar="N",
        help="spread the workers over N processes, threads within each (without N: one process per worker)",
    )
    parser.add_argument(
        "--history",
        choices=("compact", "full"),
        default="compact",
        help="journal of the past (see bench_eod)",
    )
    args = parser.parse_args(argv)
    payments = args.payments or (2_000 if args.quick else 20_000)
    warmup = args.warmup if args.warmup is not None else (200 if args.quick else 500)
    day = DAY
    book = Book(loans=payments + warmup, history=args.history)

    print(f"xiaodai repayment benchmark: {payments:,} payments (+{warmup:,} warm-up), {args.workers} workers")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(seed_loans.ADMIN_URL, autocommit=True) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                "('server_version','shared_buffers','synchronous_commit','fsync','wal_sync_method','commit_delay')"
            ).fetchall()
        )
    print(
        f"machine: {platform.machine()} {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, "
        f"{mem:.0f} GiB RAM, load average {os.getloadavg()[0]:.2f}; CPython {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}"
    )
    print("postgres: " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())))
    print()
    print(f"book template {book.template}")
    print_seed_report(ensure_template(book, reseed=args.reseed), book)
    name = "xiaodai_bench_repay"
    url = clone_database(book.template, name)
    engine = make_engine(url)
    backends = track_backends(engine)
    plan = plan_payments(engine, day, payments + warmup)
    measured_plan = plan[warmup:]
    mix = Counter(p.kind for p in measured_plan)
    print(
        f"  {len(measured_plan):,} measured payments: "
        + ", ".join(f"{k} {v / len(measured_plan):.1%}" for k, v in mix.most_common())
    )
    on_day = sum(p.on == day for p in measured_plan)
    print(
        f"  dated {day} (arrears) {on_day:,}; on due dates up to "
        f"{max(p.on for p in measured_plan)} (each bills its instalment first) "
        f"{len(measured_plan) - on_day:,}"
    )
    print()

    processes = 0 if args.processes is None else min(args.processes or args.workers, args.workers)
    if processes:
        outcomes, cpu, pg_cpu, start = run_processes(
            url, plan[:warmup], measured_plan, args.workers, processes
        )
    else:
        run_workers(engine, plan[:warmup], args.workers)
        start = snapshot()
        cpu0, pg0 = time.process_time(), backend_cpu(backends)
        outcomes = run_workers(engine, measured_plan, args.workers)
        cpu, pg_cpu = time.process_time() - cpu0, backend_cpu(backends) - pg0
    busy0, total0, load, started = start
    wall = time.perf_counter() - started
    busy1, total1 = cpu_busy()
    machine_busy = (busy1 - busy0) / (total1 - total0)
    machine_cpu = (busy1 - busy0) / os.sysconf("SC_CLK_TCK")
    others = max(0.0, machine_cpu - cpu - pg_cpu)

    ok = [o for o in outcomes if o.error is None]
    errors = Counter(o.error for o in outcomes if o.error is not None)
    latencies = [o.seconds * 1000 for o in outcomes]
    rate = len(outcomes) / wall
    p50, p90, p99 = (percentile(latencies, q) for q in (50, 90, 99))
    per_second = Counter(int(o.started + o.seconds - started) for o in outcomes)
    whole = [per_second[s] for s in range(int(wall))]
    if not processes:
        kind = "threads"
    elif processes == args.workers:
        kind = "processes"
    else:
        kind = f"threads in {processes} processes"
    print(f"{args.workers} workers ({kind}), {len(outcomes):,} payments in {wall:.2f} s")
    print(
        f"    sustained: {rate:,.0f} payments/s ({len(ok):,} posted or replayed, "
        f"{sum(errors.values())} failed)"
    )
    if whole:
        print(
            f"    per whole second: min {min(whole):,}, median {statistics.median(whole):,.0f}, "
            f"max {max(whole):,} ({len(whole)} s)"
        )
    print(
        f"    latency ms: p50 {p50:.1f}, p90 {p90:.1f}, p99 {p99:.1f}, max {max(latencies):.1f}, "
        f"mean {statistics.fmean(latencies):.1f}"
    )
    n = len(outcomes)
    print(
        f"    CPU per payment: Python workers {cpu / n * 1000:.2f} ms, their PostgreSQL backends "
        f"{pg_cpu / n * 1000:.2f} ms (machine {machine_busy:.0%} busy over {os.cpu_count()} CPUs; "
        f"Python {cpu / wall:.2f} CPU-s/s, PostgreSQL {pg_cpu / wall:.2f}, everything else on the machine "
        f"{others / wall:.2f}; load average {load:.2f} at the start)"
    )
    cpus = os.cpu_count() or 1
    gils = processes or 1
    all_cpus = cpus / ((cpu + pg_cpu) / n)  # every CPU busy with this work only
    one_gil = gils / (cpu / n)  # the threads of a process share one GIL
    print(
        f"    CPU bound on an idle machine: ~{min(all_cpus, one_gil):,.0f} payments/s "
        + (
            f"({'one GIL' if gils == 1 else f'{gils} GILs'}: Python CPU per payment)"
            if one_gil < all_cpus
            else "(all CPUs: Python + PostgreSQL)"
        )
    )
    print(f"    replays (retried keys): {sum(o.replayed for o in outcomes):,}")
    for error, n in errors.most_common(5):
        print(f"    error x{n}: {error}")

    factory = session_factory(engine)
    with factory() as s:
        started = time.perf_counter()
        problems = ledger.check(s)
        check_s = time.perf_counter() - started
        entries: dict[str, int] = dict(
            s.execute(
                text(
                    "SELECT event, count(*) FROM journal_entries WHERE idempotency_key NOT LIKE 'seed-%' "
                    "AND event <> 'disbursement' GROUP BY event"
                )
            ).all()
        )
        states: dict[str, int] = dict(
            s.execute(text("SELECT state, count(*) FROM loans GROUP BY state")).all()
        )
        holders = s.execute(text("SELECT count(*) FROM loans WHERE overpayment_fen > 0")).scalar_one()
    print(
        f"    journal entries posted: {', '.join(f'{k} {v:,}' for k, v in sorted(entries.items()))}; "
        f"loans now {', '.join(f'{k} {v:,}' for k, v in sorted(states.items()))}; "
        f"{holders:,} hold an overpayment"
    )
    print(
        f"    ledger check over {book.loans:,} loans: {len(problems)} differences ({check_s:.1f} s)"
        + "".join(f"\n      {p}" for p in problems[:5])
    )
    print()

    if args.profile:
        prof_db = "xiaodai_bench_repay_profile"
        prof_engine = make_engine(clone_database(book.template, prof_db))
        profile_plan = [
            p for p in plan_payments(prof_engine, day, 1_000, seed=5) if p.kind != "retry (replay)"
        ]
        profile_repay(prof_engine, profile_plan)
        prof_engine.dispose()
        if not args.keep:
            drop_database(prof_db)

    print("summary")
    print(
        f"  repay, {args.workers} workers ({kind}): {rate:,.0f} payments/s   goal >= {GOAL_RATE:.0f}/s "
        f"[{'MET' if rate >= GOAL_RATE else 'MISSED'}]"
    )
    print(
        f"  latency p99 {p99:.1f} ms (p50 {p50:.1f} ms)   goal <= {GOAL_P99_MS:.0f} ms "
        f"[{'MET' if p99 <= GOAL_P99_MS else 'MISSED'}]"
    )
    print(f"  failed payments: {sum(errors.values())}; ledger check differences: {len(problems)}")
    engine.dispose()
    if not args.keep:
        drop_database(name)
    return 1 if problems or errors else 0


if __name__ == "__main__":
    sys.exit(main())
