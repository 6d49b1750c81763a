"""Training measures the fairness remedies when the champion fails the four-fifths rule through a proxy,
and the model card shows each remedy's adverse-impact ratio and AUC cost in both languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from xiaodai.underwriting import training


def proxy_data(rows: int = 900, seed: int = 8) -> pd.DataFrame:
    """Age is protected and not a feature; years at the job follow age and drive the outcome."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(19, 66, rows).round()
    tenure = np.clip((age - 19) * 0.4 + rng.normal(0, 2, rows), 0, None).round(1)
    income = rng.normal(100, 25, rows).round(1)
    logit = -0.2 - 0.25 * tenure - 0.02 * (income - 100)
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "tenure": tenure, "income": income, "bad": y})


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("fair")
    path = folder / "loans.csv"
    proxy_data().to_csv(path, index=False)
    config = training.TrainingConfig(target="bad", bad_value="1", folds=2, seed=5)
    result = training.train(path, config, folder / "out")
    return {"out": folder / "out", "metrics": result.metrics}


def test_remedies_are_measured_for_the_failing_attribute(run: dict[str, Any]) -> None:
    metrics = run["metrics"]
    age = next(a for a in metrics["fairness"]["attributes"] if a["attribute"] == "age")
    assert age["four_fifths_ok"] is False
    report = metrics["fairness_remedies"]
    assert report["min_approval_ratio"] == 0.8
    (entry,) = report["attributes"]
    assert entry["attribute"] == "age"
    assert entry["before"]["min_approval_ratio"] == pytest.approx(age["min_approval_ratio"], abs=1e-6)
    remedies = {r["remedy"]: r for r in entry["remedies"]}
    assert set(remedies) == {"reweighing", "group_thresholds"}
    thresholds = remedies["group_thresholds"]
    assert thresholds["meets_rule"] is True
    assert thresholds["after"]["min_approval_ratio"] >= 0.8
    assert thresholds["after"]["approval_rate"] > entry["before"]["approval_rate"]
    assert thresholds["cutoffs"]["<25"] > metrics["fairness"]["cutoff_pd"]
    for remedy in remedies.values():
        expected = entry["before"]["auc"] - remedy["after"]["auc"]
        assert remedy["auc_cost"] == pytest.approx(expected, abs=2e-6)
    # reweighing keeps the approval rate (median cutoff) and changes the ranking
    reweighed = remedies["reweighing"]["after"]
    assert reweighed["approval_rate"] == pytest.approx(0.5, abs=0.01)
    assert reweighed["auc"] != entry["before"]["auc"]


def test_the_model_card_shows_the_remedies(run: dict[str, Any]) -> None:
    out: Path = run["out"]
    english = (out / "card.en.html").read_text(encoding="utf-8")
    chinese = (out / "card.zh.html").read_text(encoding="utf-8")
    assert "Fairness remedies" in english
    assert "Reweighing (Kamiran–Calders, pre-processing)" in english
    assert "Per-group PD cutoffs" in english
    assert "AUC cost" in english
    assert "公平性补救措施" in chinese
    assert "重新加权" in chinese
    assert "AUC 代价" in chinese
    stored = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    cost = stored["fairness_remedies"]["attributes"][0]["remedies"][1]["auc_cost"]
    assert f"{cost:+.3f}" in english
