"""The synthetic population generator: 1,000,000 applicants (goal: ≤ 30 s), and writing them.

    .venv/bin/python benchmarks/bench_population.py [--n 1000000] [--rounds 3] [--seed 42]

Times ``xiaodai.simulate.population.generate`` (pure numpy) ``--rounds`` times back to back and reports the
median and range, then one write to Parquet and one to CSV (pyarrow) in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiaodai.cli.simulate_population import write_population  # noqa: E402
from xiaodai.simulate.population import generate  # noqa: E402

GOAL_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    times = []
    for r in range(args.rounds):
        started = time.perf_counter()
        population = generate(args.n, args.seed + r)
        times.append(time.perf_counter() - started)
        del population
    median = statistics.median(times)
    print(
        f"generate({args.n:,}): median {median:.2f} s over {args.rounds} rounds "
        f"(range {min(times):.2f}-{max(times):.2f} s); {args.n / median:,.0f} applicants/s"
    )
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("parquet", "csv"):
            written = write_population(Path(folder) / f"population.{suffix}", args.n, args.seed)
            size = (Path(folder) / f"population.{suffix}").stat().st_size / 1e6
            print(f"generate + write {suffix}: {written['total_seconds']} s ({size:.0f} MB)")
    ok = median <= GOAL_SECONDS
    print(f"goal ≤ {GOAL_SECONDS:.0f} s for 1 M: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
