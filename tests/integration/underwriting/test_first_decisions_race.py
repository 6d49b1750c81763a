"""Concurrent first decisions under a new policy version: all of them succeed, the version is stored once and
its activation audited once (it used to be 1 of 8, the rest 500 UniqueViolation). Both databases; the race
is real on PostgreSQL (SQLite serialises writers)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from xiaodai.db.tables import AuditEventRow, DecisionRow, PolicyVersionRow
from xiaodai.underwriting import service
from xiaodai.underwriting.policy import default_policy

THREADS = 8


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    return write_artifact(tmp_path / "artifact")


def test_eight_first_decisions_at_once_all_succeed(factory: sessionmaker[Session], model_dir: Path) -> None:
    with factory() as s, s.begin():
        service.register_model(s, artifact=model_dir, activate=True)
        users = [applicant(s, f"race{n}@example.com") for n in range(THREADS)]
    policy = default_policy()
    start = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def decide(n: int) -> None:
        try:
            start.wait(10)
            with factory() as s, s.begin():
                results[n] = service.decide_and_record(
                    s, application_json=application(f"RACE-{n}", users[n]), policy=policy
                )
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    failures = [r for r in results if not isinstance(r, dict)]
    assert failures == []
    with factory() as s:
        assert s.execute(select(func.count()).select_from(DecisionRow)).scalar_one() == THREADS
        stored = s.execute(select(PolicyVersionRow)).scalars().all()
        activations = s.execute(
            select(func.count()).select_from(AuditEventRow).where(AuditEventRow.action == "policy-activate")
        ).scalar_one()
    assert [(p.version, p.document) for p in stored] == [(policy.version, policy.document)]
    assert activations == 1


def test_a_changed_document_under_a_stored_version_is_still_refused(
    factory: sessionmaker[Session], model_dir: Path
) -> None:
    import dataclasses

    with factory() as s, s.begin():
        service.register_model(s, artifact=model_dir, activate=True)
        user = applicant(s)
    policy = default_policy()
    with factory() as s, s.begin():
        service.decide_and_record(s, application_json=application("A", user), policy=policy)
    changed = dataclasses.replace(policy, document=policy.document + " ")
    with factory() as s, s.begin(), pytest.raises(service.RegistryError, match="without a new version"):
        service.decide_and_record(s, application_json=application("B", user), policy=changed)
