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
