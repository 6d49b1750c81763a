"""A decision's pull and record wait to be written with the transaction's next statement that takes them
(``db.inserts.queue_insert``; on PostgreSQL at the latest with the audit chain's head at commit). What a
caller could see must not change: the rows are there for every read of the transaction and after commit,
and gone with a rollback. Both databases (SQLite writes at once where PostgreSQL queues)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from xiaodai.db.tables import AuditEventRow, BureauPullRow, DecisionRow
from xiaodai.underwriting import service
from xiaodai.underwriting.policy import default_policy


@pytest.fixture
def user(factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    with factory() as s, s.begin():
        service.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
        made = applicant(s)
    with factory() as s, s.begin():  # the policy version's first use is behind us
        service.decide_and_record(s, application_json=application("FIRST", made))
    return made


def count(s: Session, row: type[DecisionRow] | type[BureauPullRow], application_id: str) -> int:
    return s.execute(
        select(func.count()).select_from(row).where(row.application_id == application_id)
    ).scalar_one()


def test_the_rows_are_visible_to_the_transactions_own_reads(
    factory: sessionmaker[Session], user: int
) -> None:
    with factory() as s, s.begin():
        result = service.decide_and_record(s, application_json=application("Q-1", user))
        row = s.get(DecisionRow, result["decision_id"])
        assert row is not None
        assert row.decided_at is not None  # a server default: loaded by a query that writes the queue first
        assert count(s, DecisionRow, "Q-1") == 1  # an ORM query
        assert count(s, BureauPullRow, "Q-1") == 1
    with factory() as s:
        stored = s.get(DecisionRow, result["decision_id"])
        assert stored is not None
        assert stored.outcome == result["outcome"]
        pull = s.execute(select(BureauPullRow).where(BureauPullRow.application_id == "Q-1")).scalar_one()
        assert json.loads(stored.features_json or "{}")["bureau_pull_id"] == pull.id


def test_the_same_application_twice_in_one_transaction_is_replayed(
    factory: sessionmaker[Session], user: int
) -> None:
    with factory() as s, s.begin():
        first = service.decide_and_record(s, application_json=application("Q-5", user))
        again = service.decide_and_record(s, application_json=application("Q-5", user))
    assert again["replayed"] is True
    assert again["decision_id"] == first["decision_id"]
    with factory() as s:
        assert (count(s, DecisionRow, "Q-5"), count(s, BureauPullRow, "Q-5")) == (1, 1)


def test_a_rollback_takes_them_with_it(factory: sessionmaker[Session], user: int) -> None:
    with factory() as s:
        s.begin()
        service.decide_and_record(s, application_json=application("Q-2", user))
        s.rollback()
    with factory() as s, s.begin():
        assert count(s, DecisionRow, "Q-2") == 0
        assert count(s, BureauPullRow, "Q-2") == 0
        # and nothing is left waiting in the session: the next transaction writes only its own rows
        service.decide_and_record(s, application_json=application("Q-3", user))
    with factory() as s:
        assert (count(s, DecisionRow, "Q-2"), count(s, DecisionRow, "Q-3")) == (0, 1)


def test_a_refused_decision_keeps_its_pull_when_the_caller_commits(
    factory: sessionmaker[Session], user: int
) -> None:
    """The pull happened (and is audited) before the decision was refused: a caller that commits anyway
    stores both, as when the pull was written at once."""
    changed = dataclasses.replace(default_policy(), document=default_policy().document + " ")
    with factory() as s, s.begin(), pytest.raises(service.RegistryError, match="without a new version"):
        service.decide_and_record(s, application_json=application("Q-4", user), policy=changed)
    with factory() as s:
        assert count(s, BureauPullRow, "Q-4") == 1
        assert count(s, DecisionRow, "Q-4") == 0
        pulls = s.execute(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.action == "bureau-pull", AuditEventRow.subject == "application:Q-4")
        ).scalar_one()
        assert pulls == 1
