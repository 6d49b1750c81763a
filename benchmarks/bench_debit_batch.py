"""The set-based debit batch and settlement-file reconciliation at 1,000,000 due instalments (PostgreSQL),
each against a per-row ORM loop in the same run (on a sample of the same book, extrapolated per item).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_debit_batch.py                 # 1,000,000
    PYTHONPATH=src .venv/bin/python benchmarks/bench_debit_batch.py --n 100000      # smaller book
    PYTHONPATH=src .venv/bin/python benchmarks/bench_debit_batch.py --reseed        # rebuild the template

The book (template database ``xiaodai_bench_debit_<n>``, cached): ``--n`` borrowers, each with a bound
default card (``622202…``, encrypted as ``start_binding`` stores it) and a 3-month 10,000 CNY loan at 15 %
from 2026-01-10, disbursed, so ``--n`` instalments of 902.58 fall due on 2026-02-10 (not billed yet: the
batch bills them, as a repayment does). One loan, its user and card are made through the services; the
others are copies of them in SQL (same schedule, own ids and disbursement entries). Sandbox channel, seed 7:
~70 % succeed, 5 % partial, 15 % fail, 10 % time out (their outcome comes in the settlement file).

1. ``payments.batch.run_debit_batch`` on a fresh copy, timed by phase (claim / send+book chunks), then the
   ledger checked in SQL (every entry nets to zero; every loan's stored balances = its postings).
2. Per-row ORM loop (``bench_debit.per_row``: a transaction per instalment, rows through the ORM, the channel
   called inside it, money booked by ``servicing.repay``) over the first ``--sample`` due instalments of
   another copy; per-instalment time extrapolated to ``--n``. Its loans are then compared with the same
   loans of the set-based copy (they must be identical).
3. Reconciliation: the channel's settlement file for the day (``--n`` lines, with injected breaks: 0.1 %
   of the successful lines dropped, 0.1 % with another amount, 0.1 % references we never sent) written to
   a CSV; a per-row ORM loop (look up each line's attempt, book a confirmed timeout through
   ``servicing.repay``, move suspense by ``ledger.post``) over its first ``--recon-sample`` lines,
   extrapolated; then ``payments.reconcile_file.reconcile_file`` (polars) on the whole file, timed; then
   the same file again (a replay: nothing may be posted).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent))
import bench_debit
from xiaodai.db.migrate import upgrade
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import UserRow
from xiaodai.db.tables.payments import DebitAttemptRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.payments import batch, service
from xiaodai.payments.card import masked
from xiaodai.payments.channel import DebitStatus
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.reconcile_file import reconcile_file
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.payments.settlement_file import SettlementLine, render
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.privacy.crypto import aad, blind_index, encrypt
from xiaodai.privacy.keys import current_ring
from xiaodai.servicing import service as servicing

DUE = bench_debit.DUE
SEED = bench_debit.SEED
VERSION = "bench_debit_batch/1"
GOAL_BATCH = 60.0
GOAL_RECON = 30.0
ADMIN = bench_debit.ADMIN
url = bench_debit.url
admin = bench_debit.admin


def exists(name: str) -> str | None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return None if row is None else str(row[0])


def seed(name: str, n: int) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    upgrade(url(name))
    engine = make_engine(url(name))
    factory = session_factory(engine)
    channel, ring = SandboxChannel(seed=SEED), current_ring()
    terms = LoanTerms(
        principal=Decimal(10_000),
        term=3,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.15"),
        start_on=date(2026, 1, 10),
    )
    with factory() as s, s.begin():  # the prototype, through the services
        user = UserRow(kind="borrower", email="bench0@example.com", password_hash="x")
        s.add(user)
        s.flush()
        binding = service.start_binding(
            s, channel=channel, ring=ring, borrower_id=user.id, number=bench_debit.number(0)
        )
        service.confirm_binding(
            s, channel=channel, card_id=binding["card_id"], code=channel.code_for(binding["verify_ref"])
        )
        loan = servicing.create_loan(
            s,
            terms=terms,
            product="standard",
            config=servicing.ServicingConfig(),
            cap_book=default_cap_book(),
        )
        loan.borrower_id = user.id
        loan_id = loan.id
    with factory() as s, s.begin():
        servicing.disburse(s, loan_id=loan_id, on=terms.start_on, idempotency_key=f"disburse-{loan_id}")
    engine.dispose()
    with psycopg.connect(url(name).replace("+psycopg", ""), autocommit=True) as conn:

        def columns(table: str, skip: set[str]) -> list[str]:
            rows = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                " ORDER BY ordinal_position",
                (table,),
            ).fetchall()
            return [r[0] for r in rows if r[0] not in skip]

        started = time.perf_counter()
        user_cols = columns("users", {"id", "email"})
        conn.execute(
            f"INSERT INTO users (id, email, {', '.join(user_cols)}) "
            f"SELECT g, 'bench' || g || '@example.com', {', '.join('u.' + c for c in user_cols)} "
            "FROM users u, generate_series(2, %s) g WHERE u.id = 1",
            (n,),
        )
        loan_cols = columns("loans", {"id", "borrower_id"})
        conn.execute(
            f"INSERT INTO loans (id, borrower_id, {', '.join(loan_cols)}) "
            f"SELECT g, g, {', '.join('l.' + c for c in loan_cols)} FROM loans l, generate_series(2, %s) g "
            "WHERE l.id = 1",
            (n,),
        )
        inst_cols = columns("installments", {"id", "loan_id"})
        conn.execute(
            f"INSERT INTO installments (loan_id, {', '.join(inst_cols)}) "
            f"SELECT g, {', '.join('i.' + c for c in inst_cols)} FROM generate_series(2, %s) g "
            "CROSS JOIN installments i WHERE i.loan_id = 1 ORDER BY g, i.period",
            (n,),
        )
        conn.execute(
            "INSERT INTO journal_entries (id, business_date, event, idempotency_key, loan_id, memo) "
            "SELECT g, e.business_date, e.event, 'disburse:' || g, g, e.memo "
            "FROM journal_entries e, generate_series(2, %s) g"
            " WHERE e.loan_id = 1 AND e.event = 'disbursement'",
            (n,),
        )
        conn.execute(
            "INSERT INTO postings (entry_id, account, loan_id, amount_fen) "
            "SELECT g, p.account, CASE WHEN p.loan_id IS NULL THEN NULL ELSE g END, p.amount_fen "
            "FROM postings p JOIN journal_entries e ON e.id = p.entry_id AND e.loan_id = 1 "
            "AND e.event = 'disbursement' CROSS JOIN generate_series(2, %s) g ORDER BY 1",
            (n,),
        )
        for table in ("users", "loans", "installments", "journal_entries", "postings"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        print(f"  users, loans, instalments, journal copied in SQL: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY payment_cards (borrower_id, number_enc, number_bidx, masked, bank, status, is_default) "
                "FROM STDIN"
            ) as copy,
        ):
            for i in range(2, n + 1):
                number = bench_debit.number(i - 1)
                copy.write_row(
                    (
                        i,
                        encrypt(ring, number, aad("payment_cards", i, "number")),
                        blind_index(ring, "bank_card", number),
                        masked(number),
                        "ICBC",
                        "bound",
                        True,
                    )
                )
        print(f"  {n - 1:,} cards encrypted and copied: {time.perf_counter() - started:.1f} s")
        conn.execute("VACUUM ANALYZE")
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{VERSION}'")


def backend_cpu(engine: Engine) -> float:
    """CPU seconds (user + system) of the PostgreSQL backends connected to this engine's database, from
    /proc (the server runs on this machine): the pool keeps the batch's connections open, so their
    counters cover its work."""
    with engine.connect() as conn:
        pids = list(
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).scalars()
        )
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_note(engine: Engine, cpu0: float, pg0: float) -> str:
    return (
        f"CPU: Python {time.process_time() - cpu0:.1f} s, PostgreSQL backends "
        f"{backend_cpu(engine) - pg0:.1f} s; load {os.getloadavg()[0]:.1f}"
    )


def sql_check(engine: Engine) -> list[str]:
    """The ledger check in SQL (``ledger.check`` loads every loan into Python): entries net to zero,
    trial balance zero, stored balances = postings for every loan."""
    problems = []
    with engine.connect() as conn:
        bad = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id"
                " HAVING sum(amount_fen) <> 0) x"
            )
        ).scalar_one()
        if bad:
            problems.append(f"{bad} entries do not net to zero")
        if conn.execute(text("SELECT coalesce(sum(amount_fen), 0) FROM postings")).scalar_one():
            problems.append("trial balance is not zero")
        differ = conn.execute(
            text(
                """SELECT count(*) FROM loans l LEFT JOIN (
                     SELECT loan_id,
                       sum(CASE WHEN account = 'assets:loans:principal' THEN amount_fen ELSE 0 END) p,
                       sum(CASE WHEN account = 'assets:loans:interest' THEN amount_fen ELSE 0 END) i,
                       sum(CASE WHEN account = 'assets:loans:fees' THEN amount_fen ELSE 0 END) f,
                       sum(CASE WHEN account = 'assets:loans:penalties' THEN amount_fen ELSE 0 END) y,
                       sum(CASE WHEN account = 'liabilities:borrowers:overpayment'
                                THEN amount_fen ELSE 0 END) o
                     FROM postings WHERE loan_id IS NOT NULL GROUP BY loan_id) d ON d.loan_id = l.id
                   WHERE l.principal_outstanding_fen <> coalesce(d.p, 0)
                      OR l.interest_outstanding_fen <> coalesce(d.i, 0)
                      OR l.fees_outstanding_fen <> coalesce(d.f, 0)
                      OR l.penalties_outstanding_fen <> coalesce(d.y, 0)
                      OR l.overpayment_fen <> -coalesce(d.o, 0)"""
            )
        ).scalar_one()
        if differ:
            problems.append(f"{differ} loans' stored balances differ from their postings")
    return problems


def loans_of(engine: Engine, ids: list[int]) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT l.id, l.state, l.principal_outstanding_fen, l.interest_outstanding_fen,"
                    " l.overpayment_fen, l.paid_total_fen, i.billed, i.paid_principal_fen,"
                    " i.paid_interest_fen,"
                    " i.paid_on FROM loans l JOIN installments i ON i.loan_id = l.id AND i.due_on = :d"
                    " WHERE l.id = ANY(:ids) ORDER BY l.id"
                ),
                {"d": DUE, "ids": ids},
            ).all()
        ]


def inject_breaks(
    lines: list[SettlementLine], rng: random.Random
) -> tuple[list[SettlementLine], dict[str, int]]:
    n = len(lines)
    k = max(1, n // 1000)
    moved = [i for i, line in enumerate(lines) if line.status is DebitStatus.SUCCEEDED]
    rng.shuffle(moved)
    dropped = set(moved[:k])
    changed = set(moved[k : 2 * k])
    out = []
    for i, line in enumerate(lines):
        if i in dropped:
            continue
        if i in changed:
            out.append(SettlementLine(line.channel_ref, line.settled_on, line.status, line.amount_fen - 100))
        else:
            out.append(line)
    for j in range(k):
        out.append(SettlementLine(f"debit:{10**12 + j}:0", DUE, DebitStatus.SUCCEEDED, 12_345))
    return out, {"dropped": k, "changed": k, "unknown": k}


def per_row_reconcile(factory: sessionmaker[Session], lines: list[SettlementLine]) -> int:
    """The naive loop: for each line, its attempt through the ORM; a confirmed timeout booked by
    ``servicing.repay``; suspense moved by difference with ``ledger.post``; commit every 1,000 lines."""
    for start in range(0, len(lines), 1000):
        with factory() as s, s.begin():
            for line in lines[start : start + 1000]:
                attempt = s.execute(
                    select(DebitAttemptRow)
                    .where(DebitAttemptRow.channel_ref == line.channel_ref)
                    .with_for_update()
                ).scalar_one_or_none()
                ours = 0
                if attempt is not None:
                    if attempt.status == "pending":
                        service.apply_outcome(
                            s, ref=line.channel_ref, status=line.status, settled_fen=line.amount_fen, on=DUE
                        )
                    ours = attempt.posted_fen
                want = line.amount_fen - ours
                held, count = service.suspense_held(s, line.channel_ref)
                if want != held:
                    ledger.post(
                        s,
                        entry(
                            DUE,
                            "suspense",
                            f"suspense:{line.channel_ref}:{count + 1}",
                            [(Account.CASH, want - held), (Account.PAYMENT_SUSPENSE, held - want)],
                        ),
                    )
    return len(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=3_000, help="instalments for the per-row debit loop")
    parser.add_argument(
        "--recon-sample", type=int, default=20_000, help="lines for the per-row reconcile loop"
    )
    parser.add_argument("--chunk", type=int, default=batch.CHUNK)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--tag", default="", help="part of the database names (runs of several people on one server)"
    )
    args = parser.parse_args()
    n = args.n
    template = f"xiaodai_bench_debit_{args.tag + '_' if args.tag else ''}{n}"
    print(f"debit batch and reconciliation benchmark: {n:,} due instalments, load {os.getloadavg()[0]:.1f}")
    if args.reseed or exists(template) != VERSION:
        started = time.perf_counter()
        print(f"seeding template {template} ...")
        seed(template, n)
        print(f"  seeded in {time.perf_counter() - started:.1f} s")
    made: list[str] = []

    def copy(tag: str) -> Engine:
        name = f"{template}_{tag}"
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        made.append(name)
        upgrade(url(name))  # a template seeded before a later migration gets it here
        return make_engine(url(name))

    try:
        # 1. the set-based batch
        engine = copy("set")
        factory = session_factory(engine)
        channel = SandboxChannel(seed=SEED)
        marks: list[tuple[str, float]] = []
        cpu0, pg0 = time.process_time(), backend_cpu(engine)
        started = time.perf_counter()
        result = batch.run_debit_batch(
            factory,
            channel=channel,
            ring=current_ring(),
            on=DUE,
            policy=default_policy(),
            chunk=args.chunk,
            progress=lambda phase, _k: marks.append((phase, time.perf_counter())),
        )
        batch_s = time.perf_counter() - started
        batch_cpu = cpu_note(engine, cpu0, pg0)
        counts = result["counts"]
        claims = [t for phase, t in marks if phase == "claim"]
        chunks = sum(1 for phase, _ in marks if phase == "chunk")
        claim_s = claims[0] - started if claims else 0.0
        print(
            f"set-based run_debit_batch: {counts['claimed']:,} debits in {batch_s:.2f} s "
            f"= {counts['claimed'] / batch_s:,.0f} debits/s (claimed in {len(claims)} part(s), the first "
            f"ready after {claim_s:.2f} s; {chunks} chunks of ≤{args.chunk:,} sent and booked, the next part "
            "claimed meanwhile on PostgreSQL)"
        )
        print(f"  {batch_cpu}")
        print(
            "  outcomes: "
            + ", ".join(f"{k} {counts[k]:,}" for k in ("succeeded", "partial", "failed", "pending"))
            + f"; posted {counts['posted_fen'] / 100:,.2f} CNY; refused {len(result['refused'])}; "
            f"booked by the columnar path {counts['columnar']:,}, by book_repayment "
            f"{counts['succeeded'] + counts['partial'] - counts['columnar']:,}"
        )
        started = time.perf_counter()
        problems = sql_check(engine)
        print(f"  ledger check (SQL): {problems or 'clean'} ({time.perf_counter() - started:.1f} s)")

        # 2. the per-row ORM loop on a sample
        row_engine = copy("row")
        started = time.perf_counter()
        done = bench_debit.per_row(session_factory(row_engine), args.sample)
        row_s = time.perf_counter() - started
        per_item = row_s / done
        print(
            f"per-row ORM loop: {done:,} debits in {row_s:.2f} s = {done / row_s:,.0f} debits/s; "
            f"{n:,} would take ~{per_item * n:,.0f} s"
        )
        with row_engine.connect() as conn:
            sample_ids = list(
                conn.execute(text("SELECT DISTINCT loan_id FROM debit_attempts ORDER BY loan_id")).scalars()
            )
        same = loans_of(row_engine, sample_ids) == loans_of(engine, sample_ids)
        print(f"  sample loans identical to the set-based copy's: {'yes' if same else 'NO'}")
        row_engine.dispose()
        speed = per_item * n / batch_s
        verdict = (
            ("MET" if batch_s <= GOAL_BATCH else "MISSED")
            if n == 1_000_000
            else f"not the goal size; {batch_s * 1_000_000 / n:,.0f} s per million at this rate"
        )
        print(f"  speed-up per debit: {speed:,.0f}x; goal ≤ {GOAL_BATCH:.0f} s for 1,000,000: [{verdict}]")

        # 3. reconciliation
        lines, injected = inject_breaks(channel.settlement_lines(DUE), random.Random(5))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "settlement.csv"
            started = time.perf_counter()
            path.write_text(render(lines), encoding="utf-8")
            print(
                f"settlement file: {len(lines):,} lines ({path.stat().st_size / 2**20:.0f} MiB, written in "
                f"{time.perf_counter() - started:.1f} s), injected {injected}"
            )
            sample = lines[: args.recon_sample]
            started = time.perf_counter()
            per_row_reconcile(factory, sample)
            rec_row_s = time.perf_counter() - started
            rec_item = rec_row_s / len(sample)
            print(
                f"per-row reconcile loop: {len(sample):,} lines in {rec_row_s:.2f} s = "
                f"{len(sample) / rec_row_s:,.0f} lines/s; "
                f"{len(lines):,} would take ~{rec_item * len(lines):,.0f} s"
            )
            cpu0, pg0 = time.process_time(), backend_cpu(engine)
            started = time.perf_counter()
            report = reconcile_file(factory, path, on=DUE)
            rec_s = time.perf_counter() - started
            print(f"  reconcile_file {cpu_note(engine, cpu0, pg0)}")
            print(
                f"set-based reconcile_file: {len(lines):,} lines in {rec_s:.2f} s; "
                f"counts {report['counts']}; "
                f"confirmed {len(report['confirmed']):,}; "
                f"suspense posted {report['suspense_posted_fen'] / 100:,.2f}"
            )
            started = time.perf_counter()
            replay = reconcile_file(factory, path, on=DUE)
            replay_s = time.perf_counter() - started
            print(
                f"  replay: {replay_s:.2f} s, suspense posted {replay['suspense_posted_fen']}, confirmed "
                f"{len(replay['confirmed'])}, "
                f"same counts: {'yes' if replay['counts'] == report['counts'] else 'NO'}"
            )
        problems = sql_check(engine)
        print(f"  ledger check (SQL) after reconciliation: {problems or 'clean'}")
        engine.dispose()
        speed_r = rec_item * len(lines) / rec_s
        verdict = (
            ("MET" if rec_s <= GOAL_RECON else "MISSED")
            if n == 1_000_000
            else f"not the goal size; {rec_s * 1_000_000 / len(lines):,.0f} s per million lines at this rate"
        )
        print(
            f"  speed-up per line: {speed_r:,.0f}x; "
            f"goal ≤ {GOAL_RECON:.0f} s for 1,000,000 lines: [{verdict}]"
        )
    finally:
        if not args.keep:
            for name in made:
                admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
