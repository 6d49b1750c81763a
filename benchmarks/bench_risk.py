"""Risk analytics benchmark: polars kernels vs a pandas row-wise baseline, Dask vs local, PG -> Parquet.

    PYTHONPATH=src python benchmarks/bench_risk.py --borrowers 1400000 --months 24 --work /tmp/bench-risk

1. Simulates a book (or reuses ``--work/book`` when it exists) of about 10,000,000 loan-months.
2. Analytics = vintages + roll rates + ECL (parameters and the base ECL by stage) at the last month:
   - polars kernels (the local engine) on the whole panel;
   - a pandas baseline that walks the rows one by one (``itertuples``) and keeps the same counters in
     Python dictionaries, then the ECL loan by loan: run on every k-th loan (about ``--baseline-rows`` rows)
     (the whole panel would take many minutes) and extrapolated linearly in rows; polars is timed on the
     same sample too, and the two must agree on every count (and the ECL to within 0.01 %).
3. The full report (both passes, every kernel): local engine vs Dask with 2 local workers.
4. PostgreSQL -> Parquet export: ``--pg-loans`` loans with 12 instalments each, an application (channel) and
   a decision record (grade, PD) inserted into a throw-away database, exported by loan-id range
   (``--pg-chunk`` loans per file); rows/s; then the same loans again without applications and decisions
   (nothing to join) as the anchor. ``--pg-only`` runs this step alone.
Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from xiaodai.risk import ecl, roll_rates, vintage
from xiaodai.risk.ecl import EclParams
from xiaodai.risk.engines.local import LocalEngine, scan_panel
from xiaodai.risk.panel import conform
from xiaodai.risk.report import ReportOptions, build_tables
from xiaodai.risk.stress import default_scenarios


def analytics_polars(panel: pl.LazyFrame, as_of: date) -> dict[str, Any]:
    curves = vintage.vintage_curves(panel, as_of=as_of)
    matrix = roll_rates.roll_rates(panel, as_of=as_of)
    params = EclParams()
    parameters = ecl.parameters_finalize([ecl.parameters_partial(panel, as_of=as_of)], params)
    stages = ecl.finalize(ecl.partial(panel, as_of=as_of, parameters=parameters, params=params))
    return {
        "default_events": int(
            curves.group_by("origination_month").agg(pl.col("cum_default").max())["cum_default"].sum()
        ),
        "transitions": {(f, t): c for f, t, c in matrix.select("from", "to", "count").iter_rows() if c},
        "ecl_fen": int(stages["ecl_fen"].sum()),
        "parameters": parameters,
    }


def bucket_from(status: str, default: bool, bucket: str) -> str:
    if default:
        return "default"
    if status in ("prepaid", "closed"):
        return "paid_off"
    return bucket


def analytics_pandas_rowwise(frame: pd.DataFrame, as_of: date) -> dict[str, Any]:
    """The same figures, one row at a time (the way a spreadsheet macro or a naive script does it)."""
    end = pd.Timestamp(as_of.replace(day=1))
    frame = frame[frame["month"] <= end].sort_values(["loan_id", "month"])
    first_default: dict[int, int] = {}
    transitions: dict[tuple[str, str], int] = defaultdict(int)
    at_risk: dict[tuple[str, int], int] = defaultdict(int)
    defaults: dict[tuple[str, int], int] = defaultdict(int)
    prepaid = 0
    workout_ead: dict[int, int] = {}
    workout_rec: dict[int, int] = defaultdict(int)
    finished: set[int] = set()
    snapshot: list[Any] = []
    recovered: dict[int, int] = defaultdict(int)
    previous = None
    for row in frame.itertuples(index=False):
        if row.default_flag and row.loan_id not in first_default:
            first_default[row.loan_id] = row.mob
        if (
            previous is not None
            and previous.loan_id == row.loan_id
            and previous.status == "active"
            and previous.bucket != "M4+"
            and (row.month.year * 12 + row.month.month) - (previous.month.year * 12 + previous.month.month)
            == 1
        ):
            transitions[(previous.bucket, bucket_from(row.status, row.default_flag, row.bucket))] += 1
        if row.status in ("active", "prepaid", "closed") or row.default_flag:
            at_risk[(row.grade, row.mob)] += 1
            defaults[(row.grade, row.mob)] += int(row.default_flag)
            prepaid += int(row.status == "prepaid")
        if row.default_flag:
            workout_ead[row.loan_id] = row.balance_fen
        workout_rec[row.loan_id] += row.recovery_fen
        recovered[row.loan_id] += row.recovery_fen
        if row.status == "written_off":
            finished.add(row.loan_id)
        if row.month == end and row.status in ("active", "defaulted"):
            snapshot.append(row)
        previous = row
    params = EclParams()
    pooled_n: dict[str, int] = defaultdict(int)
    pooled_d: dict[str, int] = defaultdict(int)
    for (grade, _mob), n in at_risk.items():
        pooled_n[grade] += n
        pooled_d[grade] += defaults[(grade, _mob)]
    total_n = sum(pooled_n.values())
    book = sum(pooled_d.values()) / total_n if total_n else 0.0
    ead = sum(workout_ead.get(i, 0) for i in finished)
    rec = sum(workout_rec[i] for i in finished)
    lgd = 1 - rec / ead if ead else params.default_lgd
    q = prepaid / total_n if total_n else 0.0

    def hazard(grade: str, mob: int) -> float:
        n = at_risk.get((grade, mob), 0)
        if n >= params.min_at_risk:
            return defaults[(grade, mob)] / n
        return pooled_d[grade] / pooled_n[grade] if pooled_n.get(grade) else book

    total = 0
    for row in snapshot:
        if row.status == "defaulted":
            got = recovered[row.loan_id]
            remaining = row.balance_fen - got
            expected = max(math.floor(row.balance_fen * (1 - lgd) + 0.5) - got, 0)
            total += max(remaining - expected, 0)
            continue
        stage = 2 if (row.dpd >= 30 or row.pd_current >= params.sicr_ratio * row.predicted_pd) else 1
        scale = max(row.pd_current / row.predicted_pd, 1.0) if stage == 2 else 1.0
        n = max(row.term - row.mob, 1)
        r = row.annual_rate / 12
        survival, loss = 1.0, 0.0
        for h in range(1, (12 if stage == 1 else n) + 1):
            if h > n:
                break
            mh = min(max(hazard(row.grade, row.mob + h) * scale, 0.0), 1.0)
            amortised = ((1 + r) ** n - (1 + r) ** (h - 1)) / ((1 + r) ** n - 1) if r > 0 else (n - h + 1) / n
            loss += survival * mh * lgd * row.balance_fen * amortised * (1 - q) ** (h - 1) * (1 + r) ** (-h)
            survival *= 1 - mh
        total += math.floor(loss + 0.5)
    return {
        "default_events": len([1 for m in first_default.values() if m is not None]),
        "transitions": dict(transitions),
        "ecl_fen": total,
    }


CPU: dict[str, float] = {}


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Wall seconds (returned) and this process's CPU seconds, all threads (``CPU[fn name]``): on a shared,
    loaded machine the CPU time is the steadier figure."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    CPU[fn.__name__] = round(time.process_time() - cpu, 2)
    return time.perf_counter() - started, result


def pg_export(loans: int, work: Path, chunk: int = 20_000) -> dict[str, Any]:
    import psycopg
    from sqlalchemy import delete, insert

    from xiaodai.db.migrate import upgrade
    from xiaodai.db.session import make_engine
    from xiaodai.db.tables.accounts import UserRow
    from xiaodai.db.tables.journey import ApplicationRow
    from xiaodai.db.tables.loans import InstallmentRow, LoanRow
    from xiaodai.db.tables.underwriting import DecisionRow, ModelRow, PolicyVersionRow
    from xiaodai.risk.export import export_panel

    for stale in ("pg-export", "pg-export-bare", "pg-export-warm"):
        shutil.rmtree(work / stale, ignore_errors=True)
    admin_url = os.environ.get("XIAODAI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"xiaodai_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        engine = make_engine(url)
        start = date(2025, 1, 10)
        grades = ("A", "B", "C", "D", "E")
        with engine.begin() as conn:
            # every loan has an application (channel) and a decision record (grade, PD): the export joins them
            conn.execute(
                insert(UserRow),
                [{"id": 1, "kind": "borrower", "email": "b@x", "password_hash": "-"}],
            )
            conn.execute(insert(ModelRow), [{"version": "bench", "path": "-", "manifest_json": "{}"}])
            conn.execute(insert(PolicyVersionRow), [{"version": "bench", "document": "{}"}])
            for lo in range(1, loans + 1, 5000):
                ids = range(lo, min(lo + 5000, loans + 1))
                conn.execute(
                    insert(LoanRow),
                    [
                        {
                            "id": i,
                            "product": "standard",
                            "state": "active",
                            "method": "equal-installment",
                            "principal_fen": 1_200_000,
                            "term": 12,
                            "annual_rate": "0.12",
                            "start_on": start,
                            "apr_percent": "12",
                            "disclosed_repayment_fen": 1_279_460,
                            "disbursed_on": start,
                        }
                        for i in ids
                    ],
                )
                conn.execute(
                    insert(InstallmentRow),
                    [
                        {
                            "loan_id": i,
                            "period": k,
                            "start_on": start,
                            "due_on": date(2025 + (k // 12), k % 12 + 1, 10),
                            "principal_fen": 100_000,
                            "interest_fen": 6_000,
                            "fee_fen": 0,
                            "paid_on": date(2025 + (k // 12), k % 12 + 1, 10) if (i + k) % 7 else None,
                        }
                        for i in ids
                        for k in range(1, 13)
                    ],
                )
                conn.execute(
                    insert(DecisionRow),
                    [
                        {
                            "id": i,
                            "application_id": f"a{i}",
                            "outcome": "approve",
                            "pd": 0.01 + (i % 50) / 500,
                            "grade": grades[i % 5],
                            "model_version": "bench",
                            "policy_version": "bench",
                            "application_json": "{}",
                            "result_json": "{}",
                        }
                        for i in ids
                    ],
                )
                conn.execute(
                    insert(ApplicationRow),
                    [
                        {
                            "id": i,
                            "public_id": f"a{i}",
                            "user_id": 1,
                            "idempotency_key": f"k{i}",
                            "payload_json": json.dumps({"channel": "web" if i % 3 else "api"}),
                            "decision_id": i,
                            "outcome": "approve",
                            "loan_id": i,
                        }
                        for i in ids
                    ],
                )
        # a first, untimed pass warms the connection pool and the database's caches for both timed passes
        export_panel(engine, work / "pg-export-warm", as_of=date(2026, 1, 31), chunk=chunk)
        result = export_panel(engine, work / "pg-export", as_of=date(2026, 1, 31), chunk=chunk)
        # the anchor in the same run: the same loans without applications and decision records to join
        with engine.begin() as conn:
            conn.execute(delete(ApplicationRow))
            conn.execute(delete(DecisionRow))
        bare = export_panel(engine, work / "pg-export-bare", as_of=date(2026, 1, 31), chunk=chunk)
        engine.dispose()
        result["without_attributes"] = bare
        result["attribute_join_cost"] = round(result["seconds"] / bare["seconds"], 2)
        return result
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--borrowers", type=int, default=1_400_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-risk"))
    parser.add_argument("--baseline-rows", type=int, default=1_000_000)
    parser.add_argument("--pg-loans", type=int, default=20_000)
    parser.add_argument("--skip", default="", help="comma list of: dask,pg,baseline")
    parser.add_argument("--pg-only", action="store_true", help="only the PostgreSQL -> Parquet export")
    parser.add_argument("--pg-chunk", type=int, default=20_000, help="loans per exported file")
    args = parser.parse_args()
    if args.pg_only:
        result = pg_export(args.pg_loans, args.work, args.pg_chunk)
        panel = pl.read_parquet(args.work / "pg-export" / "*.parquet")
        result["graded_share"] = round(panel.filter(pl.col("grade") != "unrated").height / panel.height, 3)
        print(json.dumps({"cpus": os.cpu_count(), "load": os.getloadavg(), "pg_export": result}, indent=2))
        return
    skip = set(filter(None, args.skip.split(",")))
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    book = args.work / "book"
    if not (book / "manifest.json").exists():
        seconds = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "xiaodai.cli.main",
                "simulate",
                "book",
                "--borrowers",
                str(args.borrowers),
                "--months",
                str(args.months),
                "--seed",
                "1",
                "--out",
                str(book),
                "--json",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out["simulate_seconds"] = round(time.perf_counter() - seconds, 1)
    manifest = json.loads((book / "manifest.json").read_text())
    out["loans"], out["rows"] = manifest["loans"], manifest["rows"]
    last = pl.scan_parquet(str(book / "panel" / "*.parquet")).select(pl.col("month").max()).collect().item()
    as_of = last
    seconds, frame = timed(lambda: conform(scan_panel(book)).collect())
    out["polars_read_seconds"] = round(seconds, 2)
    out["polars_read_cpu_seconds"] = CPU["<lambda>"]
    panel = frame.lazy()

    seconds, _full = timed(analytics_polars, panel, as_of)
    out["polars_full_seconds"] = round(seconds, 2)
    out["polars_full_cpu_seconds"] = CPU["analytics_polars"]
    out["polars_full_rows_per_second"] = round(manifest["rows"] / seconds)

    if "baseline" not in skip:
        # every k-th loan: all vintages and the open book at the as-of date in proportion (the lowest loan
        # ids alone would be old, mostly closed loans and flatter the baseline's ECL loop)
        step = max(1, round(manifest["rows"] / args.baseline_rows))
        sample_frame = frame.filter(pl.col("loan_id") % step == 0)
        rows = sample_frame.height
        polars_s, fast = timed(analytics_polars, sample_frame.lazy(), as_of)
        out["sample_polars_cpu_seconds"] = CPU["analytics_polars"]
        pandas_frame = sample_frame.to_pandas()
        pandas_s, slow = timed(analytics_pandas_rowwise, pandas_frame, as_of)
        out["sample_pandas_rowwise_cpu_seconds"] = CPU["analytics_pandas_rowwise"]
        out["speedup_same_sample_cpu"] = round(
            CPU["analytics_pandas_rowwise"] / max(out["sample_polars_cpu_seconds"], 0.01), 1
        )
        out["baseline_sample_rows"] = rows
        out["sample_polars_seconds"] = round(polars_s, 2)
        out["sample_pandas_rowwise_seconds"] = round(pandas_s, 2)
        out["speedup_same_sample"] = round(pandas_s / polars_s, 1)
        out["pandas_extrapolated_full_seconds"] = round(pandas_s * manifest["rows"] / rows, 1)
        out["speedup_full_vs_extrapolated"] = round(out["pandas_extrapolated_full_seconds"] / seconds, 1)
        pandas_cpu_full = CPU["analytics_pandas_rowwise"] * manifest["rows"] / rows
        out["speedup_full_vs_extrapolated_cpu"] = round(pandas_cpu_full / out["polars_full_cpu_seconds"], 1)
        out["speedup_full_vs_extrapolated_cpu_with_read"] = round(
            pandas_cpu_full / (out["polars_full_cpu_seconds"] + out["polars_read_cpu_seconds"]), 1
        )
        out["baseline_agrees"] = {
            "default_events": fast["default_events"] == slow["default_events"],
            "transitions": fast["transitions"] == slow["transitions"],
            "ecl_relative_difference": abs(fast["ecl_fen"] - slow["ecl_fen"]) / max(fast["ecl_fen"], 1),
        }

    options = ReportOptions(as_of=as_of, scenarios=default_scenarios())
    seconds, _ = timed(build_tables, LocalEngine(scan_panel(book)), options)
    out["report_local_seconds"] = round(seconds, 2)
    out["report_local_cpu_seconds"] = CPU["build_tables"]
    if "dask" not in skip:
        from xiaodai.risk.engines.dask import DaskEngine

        started = time.perf_counter()
        engine = DaskEngine(book, workers=2)
        out["dask_cluster_start_seconds"] = round(time.perf_counter() - started, 2)
        try:
            seconds, _ = timed(build_tables, engine, options)
        finally:
            engine.close()
        out["report_dask_2_workers_seconds"] = round(seconds, 2)
    if "pg" not in skip:
        out["pg_export"] = pg_export(args.pg_loans, args.work, args.pg_chunk)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
