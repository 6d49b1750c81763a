"""Decisions leave an audit event with actor, reason code and rule/model version: credit decisions, model
registration and activation, policy versions, contact decisions and complaint state changes — both
databases; and the chain they form verifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from xiaodai.audit import trail
from xiaodai.collections import service as collections
from xiaodai.collections.contact_facts import Attempt
from xiaodai.complaints import service as complaints
from xiaodai.db.tables import AuditEventRow, BlocklistRow
from xiaodai.underwriting import service as underwriting

SH = ZoneInfo("Asia/Shanghai")


def events(factory: sessionmaker[Session], action: str) -> list[dict[str, Any]]:
    with factory() as s:
        found = s.execute(
            select(AuditEventRow).where(AuditEventRow.action == action).order_by(AuditEventRow.seq)
        ).scalars()
        return [
            {"actor": e.actor, "subject": e.subject, "reason": e.reason, **json.loads(e.payload)}
            for e in found
        ]


def assert_chain_intact(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        report = trail.verify_chain(s)
    assert report.ok, report.problem


def test_credit_decisions_and_model_changes(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    artifact = write_artifact(tmp_path / "artifact")
    with factory() as s, s.begin():
        underwriting.register_model(s, artifact=artifact, activate=True, actor="user:9")
    with factory() as s, s.begin():
        good = applicant(s, "good@example.com")
        blocked = applicant(s, "blocked@example.com")
        s.add(BlocklistRow(user_id=blocked, reason="IDENTITY_FRAUD", added_by="user:9"))
    with factory() as s, s.begin():
        approved = underwriting.decide_and_record(
            s, application_json=application("APP-1", good), actor="user:9"
        )
        declined = underwriting.decide_and_record(s, application_json=application("APP-2", blocked))
    with factory() as s, s.begin():  # a replay: no new decision, no second credit-report pull
        underwriting.decide_and_record(s, application_json=application("APP-1", good))
    [registered] = events(factory, "model-register")
    assert (registered["actor"], registered["subject"], registered["version"]) == (
        "user:9",
        "model:test0000model0001",
        "test0000model0001",
    )
    [activated] = events(factory, "model-activate")
    assert (activated["actor"], activated["reason"], activated["previous"]) == ("user:9", "ACTIVATED", [])
    [policy] = events(factory, "policy-activate")
    assert policy["reason"] == "FIRST_USE"
    assert policy["version"] == approved["policy_version"]
    decisions = events(factory, "credit-decision")
    assert [(d["subject"], d["decision_id"], d["outcome"]) for d in decisions] == [
        ("application:APP-1", approved["decision_id"], "approve"),
        ("application:APP-2", declined["decision_id"], "decline"),
    ]
    assert [d["reason"] for d in decisions] == ["APPROVED", declined["reasons"][0]["code"]]
    assert decisions[0]["actor"] == "user:9"
    assert decisions[1]["actor"] == "system"
    assert decisions[0]["version"] == f"model:test0000model0001 policy:{approved['policy_version']}"
    assert declined["reasons"][0]["code"] == "KO_BLOCKLIST"
    pulls = events(factory, "bureau-pull")
    assert [(p["subject"], p["reason"], p["user_id"]) for p in pulls] == [
        ("application:APP-1", "CREDIT_CHECK_CONSENTED", good),
        ("application:APP-2", "CREDIT_CHECK_CONSENTED", blocked),
    ]
    assert_chain_intact(factory)


def test_every_contact_attempt_is_an_audit_event(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    context = {"borrower": {"timezone": "Asia/Shanghai", "phones": [{"id": "M1", "type": "mobile"}]}}
    call = Attempt("contact", "call", phone_id="M1")
    with factory() as s, s.begin():
        collections.open_case(s, loan_id=loan_id, profile="CN", context=context)
    results = []
    for hour in (23, 10):  # at night: blocked; in the morning: allowed
        with factory() as s, s.begin():
            results.append(
                collections.attempt_contact(
                    s,
                    loan_id=loan_id,
                    attempt=call,
                    as_of=datetime(2026, 3, 10, hour, tzinfo=SH),
                    actor="collector:3",
                )
            )
    logged = events(factory, "contact-decision")
    assert [(e["contact_attempt_id"], e["decision"], e["reason"]) for e in logged] == [
        (r["attempt_id"], r["decision"], r["reason"]) for r in results
    ]
    assert [e["decision"] for e in logged] == ["block", "allow"]
    assert all(e["actor"] == "collector:3" and e["subject"] == f"loan:{loan_id}" for e in logged)
    assert [e["version"] for e in logged] == [r["rule_version"] for r in results]
    assert_chain_intact(factory)


def test_complaint_state_changes_are_audit_events(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        filed = complaints.file_complaint(
            s,
            narrative="你们的催收员每天晚上十一点还打电话，还打给我的同事，太过分了。",
            channel="portal",
            received_at=datetime(2026, 3, 2, 10, tzinfo=SH),
            loan_id=loan_id,
        )
    subject = f"complaint:{filed['complaint_id']}"
    with factory() as s, s.begin():
        complaints.reclassify(
            s,
            public_id=filed["complaint_id"],
            category="collection_conduct",
            sub_issue=None,
            officer="user:5",
        )
    with factory() as s, s.begin():
        complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=datetime(2026, 3, 10, 16, tzinfo=SH),
            remedies=[{"kind": "apology"}],
            root_cause="COLLECTOR_HOURS",
            notice={"verification_summary": "x", "basis": "y", "reasons": "z", "remedies": "review"},
            officer="user:5",
        )
    with factory() as s, s.begin():
        complaints.request_review(s, public_id=filed["complaint_id"], at=datetime(2026, 3, 12, tzinfo=SH))
    [intake] = events(factory, "complaint-intake")
    assert (intake["subject"], intake["reason"], intake["category"]) == (
        subject,
        "OPEN",
        "collection_conduct",
    )
    assert intake["collection_hold"] is False  # no collection case on this loan
    assert "taxonomy:" in intake["version"]
    assert "sla:CN/" in intake["version"]
    [reclassified] = events(factory, "complaint-reclassify")
    assert (reclassified["actor"], reclassified["reason"]) == ("user:5", "HUMAN_OVERRIDE")
    [decision] = events(factory, "complaint-decision")
    assert (decision["actor"], decision["subject"], decision["reason"]) == (
        "user:5",
        subject,
        "COLLECTOR_HOURS",
    )
    assert (decision["remedies"], decision["sla_status"]) == (["apology"], "on_time")
    assert decision["version"].startswith("sla:CN/")
    [review] = events(factory, "complaint-review-requested")
    assert review["subject"] == subject
    assert_chain_intact(factory)
