"""The demo model trained on the synthetic population through the catalogue: its inputs are catalogue
features, so the decision service feeds it the assembled vector by name (both databases)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application
from xiaodai.db.tables import DecisionRow
from xiaodai.features.catalogue import default_catalogue
from xiaodai.simulate.demo_model import train_on_population
from xiaodai.underwriting import service


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(train_on_population(tmp_path_factory.mktemp("population"), n=4000, seed=3, folds=2).out)


def _same(used: object, stated: object) -> bool:
    """The stated value as the model received it (amounts are parsed to two decimals: "9000" is 9000.00)."""
    try:
        return Decimal(str(used)) == Decimal(str(stated))
    except ArithmeticError:
        return str(used) == str(stated)


def test_population_model_reads_catalogue_features(
    artifact: Path, factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = json.loads((artifact / "manifest.json").read_text(encoding="utf-8"))
    catalogue = default_catalogue().by_name()
    assert manifest["features"]
    assert set(manifest["features"]) <= set(catalogue)  # every model input is a catalogue feature
    assert "age" not in manifest["features"]  # protected: never a model input
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("XIAODAI_KEYRING_FILE", str(tmp_path / "keyring.json"))
    with factory() as s, s.begin():
        service.register_model(s, artifact=artifact, activate=True)
        user = applicant(s)
    with factory() as s, s.begin():
        result = service.decide_and_record(s, application_json=application("POP-1", user))
    assert result["score"] is not None
    with factory() as s:
        row = s.execute(select(DecisionRow).where(DecisionRow.application_id == "POP-1")).scalar_one()
        used = json.loads(row.features_json or "{}")["model_inputs"]["values"]
    assert set(used) == set(manifest["features"])
    stated = application()["applicant"]
    fed_stated = [name for name in used if name in stated]
    assert fed_stated  # some of the model's inputs are what the applicant stated, fed by catalogue name
    assert all(_same(used[name], stated[name]) for name in fed_stated), {
        n: (used[n], stated[n]) for n in fed_stated
    }
    assert any(name.startswith("bureau_") for name in used)  # and some come from the credit report
    labels = json.loads((artifact / "scorecard.json").read_text(encoding="utf-8"))["labels_zh"]
    assert all(labels[name] == catalogue[name].label_zh for name in manifest["features"]), {
        n: (labels[n], catalogue[n].label_zh)
        for n in manifest["features"]
        if labels[n] != catalogue[n].label_zh
    }


def test_model_card_shows_calibration_against_the_true_pd(artifact: Path) -> None:
    manifest = json.loads((artifact / "manifest.json").read_text(encoding="utf-8"))
    metrics = json.loads((artifact / "metrics.json").read_text(encoding="utf-8"))
    assert "true_pd" not in manifest["features"]  # the truth is measured against, never learnt from
    assert manifest["config"]["true_pd"] == "true_pd"
    truth = metrics["calibration_truth"]
    for model in ("scorecard", "lightgbm"):
        block = truth[model]
        assert len(block["deciles"]) == 10
        assert sum(row["count"] for row in block["deciles"]) == manifest["dataset"]["rows"]
        # deciles of the model's PD order the true PD too (a model that learnt something real)
        true_by_decile = [row["mean_true_pd"] for row in block["deciles"]]
        assert true_by_decile[-1] > 2 * true_by_decile[0]
        assert 0 < block["mean_abs_error"] < 0.06
    # the population's mean true PD (≈ 7.8%) is what the card compares against
    assert 0.05 < truth["scorecard"]["mean_true_pd"] < 0.11
    en = (artifact / "card.en.html").read_text(encoding="utf-8")
    zh = (artifact / "card.zh.html").read_text(encoding="utf-8")
    assert "Calibration against the true PD" in en
    assert "Mean true PD" in en
    assert "与真实违约概率对比的校准" in zh
    assert "平均真实 PD" in zh


def test_true_pd_must_be_a_probability(tmp_path: Path) -> None:
    from xiaodai.underwriting.training import TrainingConfig, TrainingError, train

    rows = ["x,truth,bad"] + [f"{n},{'1.5' if n == 7 else '0.1'},{n % 5 == 0:d}" for n in range(200)]
    data = tmp_path / "t.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="true-pd 'truth' must be a probability"):
        train(data, TrainingConfig(target="bad", bad_value="1", true_pd="truth", folds=2), tmp_path / "m")
