"""Negative reporting: CN prior notice (征信业管理条例 Art. 15); US 1006.30(a)(1) passive collection."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from xiaodai.collections.credit_reporting import ConsumerCommunication, PriorNotice, evaluate_reporting

SH = ZoneInfo("Asia/Shanghai")
CHI = ZoneInfo("America/Chicago")
AT = datetime(2026, 3, 12, 2, 0, tzinfo=SH)


def test_cn_needs_a_notice_before_the_submission() -> None:
    assert evaluate_reporting("CN", at=AT).reason == "CREDIT_REPORT_NO_PRIOR_NOTICE"
    notice = PriorNotice("negative_info_prior_notice", AT - timedelta(days=1), ("sms",))
    assert evaluate_reporting("CN", at=AT, notices=[notice]).decision == "allow"
    same_moment = PriorNotice("negative_info_prior_notice", AT)
    assert evaluate_reporting("CN", at=AT, notices=[same_moment]).decision == "allow"
    after = PriorNotice("negative_info_prior_notice", AT + timedelta(seconds=1))
    assert evaluate_reporting("CN", at=AT, notices=[after]).decision == "block"
    lost = PriorNotice("negative_info_prior_notice", AT - timedelta(days=1), delivered=False)
    assert evaluate_reporting("CN", at=AT, notices=[lost]).decision == "block"
    waiting = evaluate_reporting("CN", at=AT, notices=[notice], house_waiting_days=7)
    assert waiting.decision == "block"
    assert waiting.earliest_at == notice.at + timedelta(days=7)


def test_us_collector_must_communicate_first() -> None:
    at = datetime(2026, 4, 6, 2, 0, tzinfo=CHI)
    # mailed Mar 22: the 14 days after it are Mar 23 - Apr 5, so Apr 6 is the first day to furnish
    letter = ConsumerCommunication(datetime(2026, 3, 22, 9, 0, tzinfo=CHI), "letter", "validation_notice")
    assert evaluate_reporting("US_RegF", at=at, communications=[letter]).decision == "allow"
    early = ConsumerCommunication(datetime(2026, 3, 23, 9, 0, tzinfo=CHI), "letter", "validation_notice")
    blocked = evaluate_reporting("US_RegF", at=at, communications=[early])
    assert blocked.reason == "CREDIT_REPORT_PASSIVE_COLLECTION"  # Apr 6 is the 14th day after Mar 23
    assert blocked.earliest_at == datetime(2026, 4, 7, 0, 0, tzinfo=CHI)
    returned = ConsumerCommunication(
        letter.at, "letter", "validation_notice", undeliverable_notice_received=True
    )
    assert evaluate_reporting("US_RegF", at=at, communications=[returned]).decision == "block"
    limited = ConsumerCommunication(letter.at, "call", "limited_content_message")
    assert evaluate_reporting("US_RegF", at=at, communications=[limited]).decision == "block"
    spoke = ConsumerCommunication(at - timedelta(hours=1), "call", outcome="connected_conversation")
    assert evaluate_reporting("US_RegF", at=at, communications=[spoke]).decision == "allow"
    no_answer = ConsumerCommunication(at - timedelta(hours=1), "call", outcome="no_answer")
    assert evaluate_reporting("US_RegF", at=at, communications=[no_answer]).decision == "block"
    assert evaluate_reporting("US_RegF", at=at, collector_role="creditor").decision == "allow"
