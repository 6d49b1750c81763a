"""Batch scoring only: ``CompiledScorer.score_batch`` + ``pd_batch`` on 1,000,000 applications (goal of
issue 16: ≥ 1,000,000 rows/s), in wall time and in process CPU time (see docs/BENCHMARKS.md).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_scoring.py [--rows N] [--runs K] [--card C]

``--card credit-scoring`` (default): the champion is fitted once on the CreditScoring demo set with the
training module's own functions (prepare → fit_scorecard → compile_scorecard) and the dataset's rows are
resampled with a fixed seed. ``--card population``: the demo's own card — fitted the way ``demo seed``
trains it (20,000 synthetic applicants, seed 42, catalogue features) — scores N freshly generated
applicants (``simulate.population.generate``, seed 7). Either way the rows become column arrays
(numeric: float64 arrays; categorical: Python lists, as decoded from JSON) built outside the timing.
One cold run, then ``--runs`` warm runs; the median is reported. CPU time
(``time.process_time``) is what the code costs; wall time above it is time the process spent waiting for
a core on a shared machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import gc
import statistics
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from xiaodai.simulate.demo_model import NOT_FEATURES, TRUE_PD
from xiaodai.simulate.population import generate
from xiaodai.underwriting import training
from xiaodai.underwriting.datasets import CREDIT_SCORING, credit_scoring
from xiaodai.underwriting.scorer import CompiledScorer

GOAL_ROWS_PER_S = 1_000_000
SEED = 20261205


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--card", choices=("credit-scoring", "population"), default="credit-scoring")
    args = parser.parse_args(argv)
    if args.card == "population":
        config = training.TrainingConfig(
            target="defaulted",
            bad_value="1",
            exclude=NOT_FEATURES,
            folds=2,
            seed=42,
            tune=False,
            true_pd=TRUE_PD,
        )
        data = training.prepare(pd.DataFrame(generate(20_000, 42).columns), config)
    else:
        config = training.TrainingConfig(target=CREDIT_SCORING.target, bad_value=CREDIT_SCORING.bad_value)
        data = training.prepare(credit_scoring(), config)
    card = training.compile_scorecard(
        training.fit_scorecard(data.features, data.y, data.categorical, config), data.numeric, config
    )
    scorer = CompiledScorer(card)
    if args.card == "population":
        big = pd.DataFrame(generate(args.rows, 7).columns)
    else:
        rng = np.random.default_rng(SEED)
        big = data.features.iloc[rng.integers(0, len(data.features), args.rows)].reset_index(drop=True)
    categorical = {f.name for f in card.features if f.kind == "categorical"}
    columns: dict[str, Any] = {
        f.name: big[f.name].tolist() if f.name in categorical else big[f.name].to_numpy(dtype=np.float64)
        for f in card.features
    }
    expected = training.score_frame(card, big)

    def once() -> tuple[float, float, np.ndarray]:
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        scores = scorer.score_batch(columns)
        scorer.pd_batch(scores)
        return time.perf_counter() - wall, time.process_time() - cpu, scores

    cold_wall, _, scores = once()
    runs = [once() for _ in range(args.runs)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    diff = float(np.max(np.abs(scores - expected)))
    print(
        f"{args.card} card: {args.rows:,} rows, {len(card.features)} features "
        f"({len(categorical)} categorical); "
        f"load average {os.getloadavg()[0]:.1f} at the end; max |score − score_frame| {diff:.3g}"
    )
    print(f"  cold {cold_wall:.3f} s; warm median of {args.runs}: wall {wall:.3f} s, CPU {cpu:.3f} s")
    for label, seconds in (("wall", wall), ("CPU", cpu)):
        rate = args.rows / seconds
        verdict = "MET" if rate >= GOAL_ROWS_PER_S else "MISSED"
        print(f"  {label:>4}: {rate:>12,.0f} rows/s — goal ≥ {GOAL_ROWS_PER_S:,}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
