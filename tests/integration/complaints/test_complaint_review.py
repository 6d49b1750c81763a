"""The service's review and regulator-feedback steps use the pure clocks (``evaluate_review_eligibility``,
``evaluate_review_sla``, ``evaluate_sla``) over the stored events — both databases."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.complaints import service as complaints

SH = ZoneInfo("Asia/Shanghai")
NOTICE = {
    "verification_summary": "核查录音",
    "basis": "合同第5条",
    "reasons": "理由",
    "remedies": "调解/仲裁/诉讼",
}


def _closed(s: Session, *, forwarded_by: str | None = None) -> str:
    filed = complaints.file_complaint(
        s,
        narrative="客服电话一直打不通，问题两周没人处理。",
        channel="phone",
        forwarded_by=forwarded_by,
        received_at=datetime(2026, 3, 2, 10, tzinfo=SH),
    )
    complaints.close(
        s,
        public_id=filed["complaint_id"],
        at=datetime(2026, 3, 16, 10, tzinfo=SH),
        notice=NOTICE,
        root_cause="OTHER",
        remedies=[{"kind": "explanation"}],
    )
    return str(filed["complaint_id"])


def test_review_request_day_30_allowed_day_31_refused(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        in_time, too_late = _closed(s), _closed(s)
    with factory() as s, s.begin():
        review = complaints.request_review(s, public_id=in_time, at=datetime(2026, 4, 15, 23, 59, tzinfo=SH))
    assert review["review_deadline"] == "2026-05-15"
    with pytest.raises(complaints.ComplaintError, match="30-day window"), factory() as s, s.begin():
        complaints.request_review(s, public_id=too_late, at=datetime(2026, 4, 16, 0, 0, tzinfo=SH))
    with factory() as s, s.begin():
        decided = complaints.decide_review(
            s, public_id=in_time, at=datetime(2026, 5, 15, 18, tzinfo=SH), officer="officer-1"
        )
    assert (decided["status"], decided["review"]["reason"]) == ("closed", "REVIEW_SLA_MET")
    with pytest.raises(complaints.ComplaintError, match="no review"), factory() as s, s.begin():
        complaints.decide_review(s, public_id=too_late, at=datetime(2026, 5, 1, tzinfo=SH), officer="o")


def test_regulator_feedback_late_is_a_breach(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        forwarded, own = _closed(s, forwarded_by="PBOC"), _closed(s)
    with factory() as s, s.begin():
        out = complaints.report_to_regulator(
            s,
            public_id=forwarded,
            at=datetime(2026, 3, 18, 9, tzinfo=SH),
            level="PBOC_branch",
            fields=["result"],
        )
    assert (out["sla"]["profile"], out["sla"]["sla_status"], out["sla"]["reason"]) == (
        "CN_PBOC",
        "breach",
        "REGULATOR_FEEDBACK_LATE",
    )
    with pytest.raises(complaints.ComplaintError, match="forwarded"), factory() as s, s.begin():
        complaints.report_to_regulator(
            s, public_id=own, at=datetime(2026, 3, 17, tzinfo=SH), level=None, fields=[]
        )
