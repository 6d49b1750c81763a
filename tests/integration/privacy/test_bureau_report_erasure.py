"""Credit reports are covered by the data-subject erasure, on SQLite and PostgreSQL: kept (and listed in the
plan with its floor) for 3 years after the pull, then erased on request — the ciphertext goes, the pull record
stays — and an erased report is never read: deciding anew is refused with BUREAU_REPORT_ERASED, while a
stored decision still replays from its recorded inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from xiaodai.complaints import service as complaints
from xiaodai.db.tables import BureauPullRow, DecisionRow, UserRow
from xiaodai.features.assemble import ReportErasedError, credit_report, reports_of
from xiaodai.privacy import service as privacy
from xiaodai.privacy.keys import current_ring
from xiaodai.privacy.retention import BUREAU_REPORT_YEARS, COMPLAINT_YEARS, add_years
from xiaodai.privacy.store import rotate, rotation_backlog
from xiaodai.underwriting import service
from xiaodai.underwriting.decision import ApplicationError


@pytest.fixture
def active(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("XIAODAI_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.delenv("XIAODAI_BUREAU_FILE", raising=False)
    with factory() as s, s.begin():
        service.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
    return factory


def decided(factory: sessionmaker[Session]) -> tuple[int, int, date]:
    """An applicant with one decided application (R1): user id, decision id, the day of the pull."""
    with factory() as s, s.begin():
        user = applicant(s)
    with factory() as s, s.begin():
        result = service.decide_and_record(s, application_json=application("R1", user))
    with factory() as s:
        pulled = s.execute(select(BureauPullRow).where(BureauPullRow.application_id == "R1")).scalar_one()
        return user, int(result["decision_id"]), pulled.pulled_at.date()


def delete(factory: sessionmaker[Session], user_id: int, as_of: date) -> dict[str, Any]:
    with factory() as s, s.begin():
        user = s.get(UserRow, user_id)
        assert user is not None
        return privacy.request_deletion(s, user=user, as_of=as_of)


def pull_of(factory: sessionmaker[Session], application_id: str) -> BureauPullRow:
    with factory() as s:
        row = s.execute(
            select(BureauPullRow).where(BureauPullRow.application_id == application_id)
        ).scalar_one()
        s.expunge(row)
        return row


def test_before_the_floor_the_report_is_kept_and_listed_with_its_date(active: sessionmaker[Session]) -> None:
    user, _decision, pulled_on = decided(active)
    floor = add_years(pulled_on, BUREAU_REPORT_YEARS)
    pull = pull_of(active, "R1")
    with active() as s:
        owner = s.get(UserRow, user)
        assert owner is not None
        plan = privacy.deletion_plan(s, user=owner, as_of=floor - timedelta(days=1))
    assert {
        "category": f"bureau_report:{pull.id}",
        "action": "retain",
        "reason": "DECISION_RECORDS",
        "deletable_from": floor.isoformat(),
    } in plan
    result = delete(active, user, floor - timedelta(days=1))
    assert f"bureau_report:{pull.id}" not in result["deleted"]
    assert [i["reason"] for i in result["retained"]] == ["DECISION_RECORDS"]
    assert result["status"] == "partially_done"
    kept = pull_of(active, "R1")
    assert kept.report_enc == pull.report_enc
    assert kept.report_enc is not None
    assert kept.erased_at is None


def test_past_the_floor_erasure_nulls_the_report_and_keeps_the_pull(active: sessionmaker[Session]) -> None:
    user, decision_id, pulled_on = decided(active)
    floor = add_years(pulled_on, BUREAU_REPORT_YEARS)
    before = pull_of(active, "R1")
    result = delete(active, user, floor)
    assert f"bureau_report:{before.id}" in result["deleted"]
    assert result["status"] == "done"
    after = pull_of(active, "R1")
    assert after.report_enc is None
    assert after.erased_at is not None
    assert (after.id, after.user_id, after.consent_id, after.provider, after.pulled_at) == (
        before.id,
        before.user_id,
        before.consent_id,
        before.provider,
        before.pulled_at,
    )
    with active() as s:
        owner = s.get(UserRow, user)
        assert owner is not None
        # an erased report is no longer in the plan, and the export names it as erased
        plan = privacy.deletion_plan(s, user=owner, as_of=floor)
        assert not [i for i in plan if i["category"].startswith("bureau_report:")]
        exported = reports_of(s, user_id=user)
        assert [(r["application_id"], r["report"]) for r in exported] == [("R1", None)]
        assert exported[0]["erased_at"] is not None
        # key rotation has nothing to re-encrypt in an erased report
        assert rotation_backlog(s, current_ring()) == 0
    assert rotate(active, current_ring()) == 0
    # the stored decision still replays from its recorded inputs (it never reads the report)
    with active() as s:
        replayed = service.replay(s, decision_id=decision_id)
    assert replayed["identical"] is True


def test_an_erased_report_is_not_reused_the_reason_is_named(active: sessionmaker[Session]) -> None:
    with active() as s, s.begin():
        user = applicant(s)
    today = datetime.now(tz=UTC).date()
    with active() as s, s.begin():  # pulled for R2, not decided yet
        credit_report(s, user_id=user, application_id="R2", as_of=today)
    delete(active, user, add_years(today, BUREAU_REPORT_YEARS) + timedelta(days=1))
    assert pull_of(active, "R2").report_enc is None
    with active() as s, pytest.raises(ReportErasedError) as caught:
        credit_report(s, user_id=user, application_id="R2", as_of=today)
    assert caught.value.code == "BUREAU_REPORT_ERASED"
    with active() as s, s.begin(), pytest.raises(ApplicationError, match="BUREAU_REPORT_ERASED"):
        service.decide_and_record(s, application_json=application("R2", user))
    with active() as s:
        assert s.execute(select(DecisionRow.id)).first() is None
        assert len(s.execute(select(BureauPullRow)).scalars().all()) == 1  # not pulled again


def test_a_complaint_about_the_decision_holds_the_report_past_its_floor(
    active: sessionmaker[Session],
) -> None:
    user, _decision, pulled_on = decided(active)
    floor = add_years(pulled_on, BUREAU_REPORT_YEARS)
    pull = pull_of(active, "R1")
    received = datetime.combine(pulled_on + timedelta(days=10), datetime.min.time(), tzinfo=UTC)
    with active() as s, s.begin():
        filed = complaints.file_complaint(
            s,
            narrative="我的借款申请被拒绝了，理由不清楚，请复核。",
            channel="portal",
            received_at=received,
            user_id=user,
        )
    result = delete(active, user, floor + timedelta(days=1))  # past the report's own floor
    assert f"bureau_report:{pull.id}" not in result["deleted"]
    assert {
        "category": f"bureau_report:{pull.id}",
        "action": "retain",
        "reason": "COMPLAINT_OPEN",
        "deletable_from": None,
    } in result["retained"]
    assert pull_of(active, "R1").report_enc == pull.report_enc
    closed_at = received + timedelta(days=20)
    with active() as s, s.begin():
        complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=closed_at,
            remedies=[{"kind": "none", "reason": "decision upheld after review"}],
            root_cause="NOT_UPHELD",
            notice={
                "verification_summary": "复核申请材料与征信报告",
                "basis": "授信政策",
                "reasons": "拒绝理由已说明",
                "remedies": "复核",
                "remedy_channels": ["review", "mediation", "arbitration", "litigation"],
            },
        )
    file_floor = add_years(closed_at.date(), COMPLAINT_YEARS)
    result = delete(active, user, file_floor - timedelta(days=1))  # the complaint file keeps it
    assert {
        "category": f"bureau_report:{pull.id}",
        "action": "retain",
        "reason": "COMPLAINT_FILE",
        "deletable_from": file_floor.isoformat(),
    } in result["retained"]
    assert pull_of(active, "R1").report_enc is not None
    result = delete(active, user, file_floor)
    assert f"bureau_report:{pull.id}" in result["deleted"]
    assert pull_of(active, "R1").report_enc is None
