"""Train the demo model on the synthetic population (shell glue): the population's columns are catalogue
features, so the model's inputs are exactly what the decision service assembles (no mapping needed)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from xiaodai.simulate.population import generate
from xiaodai.underwriting.training import TrainingConfig, TrainingResult, train

# Not features: the row id; the truth itself (training on it would be cheating) is only measured against.
NOT_FEATURES = ("applicant_id",)
TRUE_PD = "true_pd"


def train_on_population(
    workdir: Path, *, n: int = 20_000, seed: int = 42, folds: int = 3, tune: bool = True
) -> TrainingResult:
    """Generate ``n`` applicants into ``workdir/population.csv`` and train ``workdir/model`` on them; the
    model card compares the predicted PD with the population's known true PD (``calibration_truth``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "population.csv"
    columns = generate(n, seed).columns
    pa_csv.write_csv(pa.table({k: pa.array(v, from_pandas=True) for k, v in columns.items()}), data)
    config = TrainingConfig(
        target="defaulted",
        bad_value="1",
        exclude=NOT_FEATURES,
        folds=folds,
        seed=seed,
        tune=tune,
        true_pd=TRUE_PD,
    )
    return train(data, config, workdir / "model")
