"""The demo model trained on the synthetic population, measured against the truth (which no public set has).

    .venv/bin/python benchmarks/bench_population_model.py [--train 20000] [--holdout 200000]

Trains ``simulate.demo_model.train_on_population`` (scorecard + LightGBM challenger, 3-fold CV) on
``--train`` applicants (seed 42), then scores ``--holdout`` fresh applicants (seed 1042) with the compiled
scorecard and compares its PD with each applicant's ``true_pd``: AUC of the model and of the truth itself
(the ceiling), mean predicted vs mean true PD, mean |PD − true PD|, and calibration by decile of the
model's PD (mean predicted, mean true, observed default rate).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiaodai.simulate.demo_model import train_on_population  # noqa: E402
from xiaodai.simulate.population import generate  # noqa: E402
from xiaodai.underwriting.artifact import CompiledScorecard  # noqa: E402
from xiaodai.underwriting.scorer import CompiledScorer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--holdout", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = train_on_population(Path(tmp), n=args.train, seed=42, folds=3)
        trained = time.perf_counter() - started
        folder = Path(result.out)
        card = CompiledScorecard.from_json(
            json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
        )
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["models"]
    scorer = CompiledScorer(card)
    holdout = generate(args.holdout, 1042).columns
    pd_model = scorer.pd_batch(scorer.score_batch(holdout))
    true_pd, bad = holdout["true_pd"], holdout["defaulted"]
    names = ", ".join(f.name for f in card.features)
    print(f"trained on {args.train:,} applicants in {trained:.0f} s; features: {names}")
    print(
        f"cross-validated AUC: scorecard {metrics['scorecard']['auc_mean']:.3f}, "
        f"LightGBM {metrics['lightgbm']['auc_mean']:.3f}"
    )
    print(
        f"hold-out ({args.holdout:,}): AUC scorecard {roc_auc_score(bad, pd_model):.3f}, "
        f"truth {roc_auc_score(bad, true_pd):.3f}; mean PD {pd_model.mean():.4f} "
        f"vs true {true_pd.mean():.4f} (observed {bad.mean():.4f}); "
        f"mean |PD - true PD| {np.abs(pd_model - true_pd).mean():.4f}"
    )
    edges = np.quantile(pd_model, np.linspace(0, 1, 11))
    band = np.clip(np.searchsorted(edges, pd_model, side="right") - 1, 0, 9)
    print("decile  mean PD  mean true PD  observed")
    for b in range(10):
        inside = band == b
        means = (pd_model[inside].mean(), true_pd[inside].mean(), bad[inside].mean())
        print(f"{b + 1:6d}  {means[0]:7.4f}  {means[1]:12.4f}  {means[2]:8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
