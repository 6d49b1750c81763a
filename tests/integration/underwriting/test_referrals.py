"""An underwriter decides a referred application (service, API, CLI), on SQLite and PostgreSQL: the borrower
then sees the offer or the decline with its reasons; the review is audited; the automated decision record
is untouched (replay stays identical)."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.models import write_artifact
from xiaodai.accounts import service as accounts
from xiaodai.db.tables import ApplicationRow, AuditEventRow, UserRow
from xiaodai.journey import service as journey
from xiaodai.underwriting import referrals
from xiaodai.underwriting import service as underwriting
from xiaodai.underwriting.policy import Policy, parse_policy

TODAY = date(2026, 11, 29)


def refer_everything() -> Policy:
    """The packaged policy with every offering grade sent to an underwriter (a new version number)."""
    raw = json.loads(resources.files("xiaodai.underwriting").joinpath("data/policy.json").read_text("utf-8"))
    raw["version"] = "test-refer-1"
    for grade in raw["grades"]:
        if grade["decision"] == "approve":
            grade["decision"] = "refer"
    return parse_policy(json.dumps(raw))


@pytest.fixture
def referred(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A borrower whose application was referred, an underwriter and a collector."""
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setattr(underwriting, "default_policy", refer_everything)
    with factory() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
        borrower = accounts.sign_up(s, email="b@example.com", name="张三", password="correct horse 1")
        uw = accounts.sign_up(
            s,
            email="uw@example.com",
            name="核保员",
            password="correct horse 1",
            kind="staff",
            roles=("underwriter",),
        )
        collector = accounts.sign_up(
            s,
            email="col@example.com",
            name="催收员",
            password="correct horse 1",
            kind="staff",
            roles=("collector",),
        )
        view = journey.submit_application(
            s,
            user=borrower,
            payload={
                "applicant": {
                    "age": 34,
                    "monthly_income": "9000",
                    "monthly_debt_payments": "500",
                    "employment_type": "employed",
                    "housing": "owner",
                },
                "request": {"amount": "8000", "term": 12},
            },
            idempotency_key="k1",
            credit_check_consent=True,
            today=TODAY,
        )
        assert view["outcome"] == "refer"
        decision_id = s.execute(
            select(ApplicationRow.decision_id).where(ApplicationRow.public_id == view["application_id"])
        ).scalar_one()
        return {
            "application_id": view["application_id"],
            "decision_id": decision_id,
            "borrower": borrower.id,
            "uw": uw.id,
            "collector": collector.id,
        }


def _user(s: Session, user_id: int) -> UserRow:
    row = s.get(UserRow, user_id)
    assert row is not None
    return row


def test_approval_gives_the_borrower_the_offer(
    factory: sessionmaker[Session], referred: dict[str, Any]
) -> None:
    with factory() as s, s.begin():
        assert [a.public_id for a, _ in referrals.referred(s)] == [referred["application_id"]]
        with pytest.raises(journey.JourneyError, match="no offer"):
            journey.offer_kfs(
                s,
                user=_user(s, referred["borrower"]),
                public_id=referred["application_id"],
                request=journey.OfferRequest(),
                today=TODAY,
            )
    with factory() as s, s.begin():
        done = referrals.review(
            s,
            reviewer=_user(s, referred["uw"]),
            decision_id=referred["decision_id"],
            verdict="approve",
            note="收入流水已核实",
        )
    assert done["outcome"] == "approve"
    with factory() as s, s.begin():
        borrower = _user(s, referred["borrower"])
        view = journey.application_view(s, user=borrower, public_id=referred["application_id"])
        assert view["outcome"] == "approve"
        assert view["offer"] is not None
        assert [r["code"] for r in view["reasons"]] == ["REVIEW_APPROVED"]
        kfs = journey.offer_kfs(
            s,
            user=borrower,
            public_id=referred["application_id"],
            request=journey.OfferRequest(),
            today=TODAY,
        )
        assert kfs["kfs"]["loan"]["principal"] == view["offer"]["principal"]
        assert referrals.referred(s) == []
        event = s.execute(select(AuditEventRow).where(AuditEventRow.action == "referral-review")).scalar_one()
        assert event.actor == f"user:{referred['uw']}"
        assert event.subject == f"application:{referred['application_id']}"
        assert event.reason == "REVIEW_APPROVED"
        assert json.loads(event.payload)["note"] == "收入流水已核实"
    with factory() as s, s.begin(), pytest.raises(referrals.ReviewError, match="NOT_REFERRED"):
        referrals.review(
            s,
            reviewer=_user(s, referred["uw"]),
            decision_id=referred["decision_id"],
            verdict="decline",
            reasons=["UW_AFFORDABILITY"],
        )
    with factory() as s:
        assert underwriting.replay(s, decision_id=referred["decision_id"])["identical"] is True


def test_decline_shows_the_underwriters_reasons(
    factory: sessionmaker[Session], referred: dict[str, Any]
) -> None:
    for reasons, code in (([], "REASON_REQUIRED"), (["NOT_A_CODE"], "UNKNOWN_REASON")):
        with factory() as s, s.begin(), pytest.raises(referrals.ReviewError, match=code):
            referrals.review(
                s,
                reviewer=_user(s, referred["uw"]),
                decision_id=referred["decision_id"],
                verdict="decline",
                reasons=reasons,
            )
    with factory() as s, s.begin(), pytest.raises(accounts.ForbiddenError):
        referrals.review(
            s,
            reviewer=_user(s, referred["collector"]),
            decision_id=referred["decision_id"],
            verdict="approve",
        )
    with factory() as s, s.begin():
        referrals.review(
            s,
            reviewer=_user(s, referred["uw"]),
            decision_id=referred["decision_id"],
            verdict="decline",
            reasons=["UW_INCOME_NOT_VERIFIED", "UW_AFFORDABILITY"],
        )
    with factory() as s, s.begin():
        borrower = _user(s, referred["borrower"])
        view = journey.application_view(s, user=borrower, public_id=referred["application_id"])
        assert view["outcome"] == "decline"
        assert view["offer"] is None
        assert [r["zh"] for r in view["reasons"]] == [
            "所填收入未能核实",
            "综合您的收入与支出，月供可能超出可承受范围",
        ]
        with pytest.raises(journey.JourneyError, match="no offer"):
            journey.offer_kfs(
                s,
                user=borrower,
                public_id=referred["application_id"],
                request=journey.OfferRequest(),
                today=TODAY,
            )


def test_api_queue_and_review(db_url: str, referred: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from xiaodai.api.app import create_app
    from xiaodai.api.settings import Settings

    app = create_app(Settings(database_url=db_url, secret_key="k" * 32, business_date=TODAY))
    with TestClient(app) as client:

        def token(email: str) -> dict[str, str]:
            got = client.post("/api/auth/token", json={"email": email, "password": "correct horse 1"})
            assert got.status_code == 200, got.text
            return {"Authorization": f"Bearer {got.json()['token']}"}

        uw, collector, borrower = token("uw@example.com"), token("col@example.com"), token("b@example.com")
        assert client.get("/api/staff/referrals", headers=collector).status_code == 403
        queue = client.get("/api/staff/referrals", headers=uw).json()
        assert [q["decision_id"] for q in queue] == [referred["decision_id"]]
        codes = [r["code"] for r in client.get("/api/staff/referrals/reasons", headers=uw).json()]
        assert "UW_AFFORDABILITY" in codes
        url = f"/api/staff/referrals/{referred['decision_id']}/review"
        refused = client.post(url, json={"verdict": "decline"}, headers=uw)
        assert refused.status_code == 400
        assert "REASON_REQUIRED" in refused.json()["message"]
        assert client.post(url, json={"verdict": "approve"}, headers=collector).status_code == 403
        done = client.post(url, json={"verdict": "decline", "reasons": ["UW_CREDIT_HISTORY"]}, headers=uw)
        assert done.status_code == 200, done.text
        assert client.post(url, json={"verdict": "approve"}, headers=uw).status_code == 409
        seen = client.get(f"/api/applications/{referred['application_id']}", headers=borrower).json()
        assert seen["outcome"] == "decline"
        assert [r["code"] for r in seen["reasons"]] == ["UW_CREDIT_HISTORY"]
        assert client.get("/api/staff/referrals", headers=uw).json() == []
    app.state.engine.dispose()


def test_cli_review(factory: sessionmaker[Session], referred: dict[str, Any], cli: Any) -> None:
    decision = str(referred["decision_id"])
    refused = cli("decision", "review", decision, "decline", "--actor", "uw@example.com", code=2)
    assert "REASON_REQUIRED" in refused.stderr
    cli("decision", "review", decision, "approve", "--actor", "col@example.com", code=1)
    done = cli("decision", "review", decision, "approve", "--actor", "uw@example.com", "--json")
    assert done["outcome"] == "approve"
    with factory() as s:
        outcome = s.execute(
            select(ApplicationRow.outcome).where(ApplicationRow.public_id == referred["application_id"])
        ).scalar_one()
    assert outcome == "approve"
    assert "UW_AFFORDABILITY" in cli("decision", "review-reasons").stdout
