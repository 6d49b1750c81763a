"""Maker-checker through the CLI on both databases: a write-off or a large waiver waits for a second,
authorised person; the maker can never approve their own request; approval executes exactly once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.accounts.service import sign_up
from xiaodai.db.tables import ApprovalRow, AuditEventRow, LoanRow


@pytest.fixture
def staff(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        for email, role in (
            ("col@x.cn", "collector"),
            ("risk@x.cn", "risk"),
            ("risk2@x.cn", "risk"),
            ("cs@x.cn", "complaint_officer"),
        ):
            sign_up(s, email=email, name=role, password="correct horse 1", kind="staff", roles=(role,))


@pytest.mark.usefixtures("staff")
def test_write_off_needs_a_second_person(cli: Any, new_loan: Any, factory: sessionmaker[Session]) -> None:
    loan_id = new_loan()
    asked = cli(
        "loan", "write-off", str(loan_id), "--on", "2026-08-01", "--actor", "risk@x.cn",
        "--reason", "uncollectable after 180 days", "--json",
    )  # fmt: skip
    assert asked["status"] == "pending"
    with factory() as s:
        assert s.get(LoanRow, loan_id).state == "active"  # type: ignore[union-attr]
    same = cli("approvals", "approve", str(asked["id"]), "--actor", "risk@x.cn", code=1)
    assert "CHECKER_IS_MAKER" in same.stderr
    wrong_role = cli("approvals", "approve", str(asked["id"]), "--actor", "col@x.cn", code=1)
    assert "CHECKER_ROLE_NOT_PERMITTED" in wrong_role.stderr
    done = cli("approvals", "approve", str(asked["id"]), "--actor", "risk2@x.cn", "--json")
    assert done["status"] == "executed"
    again = cli("approvals", "approve", str(asked["id"]), "--actor", "risk2@x.cn", code=1)
    assert "NOT_PENDING" in again.stderr
    with factory() as s:
        assert s.get(LoanRow, loan_id).state == "written-off"  # type: ignore[union-attr]
        actions = s.execute(select(AuditEventRow.action, AuditEventRow.reason)).all()
    assert ("approval-refused", "CHECKER_IS_MAKER") in actions
    assert ("approval-refused", "CHECKER_ROLE_NOT_PERMITTED") in actions
    assert ("approval-executed", "EXECUTED") in actions
    cli("ledger", "check")


@pytest.mark.usefixtures("staff")
def test_small_waiver_is_direct_large_one_waits(
    cli: Any, new_loan: Any, factory: sessionmaker[Session]
) -> None:
    loan_id = new_loan()
    cli("eod", "--date", "2026-04-20", "--max-days", "100")  # bills and overdue penalties to waive
    small = cli(
        "loan", "waive", str(loan_id), "--component", "interest", "--amount", "10", "--on", "2026-04-20",
        "--idempotency-key", "w1", "--reason", "goodwill", "--actor", "cs@x.cn", "--json",
    )  # fmt: skip
    assert "approval" not in json.dumps(small)
    large = cli(
        "loan", "waive", str(loan_id), "--component", "interest", "--amount", "250", "--on", "2026-04-20",
        "--idempotency-key", "w2", "--reason", "hardship settlement", "--actor", "cs@x.cn", "--json",
    )  # fmt: skip
    assert large["status"] == "pending"
    rejected = cli(
        "approvals", "reject", str(large["id"]), "--actor", "risk@x.cn", "--reason", "no", "--json"
    )
    assert rejected["status"] == "rejected"
    with factory() as s:
        assert s.execute(select(ApprovalRow.status)).scalars().all() == ["rejected"]
    cli("approvals", "list", "--actor", "risk@x.cn", "--status", "rejected")
    bad = cli("approvals", "request", "teleport", "--actor", "risk@x.cn", "--reason", "because", code=2)
    assert "UNKNOWN_OPERATION" in bad.stderr
    cli("approvals", "request", "write_off", "--actor", "nobody@x.cn", "--reason", "because", code=2)
