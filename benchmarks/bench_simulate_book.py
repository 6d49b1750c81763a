"""Simulated book: one process vs borrower-id ranges vs Dask (2 local workers), and the panels compared.

    PYTHONPATH=src OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_simulate_book.py --borrowers 300000 \
        --months 24 --work /tmp/bench-sim

Runs ``xiaodai simulate book`` as a user would (a fresh process each, so the Dask figure includes starting
its LocalCluster) with the same seed: ``--engine local`` (the anchor: one range), ``--engine local
--partitions 4`` (the cost of splitting alone), ``--engine dask --workers 2 --partitions 4``. Prints wall
and CPU seconds (this process's children: the CLI and, for Dask, its worker processes), the ratios to the
anchor, and whether the three panels are identical row for row.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], out: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(
        [sys.executable, "-m", "xiaodai.cli.main", "simulate", "book", *args, "--out", str(out), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    manifest = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(children_cpu() - cpu, 1),
        "rows": manifest["rows"],
        "files": len(list((out / "panel").glob("*.parquet"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--borrowers", type=int, default=300_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-sim"))
    args = parser.parse_args()
    base = ["--borrowers", str(args.borrowers), "--months", str(args.months), "--seed", "1"]
    runs = {
        "local": base,
        "local_4_ranges": [*base, "--partitions", "4"],
        "dask_2_workers_4_ranges": [*base, "--engine", "dask", "--workers", "2", "--partitions", "4"],
    }
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    for name, extra in runs.items():
        out[name] = run(extra, args.work / name)
    anchor = out["local"]["seconds"]
    for name in runs:
        out[name]["ratio_to_local"] = round(out[name]["seconds"] / anchor, 2)
        out[name]["rows_per_second"] = round(out[name]["rows"] / out[name]["seconds"])

    def panel(name: str) -> pl.DataFrame:
        return pl.read_parquet(args.work / name / "panel" / "*.parquet").sort("loan_id", "month")

    reference = panel("local")
    out["identical_panels"] = all(reference.equals(panel(name)) for name in list(runs)[1:])
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
