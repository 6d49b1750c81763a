"""Model training: `xiaodai model train` end to end on both demo sets, the compiled scorecard against
optbinning, protected attributes, the artifact files and bad input (one clear line, exit 2)."""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from xiaodai import __version__
from xiaodai.cli.model import app
from xiaodai.underwriting import training
from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.datasets import credit_scoring, export_demo_data, german_credit

runner = CliRunner()
ARTIFACT_FILES = (
    "manifest.json",
    "scorecard.json",
    "lightgbm.txt",
    "lightgbm.json",
    "metrics.json",
    "card.zh.html",
    "card.en.html",
)


def train_cli(*args: str) -> Any:
    return runner.invoke(app, ["train", *args])


def reference_score(card: CompiledScorecard, row: Mapping[str, Any]) -> float:
    """Row-by-row scoring straight from the artifact.py docstring (independent of training.score_frame)."""
    total = card.intercept_points
    for feature in card.features:
        value: Any = row.get(feature.name)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            total += feature.missing_points
        elif feature.kind == "numeric":
            total += feature.points[bisect_right(feature.splits, float(value))]
        else:
            groups = [i for i, group in enumerate(feature.categories) if str(value) in group]
            total += feature.points[groups[0]] if groups else feature.missing_points
    return total


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return export_demo_data(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def german(demo_dir: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("german")
    args = ["--data", str(demo_dir["german_credit"]), "--target", "creditability", "--bad", "bad"]
    result = train_cli(*args, "--out", str(out), "--folds", "3", "--json")
    assert result.exit_code == 0, result.stderr
    return {"out": out, "summary": json.loads(result.stdout), "data": demo_dir["german_credit"]}


@pytest.fixture(scope="module")
def scoring(demo_dir: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("credit_scoring")
    args = ["--data", str(demo_dir["credit_scoring"]), "--target", "Status", "--bad", "bad"]
    result = train_cli(*args, "--out", str(out), "--folds", "3")
    assert result.exit_code == 0, result.stderr
    assert "lightgbm" in result.stdout
    return {"out": out, "data": demo_dir["credit_scoring"], "target": "Status"}


# ------------------------------------------------------------------------------------------ end to end


def test_json_output_is_exactly_the_summary(german: dict[str, Any]) -> None:
    summary = german["summary"]
    assert set(summary) == {"models", "version", "out"}
    assert set(summary["models"]) == {"scorecard", "lightgbm"}
    for block in summary["models"].values():
        assert set(block) == {"auc_mean", "auc_sd", "ks_mean", "ks_sd", "gini_mean", "gini_sd"}
        assert all(isinstance(v, float) for v in block.values())
    assert summary["out"] == str(german["out"])
    assert re.fullmatch(r"[0-9a-f]{16}", summary["version"])


@pytest.mark.parametrize("dataset", ["german", "scoring"])
def test_artifact_files_and_sane_metrics(dataset: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(dataset)
    out: Path = run["out"]
    for name in ARTIFACT_FILES:
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    for model in ("scorecard", "lightgbm"):
        block = metrics["models"][model]
        assert block["auc_mean"] > 0.7, (model, block)
        assert len(block["folds"]) == 3
        assert block["gini_mean"] == pytest.approx(2 * block["auc_mean"] - 1, abs=1e-5)
        assert 0 < block["ks_mean"] < 1
        assert block["auc_sd"] >= 0
    assert metrics["compile_check"]["max_abs_diff"] < 1e-6
    calibration = metrics["calibration"]["scorecard"]
    assert len(calibration) == 10
    rows = json.loads((out / "manifest.json").read_text())["dataset"]["rows"]
    assert sum(row["count"] for row in calibration) == rows
    assert calibration[-1]["bad_rate"] > calibration[0]["bad_rate"]
    distribution = metrics["score_distribution"]
    assert len(distribution["edges"]) == len(distribution["good"]) + 1 == len(distribution["bad"]) + 1
    # bads score lower than goods on average
    mids = (np.asarray(distribution["edges"][:-1]) + np.asarray(distribution["edges"][1:])) / 2
    assert np.average(mids, weights=distribution["bad"]) < np.average(mids, weights=distribution["good"])
    assert all("iv" in info and info["bins"] for info in metrics["bins"].values())


@pytest.mark.parametrize(("dataset", "target"), [("german", "creditability"), ("scoring", "Status")])
def test_compiled_scorecard_reproduces_optbinning(
    dataset: str, target: str, request: pytest.FixtureRequest
) -> None:
    run = request.getfixturevalue(dataset)
    card = CompiledScorecard.from_json(
        json.loads((run["out"] / "scorecard.json").read_text(encoding="utf-8"))
    )
    manifest = json.loads((run["out"] / "manifest.json").read_text(encoding="utf-8"))
    config = training.TrainingConfig(target=target, bad_value="bad")
    data = training.prepare(training.read_table(run["data"]), config)
    fitted = training.fit_scorecard(data.features, data.y, data.categorical, config)
    expected = np.asarray(fitted.score(data.features), dtype=float)

    assert [f.name for f in card.features] == manifest["features"]
    assert list(fitted.binning_process_.get_support(names=True)) == manifest["features"]
    np.testing.assert_allclose(training.score_frame(card, data.features), expected, rtol=0, atol=1e-6)
    rows = data.features.to_dict(orient="records")
    by_row = np.asarray([reference_score(card, row) for row in rows])
    np.testing.assert_allclose(by_row, expected, rtol=0, atol=1e-6)
    # PD from the score is the logistic regression's probability
    np.testing.assert_allclose(
        training.pd_from_scores(card, expected), fitted.predict_proba(data.features)[:, 1], atol=1e-9
    )
    # scaling: 600 points at 50:1, 20 points to double the odds, intercept spread over the features
    assert (card.pdo, card.base_score, card.base_odds, card.intercept_points) == (20.0, 600.0, 50.0, 0.0)
    assert card.pd_from_score(600.0) == pytest.approx(1 / 51)
    assert card.pd_from_score(620.0) == pytest.approx(1 / 101)


def test_feature_bins_are_filled_from_the_binning_tables(scoring: dict[str, Any]) -> None:
    card = CompiledScorecard.from_json(json.loads((scoring["out"] / "scorecard.json").read_text()))
    by_name = {f.name: f for f in card.features}
    frame = credit_scoring()
    for feature in card.features:
        assert len(feature.points) == len(feature.labels) == len(feature.event_rates)
        assert feature.iv >= training.IV_MIN
        if feature.kind == "numeric":
            assert len(feature.splits) == len(feature.points) - 1
            assert list(feature.splits) == sorted(feature.splits)
        else:
            assert len(feature.categories) == len(feature.points)
            assert feature.monotonic_trend is None
        if frame[feature.name].notna().all():  # never missing in training → the worst bin (conservative)
            assert feature.missing_points == min(feature.points)
    # Seniority: the longer in the job, the lower the bad rate and the more points
    seniority = by_name["Seniority"]
    assert seniority.monotonic_trend == "descending"
    assert list(seniority.points) == sorted(seniority.points)
    assert card.labels_en["Seniority"] == "Years at current job"
    assert card.labels_zh["Seniority"] == "工作年限"
    # Income had missing values in training: they keep their own (empirical) bin points
    income = by_name["Income"]
    assert income.missing_points not in income.points


def test_protected_columns_are_not_features_but_are_measured(
    german: dict[str, Any], scoring: dict[str, Any]
) -> None:
    for run, protected in (
        (german, {"age_in_years", "personal_status_and_sex"}),
        (scoring, {"Age", "Marital"}),
    ):
        manifest = json.loads((run["out"] / "manifest.json").read_text())
        lgb_meta = json.loads((run["out"] / "lightgbm.json").read_text())
        assert set(manifest["protected"]) == protected
        assert not protected & set(manifest["features"])
        assert not protected & set(lgb_meta["features"])
        fairness = json.loads((run["out"] / "metrics.json").read_text())["fairness"]
        assert {a["attribute"] for a in fairness["attributes"]} == protected
        assert 0.45 <= fairness["approval_rate"] <= 0.55  # median PD cutoff
    # "percentage" is not an age: the instalment rate stays a candidate feature
    german_metrics = json.loads((german["out"] / "metrics.json").read_text())
    assert "installment_rate_in_percentage_of_disposable_income" in german_metrics["bins"]
    age = next(a for a in german_metrics["fairness"]["attributes"] if a["attribute"] == "age_in_years")
    assert [g["group"] for g in age["groups"]] == ["<25", "25–34", "35–49", "50+"]
    assert sum(g["count"] for g in age["groups"]) == 1000
    assert max(g["approval_ratio"] for g in age["groups"]) == 1.0
    assert all(g["auc_scorecard"] is not None for g in age["groups"])


def test_lightgbm_challenger_artifact(german: dict[str, Any]) -> None:
    out: Path = german["out"]
    meta = json.loads((out / "lightgbm.json").read_text())
    booster = lgb.Booster(model_str=(out / "lightgbm.txt").read_text())
    assert booster.num_feature() == len(meta["features"]) == len(meta["monotone"])
    assert set(meta["categorical"]) <= set(meta["features"])
    assert meta["categorical"]["housing"] == {"for free": 0, "own": 1, "rent": 2}
    index = meta["features"].index("duration_in_month")
    assert meta["monotone"][index] == 1  # longer loans, more defaults
    for name in meta["categorical"]:
        assert meta["monotone"][meta["features"].index(name)] == 0
    frame = german_credit()
    matrix = training.encode_matrix(frame, meta["features"], meta["categorical"])
    pd_hat = np.asarray(booster.predict(matrix), dtype=float)
    assert ((pd_hat > 0) & (pd_hat < 1)).all()
    y = (frame["creditability"] == "bad").to_numpy()
    assert pd_hat[y].mean() > pd_hat[~y].mean()


def test_manifest_and_version(german: dict[str, Any]) -> None:
    manifest = json.loads((german["out"] / "manifest.json").read_text())
    assert manifest["version"] == german["summary"]["version"]
    assert manifest["code_version"] == __version__
    assert manifest["data_hash"] == training.file_sha256(german["data"])
    assert manifest["version"] == training.artifact_version(manifest["data_hash"], manifest["config"])
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["dataset"] == {"rows": 1000, "bad_rate": 0.3, "source": "german_credit.csv"}
    config = manifest["config"]
    keys = {
        "target",
        "bad_value",
        "exclude",
        "protected",
        "allow_protected",
        "pdo",
        "base_score",
        "base_odds",
    }
    assert keys <= set(config)
    assert (config["target"], config["bad_value"], config["seed"]) == ("creditability", "bad", 42)
    other = training.artifact_version(manifest["data_hash"], {**config, "seed": 7})
    assert other != manifest["version"]


def test_model_cards_are_self_contained(german: dict[str, Any]) -> None:
    for lang, marker in (("en", "Intended use"), ("zh", "预期用途")):
        text = (german["out"] / f"card.{lang}.html").read_text(encoding="utf-8")
        assert marker in text
        assert text.count("<svg") == 4  # AUC per fold, IV, calibration, score distribution
        lowered = text.lower()
        for external in ("http://", "https://", "<script", "<link", "src=", "url("):
            assert external not in lowered, external
    english = (german["out"] / "card.en.html").read_text(encoding="utf-8")
    assert "Checking account status" in english
    assert "<h3>Age</h3>" in english  # the protected attribute's fairness section, by its plain name
    for code in ("age_in_years", "germancredit", "creditability"):  # no data set codes on the card
        assert code not in english.split("<style>")[0] + english.split("</style>")[1], code
    assert re.search(r"Created: \d{4}-\d\d-\d\d \d\d:\d\d Beijing time", english)


# ------------------------------------------------------------------------------------------ small files


def _synthetic(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(100, 30, rows)
    region = rng.choice(["north", "south", "east"], rows)
    risk = -0.03 * (income - 100) + np.where(region == "south", 0.8, 0.0)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(risk - 0.8)))).astype(int)
    return pd.DataFrame(
        {
            "<b>income</b>": income.round(1).astype(object),
            "region": region,
            "applicant_gender": rng.choice(["f", "m"], rows),
            "mortgage_balance": rng.normal(0, 1, rows).round(2),
            "defaulted": y,
        }
    )


def test_any_table_numeric_target_garbage_and_escaping(tmp_path: Path) -> None:
    frame = _synthetic()
    frame.loc[[5, 9], "<b>income</b>"] = ["?", "unknown"]
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False, sep=";")
    out = tmp_path / "out"
    args = ["--data", str(path), "--target", "defaulted", "--bad", "1", "--out", str(out), "--folds", "2"]
    result = train_cli(*args)
    assert result.exit_code == 0, result.stderr
    warning = "xiaodai: warning: column '<b>income</b>' is numeric but 2 value(s) are not numbers"
    assert warning in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["protected"] == ["applicant_gender"]  # mortgage is not an age
    assert "<b>income</b>" in manifest["features"]
    card = CompiledScorecard.from_json(json.loads((out / "scorecard.json").read_text()))
    assert card.labels_en["<b>income</b>"] == "<b>income</b>"  # unknown data set: the column name
    html_text = (out / "card.en.html").read_text(encoding="utf-8")
    assert "<b>income</b>" not in html_text
    assert "&lt;b&gt;income&lt;/b&gt;" in html_text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["warnings"]


def test_protected_options_and_parquet(tmp_path: Path) -> None:
    path = tmp_path / "loans.parquet"
    frame = _synthetic()
    frame["<b>income</b>"] = frame["<b>income</b>"].astype(float)
    frame.to_parquet(path)
    out = tmp_path / "out"
    base = ["--data", str(path), "--target", "defaulted", "--bad", "1", "--out", str(out)]
    base += ["--folds", "2", "--json"]
    result = train_cli(*base, "--protected", "region", "--cutoff", "0.3")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["protected"] == ["region"]  # --protected replaces the default list
    assert "region" not in manifest["features"]
    fairness = json.loads((out / "metrics.json").read_text())["fairness"]
    assert fairness["cutoff_pd"] == 0.3
    assert [g["group"] for g in fairness["attributes"][0]["groups"]] == ["east", "north", "south"]

    result = train_cli(*base, "--protected", "region", "--allow-protected", "region")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["protected"] == ["region"]
    assert "region" in manifest["features"]  # allowed, and strong enough to be selected
    assert manifest["config"]["allow_protected"] == ["region"]


def test_training_is_reproducible(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    _synthetic(rows=300).to_csv(path, index=False)
    outputs = []
    for name in ("a", "b"):
        args = ["--data", str(path), "--target", "defaulted", "--bad", "1", "--folds", "2", "--json"]
        result = train_cli(*args, "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert outputs[0]["version"] == outputs[1]["version"]
    assert outputs[0]["models"] == outputs[1]["models"]
    for name in ("scorecard.json", "lightgbm.txt"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


# ------------------------------------------------------------------------------------------ bad input


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    german_frame = german_credit()
    (folder / "empty.csv").write_text("")
    (folder / "header.csv").write_text("a,b,creditability\n")
    german_frame.head(40).to_csv(folder / "few_rows.csv", index=False)
    good = german_frame[german_frame["creditability"] == "good"].head(200)
    pd.concat([good, german_frame[german_frame["creditability"] == "bad"].head(5)]).to_csv(
        folder / "few_bads.csv", index=False
    )
    good.to_csv(folder / "one_class.csv", index=False)
    german_frame[["age_in_years", "personal_status_and_sex", "creditability"]].to_csv(
        folder / "only_protected.csv", index=False
    )
    rng = np.random.default_rng(1)
    pd.DataFrame({"flag": rng.integers(0, 2, 2000), "y": rng.integers(0, 2, 2000)}).to_csv(
        folder / "noise.csv", index=False
    )
    german_frame.to_csv(folder / "german.csv", index=False)
    (folder / "broken.parquet").write_bytes(b"not parquet at all")
    return folder


@pytest.mark.parametrize(
    ("file", "target", "bad", "extra", "message"),
    [
        ("missing.csv", "creditability", "bad", [], "data file not found"),
        ("empty.csv", "creditability", "bad", [], "data file is empty"),
        ("header.csv", "creditability", "bad", [], "header but no rows"),
        ("broken.parquet", "creditability", "bad", [], "cannot read"),
        ("german.csv", "Creditability", "bad", [], "target column 'Creditability' not found"),
        ("german.csv", "creditability", "BAD", [], "bad value 'BAD' does not occur in target column"),
        ("one_class.csv", "creditability", "bad", [], "bad value 'bad' does not occur"),
        ("one_class.csv", "creditability", "good", [], "need both good and bad outcomes"),
        ("few_rows.csv", "creditability", "bad", [], "too few rows: 40"),
        ("few_bads.csv", "creditability", "bad", [], "too few bads: 5"),
        ("only_protected.csv", "creditability", "bad", [], "no usable features"),
        ("noise.csv", "y", "1", [], "no usable features: no feature has an information value"),
        ("german.csv", "creditability", "bad", ["--exclude", "nope"], "--exclude: no such column(s): 'nope'"),
        ("german.csv", "creditability", "bad", ["--allow-protected", "job"], "'job' not protected"),
        ("german.csv", "creditability", "bad", ["--folds", "1"], "--folds must be between 2 and 20"),
        ("german.csv", "creditability", "bad", ["--cutoff", "1.5"], "--cutoff"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    bad_files: Path, tmp_path: Path, file: str, target: str, bad: str, extra: list[str], message: str
) -> None:
    args = ["--data", str(bad_files / file), "--target", target, "--bad", bad, "--out", str(tmp_path / "o")]
    result = train_cli(*args, *extra)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("xiaodai: error: ")
    assert message in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------ helpers


@pytest.mark.parametrize(
    ("name", "protected"),
    [
        ("age_in_years", True),
        ("Age", True),
        ("personal_status_and_sex", True),
        ("Marital", True),
        ("applicant_gender", True),
        ("AgeBand", True),
        ("installment_rate_in_percentage_of_disposable_income", False),
        ("mortgage_balance", False),
        ("average_balance", False),
        ("agent_id", False),
        ("income", False),
    ],
)
def test_protected_names(name: str, protected: bool) -> None:
    assert training.is_protected_name(name) is protected


def test_trend_and_labels() -> None:
    assert training.trend_of([0.1, 0.2, 0.3]) == "ascending"
    assert training.trend_of([0.3, 0.2, 0.2]) == "descending"
    assert training.trend_of([0.1, 0.3, 0.2]) is None
    assert training.trend_of([0.2]) is None
    assert training.numeric_labels([8.5, 12.5]) == ["< 8.5", "[8.5, 12.5)", "≥ 12.5"]
    assert training.numeric_labels([]) == ["all"]


def test_datasets_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["datasets", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"german_credit", "credit_scoring"}
    german_frame = pd.read_csv(payload["german_credit"]["path"])
    scoring_frame = pd.read_csv(payload["credit_scoring"]["path"])
    assert german_frame.shape == (1000, 21)
    assert scoring_frame.shape == (4454, 14)
    assert "rownames" not in scoring_frame.columns
    assert payload["credit_scoring"]["target"] == "Status"
    assert payload["german_credit"]["bad"] == "bad"
