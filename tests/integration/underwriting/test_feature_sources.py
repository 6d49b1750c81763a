"""Decisions on the lender's own data, on SQLite and PostgreSQL: platform values from xiaodai's records, the
credit report pulled once per application under consent, and requests that try to supply either refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from support.models import applicant, application, write_artifact
from xiaodai.cli import shell
from xiaodai.cli.main import app as cli_app
from xiaodai.db.tables import (
    ApplicationRow,
    BlocklistRow,
    BureauPullRow,
    ConsentRow,
    DecisionRow,
    InstallmentRow,
    LoanRow,
)
from xiaodai.features.platform import platform_features
from xiaodai.privacy.crypto import aad, decrypt
from xiaodai.privacy.keys import current_ring
from xiaodai.privacy.store import write_fields
from xiaodai.underwriting import service
from xiaodai.underwriting.decision import ApplicationError

START = date(2026, 1, 10)


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


def decide(factory: sessionmaker[Session], body: dict[str, Any]) -> dict[str, Any]:
    with factory() as s, s.begin():
        return service.decide_and_record(s, application_json=body)


def codes(result: dict[str, Any]) -> list[str]:
    return [r["code"] for r in result["reasons"]]


def owned_loan(
    factory: sessionmaker[Session], new_loan: Callable[..., int], user_id: int
) -> tuple[int, date]:
    """A real disbursed loan of ``user_id``; returns it with its first due date."""
    loan_id = new_loan(start=START)
    with factory() as s, s.begin():
        s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(borrower_id=user_id))
        first_due = s.execute(
            select(func.min(InstallmentRow.due_on)).where(InstallmentRow.loan_id == loan_id)
        ).scalar_one()
    return loan_id, first_due


def test_overdue_here_is_declined_from_the_unpaid_instalment(
    active: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
    _loan_id, first_due = owned_loan(active, new_loan, user)
    on_due_date = decide(active, application("ON-DUE", user, as_of=first_due.isoformat()))
    assert "KO_EXISTING_OVERDUE" not in codes(on_due_date)  # due today is not overdue
    day_after = decide(active, application("DAY-AFTER", user, as_of=(first_due + timedelta(1)).isoformat()))
    assert day_after["outcome"] == "decline"
    assert codes(day_after)[0] == "KO_EXISTING_OVERDUE"
    assert day_after["feature_sources"]["worst_dpd_now"] == "platform"
    with active() as s:
        features = platform_features(s, user_id=user, as_of=first_due + timedelta(days=20))
        row = s.execute(select(DecisionRow).where(DecisionRow.application_id == "DAY-AFTER")).scalar_one()
        recorded = json.loads(row.features_json or "{}")
    assert features["worst_dpd_now"] == 20
    assert features["worst_dpd_12m"] == 20
    assert features["exposure_outstanding"] == "10000.00"
    assert features["on_time_ratio"] == "0.0000"
    assert recorded["features"]["worst_dpd_now"] == {"value": 1, "source": "platform"}
    assert recorded["features"]["monthly_income"] == {"value": "9000", "source": "application"}
    assert recorded["features"]["bureau_inquiries_1m"]["source"] == "bureau"
    assert recorded["model_inputs"]["values"]["Records"] == "yes"  # the overdue is an adverse record
    with active() as s:  # the record replays exactly from what was assembled
        assert service.replay(s, decision_id=day_after["decision_id"])["identical"] is True


def test_stored_dpd_counts_and_a_settled_loan_does_not(
    active: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
    loan_id, _ = owned_loan(active, new_loan, user)
    with active() as s, s.begin():  # what end of day writes for a loan 12 days late
        s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(state="overdue", dpd=12))
    assert codes(decide(active, application("A1", user, as_of="2026-01-20")))[0] == "KO_EXISTING_OVERDUE"
    with active() as s, s.begin():
        s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(state="settled", dpd=12))
    with active() as s:
        features = platform_features(s, user_id=user, as_of=date(2026, 1, 20))
    assert (features["worst_dpd_now"], features["loans_repaid"], features["exposure_outstanding"]) == (
        0,
        1,
        "0.00",
    )


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("applicant", "existing_overdue_days", 0),
        ("applicant", "worst_dpd_now", 0),
        ("applicant", "blocklisted", False),
        ("applicant", "bureau_overdue_accounts_now", 0),
        ("request", "applications_last_30d", 0),
        ("features", "Records", "no"),
        ("applicant", "debt_to_income", "0.01"),
    ],
)
def test_a_request_supplying_a_looked_up_value_is_refused(
    active: sessionmaker[Session], section: str, field: str, value: Any
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
    body = application("REFUSED", user)
    body[section][field] = value
    with active() as s, s.begin(), pytest.raises(ApplicationError, match=field):
        service.decide_and_record(s, application_json=body)
    with active() as s:
        assert s.execute(select(func.count(DecisionRow.id))).scalar_one() == 0
        assert s.execute(select(func.count(BureauPullRow.id))).scalar_one() == 0


def test_an_application_without_an_applicant_is_refused(active: sessionmaker[Session]) -> None:
    with active() as s, s.begin(), pytest.raises(ApplicationError, match="user_id"):
        service.decide_and_record(s, application_json=application("NOBODY"))


def test_bureau_pull_once_per_application_encrypted_and_only_with_consent(
    active: sessionmaker[Session],
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
        refuser = applicant(s, "no-consent@example.com", consent=False)
    first = decide(active, application("P1", user))
    assert decide(active, application("P1", user))["replayed"] is True
    decide(active, application("P2", user))
    with active() as s:
        pulls = s.execute(select(BureauPullRow).order_by(BureauPullRow.id)).scalars().all()
        assert [(p.application_id, p.user_id, p.provider) for p in pulls] == [
            ("P1", user, "sandbox"),
            ("P2", user, "sandbox"),
        ]
        assert "inquiries" not in str(pulls[0].report_enc)
        report = json.loads(
            decrypt(current_ring(), str(pulls[0].report_enc), aad("bureau_pulls", "P1", "report"))
        )
    assert report["subject_ref"] == f"user:{user}"
    assert first["feature_sources"]["bureau_inquiries_12m"] == "bureau"
    with active() as s, s.begin(), pytest.raises(ApplicationError, match="consent"):
        service.decide_and_record(s, application_json=application("P3", refuser))
    with active() as s, s.begin():  # a withdrawn consent is no consent
        s.execute(update(ConsentRow).where(ConsentRow.user_id == user).values(withdrawn_at=datetime.now(UTC)))
    with active() as s, s.begin(), pytest.raises(ApplicationError, match="consent"):
        service.decide_and_record(s, application_json=application("P4", user))
    with active() as s:
        assert s.execute(select(func.count(BureauPullRow.id))).scalar_one() == 2


@pytest.mark.parametrize(
    ("staged", "ko"),
    [
        ({"overdue_accounts_now": 0, "max_overdue_months": 2, "overdue_months_24m": 5}, None),
        ({"overdue_accounts_now": 1}, "KO_BUREAU_OVERDUE_NOW"),
        ({"max_overdue_months": 3, "overdue_months_24m": 3}, "KO_BUREAU_SERIOUS_DELINQUENCY"),
        ({"max_overdue_months": 1, "overdue_months_24m": 6}, "KO_BUREAU_REPEATED_OVERDUE"),
    ],
)
def test_bureau_knock_outs_read_the_staged_report(
    active: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    staged: dict[str, int],
    ko: str | None,
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
        write_fields(s, current_ring(), user, {"id_number": "11010519920101100X"})
        subject = f"idx:{service_subject(s, user)}"
    reports = tmp_path / "bureau.json"
    reports.write_text(json.dumps({subject: staged}), encoding="utf-8")
    monkeypatch.setenv("XIAODAI_BUREAU_FILE", str(reports))
    result = decide(active, application("B1", user))
    if ko is None:
        assert not [c for c in codes(result) if c.startswith("KO_")]
    else:
        assert (result["outcome"], codes(result)[0]) == ("decline", ko)


def service_subject(session: Session, user_id: int) -> str:
    from xiaodai.db.tables import PersonalDataRow

    row = session.get(PersonalDataRow, user_id)
    assert row is not None
    assert row.id_number_bidx
    return row.id_number_bidx


@pytest.mark.parametrize(("others", "ko"), [(5, False), (6, True)])
def test_velocity_counts_the_applicants_other_recent_applications(
    active: sessionmaker[Session], others: int, ko: bool
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
        now = datetime(2026, 11, 20, tzinfo=UTC)
        for n in range(others):
            s.add(
                ApplicationRow(public_id=f"old{n}", user_id=user, idempotency_key=f"k{n}", payload_json="{}")
            )
        s.add(  # 31 days before as_of: outside the window
            ApplicationRow(public_id="older", user_id=user, idempotency_key="k-old", payload_json="{}")
        )
        s.flush()
        s.execute(update(ApplicationRow).values(created_at=now))
        s.execute(
            update(ApplicationRow)
            .where(ApplicationRow.public_id == "older")
            .values(created_at=now - timedelta(days=31))
        )
    result = decide(active, application("V1", user, as_of="2026-11-29"))
    assert ("KO_VELOCITY" in codes(result)) is ko


def test_blocklist_by_user_or_by_id_number_until_removed(active: sessionmaker[Session]) -> None:
    with active() as s, s.begin():
        by_user = applicant(s, "u@example.com")
        by_id = applicant(s, "i@example.com")
        ring = current_ring()
        write_fields(s, ring, by_id, {"id_number": "11010519920101100X"})
        bidx = service_subject(s, by_id)
        s.add(BlocklistRow(user_id=by_user, reason="FRAUD", added_by="test"))
        s.add(BlocklistRow(id_number_bidx=bidx, reason="IDENTITY_MISUSE", added_by="test"))
    assert codes(decide(active, application("L1", by_user)))[0] == "KO_BLOCKLIST"
    assert codes(decide(active, application("L2", by_id)))[0] == "KO_BLOCKLIST"
    with active() as s, s.begin():
        s.execute(update(BlocklistRow).values(removed_at=datetime.now(UTC)))
    assert "KO_BLOCKLIST" not in codes(decide(active, application("L3", by_user)))


def test_cli_decide_declines_an_applicant_overdue_here(
    active: sessionmaker[Session], new_loan: Callable[..., int], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with active() as s, s.begin():
        user = applicant(s)
    _, first_due = owned_loan(active, new_loan, user)
    monkeypatch.setenv("XIAODAI_DATABASE_URL", db_url)
    shell._ENGINE = None
    try:
        body = application("CLI-1", user, as_of=(first_due + timedelta(days=3)).isoformat())
        result = CliRunner().invoke(cli_app, ["decide", "--json"], input=json.dumps(body))
        assert result.exit_code == 0, result.stderr
        decided = json.loads(result.stdout)
        assert (decided["outcome"], decided["reasons"][0]["code"]) == ("decline", "KO_EXISTING_OVERDUE")
        body = application("CLI-2", user)
        body["applicant"]["existing_overdue_days"] = 0
        refused = CliRunner().invoke(cli_app, ["decide"], input=json.dumps(body))
        assert refused.exit_code == 2
        assert "existing_overdue_days (platform)" in refused.stderr
    finally:
        if shell._ENGINE is not None:
            shell._ENGINE.dispose()
        shell._ENGINE = None


def test_ecosystem_signals_only_with_their_consent(active: sessionmaker[Session]) -> None:
    from xiaodai.db.tables import UserRow
    from xiaodai.journey.service import record_consent

    with active() as s, s.begin():
        user = applicant(s)
    without = decide(active, application("E1", user))
    assert not [name for name in without["feature_sources"] if name.startswith("ecosystem_")]
    with active() as s, s.begin():
        record_consent(s, user=s.get(UserRow, user), kind="ecosystem_data")
    with_consent = decide(active, application("E2", user))
    ecosystem = {k: v for k, v in with_consent["feature_sources"].items() if k.startswith("ecosystem_")}
    assert ecosystem == dict.fromkeys(
        ("ecosystem_customer_months", "ecosystem_device_age_days", "ecosystem_payment_on_time_ratio"),
        "ecosystem",
    )


def test_blocklist_cli_add_and_remove_reach_the_decision(
    active: sessionmaker[Session], cli: Callable[..., Any]
) -> None:
    from xiaodai.db.tables import AuditEventRow

    with active() as s, s.begin():
        user = applicant(s)
        other = applicant(s, "other@example.com")
        write_fields(s, current_ring(), other, {"id_number": "11010519920101100X"})
    cli("blocklist", "add", "--reason", "X", code=2)  # nobody named
    added = cli("blocklist", "add", "--user-id", str(user), "--reason", "IDENTITY_FRAUD", "--json")
    cli("blocklist", "add", "--id-number", "11010519920101100x", "--reason", "COURT_ORDER", "--json")
    assert [e["reason"] for e in cli("blocklist", "list", "--json")] == ["IDENTITY_FRAUD", "COURT_ORDER"]
    assert codes(decide(active, application("C1", user)))[0] == "KO_BLOCKLIST"
    assert codes(decide(active, application("C2", other)))[0] == "KO_BLOCKLIST"  # by ID number
    cli("blocklist", "remove", str(added["id"]), "--reason", "ENTERED_IN_ERROR", "--json")
    cli("blocklist", "remove", str(added["id"]), "--reason", "AGAIN", code=2)
    assert "KO_BLOCKLIST" not in codes(decide(active, application("C3", user)))
    with active() as s:
        actions = (
            s.execute(
                select(AuditEventRow.action)
                .where(AuditEventRow.action.like("blocklist-%"))
                .order_by(AuditEventRow.seq)
            )
            .scalars()
            .all()
        )
    assert actions == ["blocklist-add", "blocklist-add", "blocklist-remove"]


def test_key_rotation_re_encrypts_the_credit_reports(active: sessionmaker[Session]) -> None:
    from xiaodai.features.assemble import reports_of
    from xiaodai.privacy import store
    from xiaodai.privacy.keys import store_ring

    with active() as s, s.begin():
        user = applicant(s)
    decide(active, application("R1", user))
    old = current_ring()
    with active() as s:
        before = reports_of(s, user_id=user)[0]["report"]
    grown, version = old.with_new_version()
    store_ring(grown.with_current(version))
    ring = current_ring()
    with active() as s:
        backlog = store.rotation_backlog(s, ring)  # the report, and whatever else is encrypted
        assert backlog >= 1
    assert store.rotate(active, ring) == backlog
    with active() as s:
        pull = s.execute(select(BureauPullRow)).scalar_one()
        assert (pull.key_version, str(pull.report_enc).startswith(f"v{version}.")) == (version, True)
        assert store.rotation_backlog(s, ring) == 0
        assert reports_of(s, user_id=user)[0]["report"] == before
