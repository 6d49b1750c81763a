"""Promises to pay (kept/broken at end of day), agency exports and negative reporting — both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.collections import workflow
from xiaodai.db.tables import AgencyRow, AuditEventRow, LoanEventRow
from xiaodai.servicing import service
from xiaodai.servicing.eod import run_eod

SH = ZoneInfo("Asia/Shanghai")


def test_promises_are_settled_by_end_of_day(
    factory: sessionmaker[Session], engine: object, new_loan: Callable[..., int]
) -> None:
    kept, broken = new_loan(), new_loan(principal="5000")
    with factory() as s, s.begin():
        workflow.record_promise(
            s,
            loan_id=kept,
            promised_on=date(2026, 2, 15),
            amount_fen=50_000,
            made_by="c1",
            today=date(2026, 2, 12),
        )
        workflow.record_promise(
            s,
            loan_id=broken,
            promised_on=date(2026, 2, 15),
            amount_fen=50_000,
            made_by="c1",
            today=date(2026, 2, 12),
        )
    with factory() as s, s.begin():
        service.repay(s, loan_id=kept, amount_fen=60_000, on=date(2026, 2, 14), idempotency_key="p")
    run_eod(engine, date(2026, 2, 17))  # type: ignore[arg-type]
    with factory() as s:
        events = (
            s.execute(select(LoanEventRow.loan_id).where(LoanEventRow.kind == "promise-broken"))
            .scalars()
            .all()
        )
    assert events == [broken]


def test_agency_export_needs_contract_and_necessary_fields(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        s.add(
            AgencyRow(
                id="AG-1", name="某某信息咨询", on_whitelist=True, entrustment_contract_id=None, pia_id=None
            )
        )
    with factory() as s, s.begin():
        refused = workflow.export_to_agency(
            s, agency_id="AG-1", loan_ids=[loan_id], fields=["amount_due"], actor="admin"
        )
    assert refused == {
        "exported": False,
        "reason": "ENTRUSTMENT_CONTRACT_MISSING",
        "reasons": ["ENTRUSTMENT_CONTRACT_MISSING", "PIA_MISSING"],
    }
    with factory() as s, s.begin():
        agency = s.get(AgencyRow, "AG-1")
        assert agency is not None
        agency.entrustment_contract_id, agency.pia_id = "EC-2026-01", "PIA-7"
    with factory() as s, s.begin():
        too_much = workflow.export_to_agency(
            s,
            agency_id="AG-1",
            loan_ids=[loan_id],
            fields=["amount_due", "emergency_contacts"],
            actor="admin",
        )
        ok = workflow.export_to_agency(
            s, agency_id="AG-1", loan_ids=[loan_id], fields=["amount_due", "days_past_due"], actor="admin"
        )
    assert too_much["reason"] == "EXPORT_FIELDS_EXCESSIVE"
    assert ok["exported"] is True
    assert set(ok["rows"][0]) == {"loan_id", "amount_due", "days_past_due"}
    with factory() as s:
        assert len(s.execute(select(AuditEventRow).where(AuditEventRow.action == "agency-export")).all()) == 3


def test_negative_reporting_waits_for_notice(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    at = datetime(2026, 4, 1, 2, 0, tzinfo=SH)
    with factory() as s, s.begin():
        assert (
            workflow.submit_negative_record(s, loan_id=loan_id, at=at)["reason"]
            == "CREDIT_REPORT_NO_PRIOR_NOTICE"
        )
        workflow.send_reporting_notice(s, loan_id=loan_id, at=at)
    with factory() as s, s.begin():
        early = workflow.submit_negative_record(s, loan_id=loan_id, at=at + timedelta(days=3))
        late = workflow.submit_negative_record(s, loan_id=loan_id, at=at + timedelta(days=8))
    assert early["submitted"] is False
    assert late["submitted"] is True


def test_us_furnishing_waits_for_a_communication_in_the_contact_log(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    from xiaodai.collections import service as collections
    from xiaodai.collections.channels import SimulatedChannel
    from xiaodai.collections.contact_facts import Attempt

    loan_id = new_loan()
    chicago = ZoneInfo("America/Chicago")
    context = {
        "borrower": {"timezone": "America/Chicago", "phones": [{"id": "P1", "type": "mobile"}]},
        "collector_role": "third_party_debt_collector",
        "first_communication_done": True,
    }
    mailed = datetime(2026, 4, 1, 10, 0, tzinfo=chicago)
    with factory() as s, s.begin():
        collections.open_case(s, loan_id=loan_id, profile="US_RegF", context=context)
        assert workflow.submit_negative_record(s, loan_id=loan_id, at=mailed)["reason"] == (
            "CREDIT_REPORT_PASSIVE_COLLECTION"
        )
        letter = Attempt(
            "contact", "letter", message="ABC Lending Services, a debt collector. Please call us."
        )
        sent = collections.attempt_contact(
            s, loan_id=loan_id, attempt=letter, as_of=mailed, actor="c1", channel=SimulatedChannel()
        )
        assert sent["decision"] == "allow"
    with factory() as s, s.begin():
        day14 = workflow.submit_negative_record(s, loan_id=loan_id, at=mailed + timedelta(days=14))
        day15 = workflow.submit_negative_record(s, loan_id=loan_id, at=mailed + timedelta(days=15))
    assert day14["submitted"] is False
    assert day15["submitted"] is True


def test_agency_export_carries_only_needed_identity_and_honours_withdrawn_consent(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    from xiaodai.accounts.service import sign_up
    from xiaodai.db.tables import LoanRow
    from xiaodai.privacy import service as privacy

    first, second = new_loan(), new_loan()
    with factory() as s, s.begin():
        s.add(
            AgencyRow(
                id="AG-2", name="合规催收", on_whitelist=True, entrustment_contract_id="EC", pia_id="PIA"
            )
        )
        for n, loan_id in enumerate((first, second)):
            user = sign_up(s, email=f"ag{n}@example.com", name="x", password="correct horse 1")
            privacy.save_profile(
                s,
                user=user,
                fields={"name": "王五", "phone": "13812345678", "id_number": "11010519491231002X"},
                sensitive_consent=True,
            )
            privacy.grant_consent(s, user=user, kind="agency_sharing")
            loan = s.get(LoanRow, loan_id)
            assert loan is not None
            loan.borrower_id = user.id
            if n == 1:
                privacy.withdraw_consent(s, user=user, kind="agency_sharing")
    with factory() as s, s.begin():
        out = workflow.export_to_agency(
            s,
            agency_id="AG-2",
            loan_ids=[first, second],
            fields=["name", "mobile", "masked_id"],
            actor="admin",
        )
    assert out["rows"] == [
        {"loan_id": first, "name": "王五", "mobile": "13812345678", "masked_id": "1101**********002X"}
    ]
    assert out["withheld"] == [{"loan_id": second, "reason": "CONSENT_WITHDRAWN"}]
    with factory() as s:
        withheld = s.execute(
            select(AuditEventRow).where(AuditEventRow.action == "agency-export-withheld")
        ).scalar_one()
    assert withheld.reason == "CONSENT_WITHDRAWN"
