"""The tuned challenger and ``xiaodai model compare``: the search sees only the rows it is given, the
monotone constraints survive tuning, contributions add up and carry plain labels, the out-of-time split
holds out the latest rows, and the promotion verdict follows the policy's margin on both sides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from xiaodai.cli.model import app
from xiaodai.underwriting import lightgbm_challenger as lgbc
from xiaodai.underwriting.challenger_reasons import contribution_reasons, unlabelled_features
from xiaodai.underwriting.training_config import TrainingError
from xiaodai.underwriting.training_holdout import HoldoutSpec, split_rows

runner = CliRunner()


def synthetic(rows: int = 600, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(100, 30, rows)
    overdue = rng.poisson(0.6, rows).astype(float)
    region = rng.choice(["north", "south", "east"], rows)
    logit = -1.2 - 0.03 * (income - 100) + 0.8 * overdue + np.where(region == "south", 0.5, 0.0)
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    start = pd.Timestamp("2025-01-01")
    applied = [start + pd.Timedelta(days=int(d)) for d in rng.permutation(rows)]
    return pd.DataFrame(
        {
            "income": income.round(1),
            "overdue": overdue,
            "region": region,
            "applied_on": [d.date().isoformat() for d in applied],
            "defaulted": y,
        }
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[lgbc.LightGBMModel, pd.DataFrame, np.ndarray]:
    frame = synthetic()
    features = frame[["income", "overdue", "region"]]
    y = frame["defaulted"].to_numpy()
    trends = {"income": "descending", "overdue": "ascending", "region": None}
    model = lgbc.fit_lightgbm(features, y, ["region"], trends, seed=3)
    return model, features, y


def test_search_is_small_and_the_best_inner_auc_wins(
    fitted: tuple[lgbc.LightGBMModel, pd.DataFrame, np.ndarray],
) -> None:
    model, features, _ = fitted
    tuning = model.tuning
    assert tuning is not None
    assert len(lgbc.SEARCH_SPACE) <= 12
    assert len(tuning.trials) == len(lgbc.SEARCH_SPACE)
    assert tuning.rows == len(features)
    best = max(t.auc_mean for t in tuning.trials)
    assert tuning.best.auc_mean == best
    assert all(1 <= t.rounds <= lgbc.MAX_ROUNDS for t in tuning.trials)
    assert model.rounds == round(tuning.best.rounds * 1.5)
    assert model.params["min_data_in_leaf"] == max(
        lgbc.MIN_LEAF_ROWS, round(tuning.best.config["min_leaf_share"] * len(features))
    )
    assert model.to_json()["tuning"]["chosen"] == tuning.chosen


def test_monotone_constraints_survive_tuning(
    fitted: tuple[lgbc.LightGBMModel, pd.DataFrame, np.ndarray],
) -> None:
    model, features, _ = fitted
    assert model.monotone == [-1, 1, 0]
    base = features.iloc[[0] * 50].reset_index(drop=True)
    grid = base.assign(overdue=np.linspace(0, 6, 50))
    assert (np.diff(model.predict(grid)) >= 0).all()
    grid = base.assign(income=np.linspace(20, 200, 50))
    assert (np.diff(model.predict(grid)) <= 0).all()


def test_tuning_sees_only_the_rows_it_is_given() -> None:
    frame = synthetic()
    features = frame[["income", "overdue", "region"]]
    y = frame["defaulted"].to_numpy()
    trends: dict[str, str | None] = {"income": None, "overdue": None, "region": None}
    first = lgbc.fit_lightgbm(features.iloc[:400], y[:400], ["region"], trends, seed=3)
    # scrambling the labels of the rows outside the training part changes nothing
    y_other = y.copy()
    y_other[400:] = 1 - y_other[400:]
    second = lgbc.fit_lightgbm(features.iloc[:400], y_other[:400], ["region"], trends, seed=3)
    assert first.tuning is not None
    assert second.tuning is not None
    assert first.tuning.to_json() == second.tuning.to_json()
    np.testing.assert_array_equal(first.predict(features), second.predict(features))


def test_contributions_add_up_and_map_to_plain_labels(
    fitted: tuple[lgbc.LightGBMModel, pd.DataFrame, np.ndarray],
) -> None:
    model, features, _ = fitted
    contributions = model.contributions(features.iloc[:50])
    raw = model.booster.predict(model.matrix(features.iloc[:50]), raw_score=True)
    np.testing.assert_allclose(contributions.sum(axis=1), raw, atol=1e-9)
    labels_zh = {"income": "月收入", "overdue": "逾期次数", "region": "地区"}
    labels_en = {"income": "Monthly income", "overdue": "Overdue count", "region": "Region"}
    row = np.array([0.4, 0.9, -0.2, -1.0])  # income, overdue, region, expected value
    reasons = contribution_reasons(row, model.features, labels_zh, labels_en)
    assert [(r.feature, r.label_en, r.label_zh) for r in reasons] == [
        ("overdue", "Overdue count", "逾期次数"),
        ("income", "Monthly income", "月收入"),
    ]  # only features that raised the PD, largest first
    excluded = contribution_reasons(
        row, model.features, labels_zh, labels_en, excluded=frozenset({"overdue"})
    )
    assert [r.feature for r in excluded] == ["income"]
    assert unlabelled_features(model.features, labels_zh, labels_en) == ()
    assert unlabelled_features(model.features, labels_zh, {"income": "x"}) == ("overdue", "region")


def test_out_of_time_split_holds_out_the_latest_rows() -> None:
    y = np.array([0, 1] * 10)
    order = np.array([5, 1, 9, 3, 7, 19, 2, 0, 18, 4, 6, 8, 10, 17, 11, 12, 13, 14, 15, 16], dtype=float)
    dev, test, basis = split_rows(y, HoldoutSpec(share=0.25, order_by="applied_on"), order, seed=1)
    assert sorted(order[test]) == [15, 16, 17, 18, 19]
    assert order[dev].max() < order[test].min()
    assert "applied_on" in basis
    dev, test, basis = split_rows(y, HoldoutSpec(share=0.25), None, seed=1)
    assert test.tolist() == [15, 16, 17, 18, 19]
    assert "file order" in basis
    dev, test, _ = split_rows(y, HoldoutSpec(split="stratified", share=0.5), None, seed=1)
    assert len(test) == 10
    assert y[test].sum() == 5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (HoldoutSpec(split="random"), "--split"),
        (HoldoutSpec(share=0.04), "--holdout-share"),
        (HoldoutSpec(share=0.51), "--holdout-share"),
        (HoldoutSpec(split="stratified", order_by="x"), "--order-by"),
    ],
)
def test_bad_holdout_specs(spec: HoldoutSpec, message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        spec.validate()
    HoldoutSpec(share=0.05).validate()
    HoldoutSpec(share=0.5).validate()


# ------------------------------------------------------------------------------------------ the CLI


def _policy(tmp_path: Path, name: str, min_gain: float, plain_labels: bool = False) -> Path:
    payload = {
        "version": name,
        "promotion": {
            "min_auc_gain": min_gain,
            "max_calibration_error": 1.0,
            "max_fairness_gap": 1.0,
            "min_out_of_time_bads": 1,
            "approval_share": 0.5,
            "require_plain_labels": plain_labels,
        },
        "fairness": {"min_adverse_impact_ratio": 0.8, "remedies": ["reweighing"]},
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def compare(*args: str) -> Any:
    return runner.invoke(app, ["compare", *args])


@pytest.fixture(scope="module")
def loans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compare") / "loans.csv"
    synthetic(800, seed=21).to_csv(path, index=False)
    return path


def test_compare_refuses_or_promotes_on_either_side_of_the_margin(loans: Path, tmp_path: Path) -> None:
    base = ["--data", str(loans), "--target", "defaulted", "--bad", "1", "--order-by", "applied_on"]
    first = compare(*base, "--policy", str(_policy(tmp_path, "probe", -1.0)), "--json")
    assert first.exit_code == 0, first.stderr
    payload = json.loads(first.stdout)
    assert payload["out_of_time"] is True
    assert "applied_on" in payload["basis"]
    assert payload["rows"] == {"development": 560, "test": 240, "test_bads": payload["rows"]["test_bads"]}
    gain = payload["verdict"]["auc_gain"]
    assert gain == pytest.approx(
        payload["models"]["lightgbm"]["auc"] - payload["models"]["scorecard"]["auc"], abs=2e-6
    )
    assert payload["tuning"]["trials"]
    assert payload["explainability"]["max_additivity_error"] < 1e-9

    below = compare(*base, "--policy", str(_policy(tmp_path, "below", gain - 0.001)))
    assert below.exit_code == 0, below.stdout
    assert "PROMOTE" in below.stdout
    above = compare(*base, "--policy", str(_policy(tmp_path, "above", gain + 0.001)))
    assert above.exit_code == 1
    assert "REFUSED" in above.stdout
    assert "AUC_GAIN_BELOW_MARGIN" in above.stdout
    # the shipped policy also asks for plain labels, which this file's columns do not have
    shipped = compare(*base, "--json")
    assert shipped.exit_code == 1
    assert "REASONS_NOT_EXPLAINABLE" in json.loads(shipped.stdout)["verdict"]["reasons"]
    assert set(json.loads(shipped.stdout)["explainability"]["unlabelled_features"]) <= {
        "income",
        "overdue",
        "region",
    }


def test_compare_bad_input_is_one_line_and_exit_2(loans: Path, tmp_path: Path) -> None:
    base = ["--data", str(loans), "--target", "defaulted", "--bad", "1"]
    cases = [
        ([*base, "--order-by", "nope"], "--order-by: no such column 'nope'"),
        ([*base, "--order-by", "region"], "neither a number nor a date"),
        ([*base, "--holdout-share", "0.9"], "--holdout-share"),
        (["--dataset", "mnist"], "--dataset must be one of"),
        (["--target", "x"], "exactly one of --data FILE or --dataset NAME"),
        ([*base, "--policy", str(tmp_path / "missing.json")], "cannot read"),
    ]
    for args, message in cases:
        result = compare(*args)
        assert result.exit_code == 2, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1
