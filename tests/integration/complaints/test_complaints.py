"""A complaint runs on the clock from intake: acknowledged with its deadline, evidence attached, conduct
complaints hold collection contact, duplicates merge, and closing needs a complete notice — both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.collections import service as collections
from xiaodai.collections.contact_facts import Attempt
from xiaodai.complaints import service as complaints

SH = ZoneInfo("Asia/Shanghai")
CONTEXT = {"borrower": {"timezone": "Asia/Shanghai", "phones": [{"id": "M1", "type": "mobile"}]}, "flags": {}}
CALL = Attempt("contact", "call", phone_id="M1")


def test_conduct_complaint_holds_collection_until_closed(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    received = datetime(2026, 3, 2, 10, 0, tzinfo=SH)
    with factory() as s, s.begin():
        collections.open_case(s, loan_id=loan_id, context=CONTEXT)
        filed = complaints.file_complaint(
            s,
            narrative="你们的催收员每天晚上十一点还打电话，还打给我的同事，太过分了。",
            channel="portal",
            received_at=received,
            loan_id=loan_id,
        )
    assert filed["regulatory_deadline"] == "2026-03-17T23:59:59+08:00"
    assert filed["category"] == "collection_conduct"
    assert filed["collection_hold"] is True
    with factory() as s, s.begin():
        blocked = collections.attempt_contact(
            s, loan_id=loan_id, attempt=CALL, as_of=datetime(2026, 3, 3, 10, tzinfo=SH), actor="collector"
        )
    assert blocked["reason"] == "HOLD_COMPLAINT"
    with factory() as s:
        queue = complaints.queue(s, as_of=datetime(2026, 3, 3, 10, tzinfo=SH))
    assert queue[0]["complaint_id"] == filed["complaint_id"]
    assert "ledger_lines" in queue[0]["evidence"]
    with pytest.raises(complaints.ComplaintError, match="remedies"), factory() as s, s.begin():
        complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=datetime(2026, 3, 10, tzinfo=SH),
            remedies=[],
            root_cause="COLLECTOR_HOURS",
            notice={"verification_summary": "x", "basis": "y", "reasons": "z", "remedies": "review"},
        )
    with pytest.raises(complaints.ComplaintError, match="basis"), factory() as s, s.begin():
        complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=datetime(2026, 3, 10, tzinfo=SH),
            remedies=[{"kind": "apology"}],
            root_cause="COLLECTOR_HOURS",
            notice={"verification_summary": "x", "reasons": "z", "remedies": "review"},
        )
    with factory() as s, s.begin():
        closed = complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=datetime(2026, 3, 10, 16, tzinfo=SH),
            remedies=[{"kind": "apology"}, {"kind": "staff_coaching"}],
            root_cause="COLLECTOR_HOURS",
            notice={
                "verification_summary": "调取通话记录核实",
                "basis": "催收工作指引",
                "reasons": "夜间致电属实",
                "remedies": "道歉并整改",
                "remedy_channels": ["review", "mediation", "arbitration", "litigation"],
            },
        )
    assert closed["sla"]["sla_status"] == "on_time"
    with factory() as s, s.begin():
        after = collections.attempt_contact(
            s, loan_id=loan_id, attempt=CALL, as_of=datetime(2026, 3, 11, 10, tzinfo=SH), actor="collector"
        )
    assert after["decision"] == "allow"


def test_duplicate_merges_and_restarts_the_clock(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    from xiaodai.accounts.service import sign_up

    loan_id = new_loan()
    with factory() as s, s.begin():
        user_id = sign_up(s, email="dup@example.com", name="赵六", password="correct horse 1").id
    text = "借款时没有告诉我有服务费，实际年化利率比宣传的高很多。"
    with factory() as s, s.begin():
        first = complaints.file_complaint(
            s,
            narrative=text,
            channel="portal",
            user_id=user_id,
            loan_id=loan_id,
            received_at=datetime(2026, 3, 2, 10, tzinfo=SH),
        )
    with factory() as s, s.begin():
        again = complaints.file_complaint(
            s,
            narrative=text + " 还多收了一笔手续费。",
            channel="phone",
            user_id=user_id,
            loan_id=loan_id,
            received_at=datetime(2026, 3, 6, 10, tzinfo=SH),
        )
    assert again["merged"] is True
    assert again["complaint_id"] == first["complaint_id"]
    # no new facts: a duplicate merged, the clock unchanged (day 15 = Mar 17)
    assert again["regulatory_deadline"] == "2026-03-17T23:59:59+08:00"
    with factory() as s, s.begin():
        third = complaints.file_complaint(
            s,
            narrative=text + " 另外我找到了当时的宣传截图，写的是年化7.2%。",
            channel="phone",
            user_id=user_id,
            loan_id=loan_id,
            received_at=datetime(2026, 3, 8, 10, tzinfo=SH),
            new_facts=True,
        )
    assert third["complaint_id"] == first["complaint_id"]
    assert third["regulatory_deadline"] == "2026-03-23T23:59:59+08:00"  # new facts restart the 15 days


def test_bad_intake(factory: sessionmaker[Session]) -> None:
    with pytest.raises(complaints.ComplaintError, match="description"), factory() as s, s.begin():
        complaints.file_complaint(
            s, narrative="  ", channel="portal", received_at=datetime(2026, 3, 2, tzinfo=SH)
        )


def test_monthly_report_and_regulator_export(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    from xiaodai.complaints.report import monthly_report, regulator_csv

    loan_id = new_loan()
    with factory() as s, s.begin():
        a = complaints.file_complaint(
            s,
            narrative="提前还款还要收全部利息，不合理。",
            channel="portal",
            loan_id=loan_id,
            received_at=datetime(2026, 3, 2, 10, tzinfo=SH),
        )
        complaints.file_complaint(
            s,
            narrative="客服一直不回复我的问题。",
            channel="phone",
            received_at=datetime(2026, 3, 5, 10, tzinfo=SH),
            forwarded_by="PBOC",
        )
    with factory() as s, s.begin():
        complaints.close(
            s,
            public_id=a["complaint_id"],
            at=datetime(2026, 3, 9, 10, tzinfo=SH),
            remedies=[{"kind": "refund_interest", "amount": "35.20"}],
            root_cause="PAYOFF_INTEREST_RULE",
            notice={
                "verification_summary": "核对还款记录",
                "basis": "民法典第677条",
                "reasons": "按实际使用天数计息",
                "remedies": "退还多收利息",
            },
        )
    now = datetime(2026, 4, 1, tzinfo=SH)
    with factory() as s:
        report = monthly_report(s, month="2026-03", as_of=now)
        csv_text = regulator_csv(s, month="2026-03", as_of=now)
    assert report["complaints"] == 2
    assert report["escalated_to_regulator"] == 1
    assert report["closed_with_monetary_relief"] == 1.0
    assert report["top_root_causes"] == [("PAYOFF_INTEREST_RULE", 1)]
    assert csv_text.splitlines()[0].startswith("complaint_id,date_received,product")
    assert len(csv_text.splitlines()) == 3


def test_escalation_at_70_and_90_percent_once_each(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        filed = complaints.file_complaint(
            s,
            narrative="客服一直不回复我的问题。",
            channel="phone",
            received_at=datetime(2026, 3, 2, 10, tzinfo=SH),
        )
    with factory() as s, s.begin():
        assert complaints.escalate(s, as_of=datetime(2026, 3, 5, tzinfo=SH)) == []
    with factory() as s, s.begin():
        first = complaints.escalate(s, as_of=datetime(2026, 3, 14, tzinfo=SH))
    with factory() as s, s.begin():
        again = complaints.escalate(s, as_of=datetime(2026, 3, 14, 1, tzinfo=SH))
        later = complaints.escalate(s, as_of=datetime(2026, 3, 16, 18, tzinfo=SH))
    assert [e["level"] for e in first] == ["70%"]
    assert first[0]["complaint_id"] == filed["complaint_id"]
    assert "complaints-manager" in first[0]["notify"]
    assert again == []
    assert [e["level"] for e in later] == ["90%"]


def test_monetary_remedies_are_posted_through_servicing(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    from xiaodai.ledger import service as ledger

    loan_id = new_loan(upfront="200")
    with factory() as s, s.begin():
        filed = complaints.file_complaint(
            s,
            narrative="借款时没有告诉我有200元服务费。",
            channel="portal",
            loan_id=loan_id,
            received_at=datetime(2026, 1, 20, 10, tzinfo=SH),
        )
    with factory() as s, s.begin():
        closed = complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=datetime(2026, 1, 25, 10, tzinfo=SH),
            root_cause="FEE_NOT_SHOWN",
            remedies=[{"kind": "refund_fee", "amount": "200.00"}, {"kind": "apology"}],
            notice={
                "verification_summary": "核对签约记录",
                "basis": "关键信息说明书",
                "reasons": "费用展示不清",
                "remedies": "退还服务费",
            },
        )
    assert [p["kind"] for p in closed["posted"]] == ["refund_fee"]
    with factory() as s:
        balances = ledger.trial_balance(s)
        assert ledger.check(s) == []
    assert balances["income:fees"] == 0  # the 200.00 fee income was reversed
    assert balances["liabilities:borrowers:overpayment"] == -20_000  # held for the borrower
    with factory() as s, s.begin():
        other = complaints.file_complaint(
            s,
            narrative="客服不回复",
            channel="phone",
            received_at=datetime(2026, 1, 26, tzinfo=SH),
            loan_id=loan_id,
        )
    notice = {"verification_summary": "a", "basis": "b", "reasons": "c", "remedies": "d"}
    with pytest.raises(complaints.ComplaintError, match="unknown remedy"), factory() as s, s.begin():
        complaints.close(
            s,
            public_id=other["complaint_id"],
            at=datetime(2026, 1, 27, tzinfo=SH),
            remedies=[{"kind": "gift_card"}],
            root_cause="OTHER",
            notice=notice,
        )


def test_fee_dispute_suspends_penalty_until_closed_and_review_window(
    factory: sessionmaker[Session], engine: object, new_loan: Callable[..., int]
) -> None:
    from datetime import date

    from sqlalchemy import select

    from xiaodai.db.tables import LoanRow
    from xiaodai.servicing.eod import run_eod

    loan_id = new_loan()
    with factory() as s, s.begin():
        filed = complaints.file_complaint(
            s,
            narrative="借款时没有告诉我有服务费，年化利率比说的高。",
            channel="portal",
            loan_id=loan_id,
            received_at=datetime(2026, 2, 11, 10, tzinfo=SH),
        )
    assert filed["penalty_suspended"] is True
    run_eod(engine, date(2026, 2, 20))  # type: ignore[arg-type]  # overdue since 2026-02-10, but disputed
    with factory() as s:
        loan = s.execute(select(LoanRow).where(LoanRow.id == loan_id)).scalar_one()
        assert loan.penalties_charged_fen == 0
        assert loan.dpd == 10
    with factory() as s, s.begin():
        complaints.close(
            s,
            public_id=filed["complaint_id"],
            at=datetime(2026, 2, 21, 10, tzinfo=SH),
            remedies=[{"kind": "explanation"}],
            root_cause="DISCLOSURE_READ",
            notice={"verification_summary": "a", "basis": "b", "reasons": "c", "remedies": "d"},
        )
    run_eod(engine, date(2026, 2, 23))  # type: ignore[arg-type]
    with factory() as s:
        assert s.execute(select(LoanRow.penalties_charged_fen).where(LoanRow.id == loan_id)).scalar_one() > 0
    with factory() as s, s.begin():
        review = complaints.request_review(
            s, public_id=filed["complaint_id"], at=datetime(2026, 3, 1, tzinfo=SH)
        )
    assert review["review_deadline"] == "2026-03-31"
    with pytest.raises(complaints.ComplaintError, match="closed"), factory() as s, s.begin():
        complaints.request_review(s, public_id=filed["complaint_id"], at=datetime(2026, 3, 2, tzinfo=SH))
