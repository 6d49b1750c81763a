"""Model registry, decision records and replay, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from xiaodai.underwriting import service


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    return write_artifact(tmp_path / "artifact")


def test_decide_record_and_replay(factory: sessionmaker[Session], model_dir: Path) -> None:
    with factory() as s, s.begin():
        user_id = applicant(s)
    with factory() as s, s.begin(), pytest.raises(service.RegistryError, match="no active model"):
        service.decide_and_record(s, application_json=application(user_id=user_id))
    with factory() as s, s.begin():
        row = service.register_model(s, artifact=model_dir, activate=True)
        assert Path(row.path).is_dir()
    with factory() as s, s.begin():
        first = service.decide_and_record(s, application_json=application(user_id=user_id))
    assert first["outcome"] == "approve"
    assert first["model_version"] == "test0000model0001"
    with factory() as s, s.begin():
        again = service.decide_and_record(s, application_json=application(user_id=user_id))
    assert again["replayed"] is True
    assert again["decision_id"] == first["decision_id"]
    with factory() as s, s.begin(), pytest.raises(service.RegistryError, match="other data"):
        service.decide_and_record(s, application_json=application(user_id=user_id, request__amount="5000"))
    with factory() as s:
        replayed = service.replay(s, decision_id=first["decision_id"])
    assert replayed["identical"] is True
    assert replayed["recomputed"]["offer"] == first["offer"]
