"""The credit_reporting suite read as the format writes it: notice type, delivery, limited content."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from xiaodai.conformance.runner import run_scenario

AT_CN = "2026-03-12T02:00:00+08:00"
AT_US = "2026-04-06T02:00:00-05:00"


def cn(notices: list[dict[str, Any]]) -> dict[str, Any]:
    given = {"debt": {"id": "L1", "days_past_due": 35}, "notices_sent": notices}
    when = {"action": "submit_negative_record", "at": AT_CN}
    scenario = {"id": "R", "profile": "CN", "suite": "credit_reporting", "given": given, "when": when}
    return run_scenario(scenario).line


def us(communications: list[dict[str, Any]]) -> dict[str, Any]:
    given = {"collector_role": "third_party_debt_collector", "communications_with_consumer": communications}
    when = {"action": "furnish_to_cra", "at": AT_US}
    scenario = {"id": "R", "profile": "US_RegF", "suite": "credit_reporting", "given": given, "when": when}
    return run_scenario(scenario).line


def notice(**extra: Any) -> dict[str, Any]:
    return {
        "type": "negative_info_prior_notice",
        "at": "2026-03-01T10:00:00+08:00",
        "channels": ["sms"],
        **extra,
    }


@pytest.mark.parametrize(
    ("notices", "reason"),
    [
        ([notice(delivered=True)], "ALLOWED"),
        ([notice()], "ALLOWED"),  # delivery not known: counted as a recorded notice is
        ([notice(delivered=False)], "CREDIT_REPORT_NO_PRIOR_NOTICE"),
        ([notice(type="collection_reminder", delivered=True)], "CREDIT_REPORT_NO_PRIOR_NOTICE"),
        ([notice(at="2026-03-12T03:00:00+08:00", delivered=True)], "CREDIT_REPORT_NO_PRIOR_NOTICE"),  # after
        ([notice(at=AT_CN, delivered=True)], "ALLOWED"),  # at the same moment: before, not after
        ([notice(delivered=False), notice(delivered=True)], "ALLOWED"),
        ([], "CREDIT_REPORT_NO_PRIOR_NOTICE"),
    ],
)
def test_cn_prior_notice(notices: list[dict[str, Any]], reason: str) -> None:
    assert cn(notices)["reason"] == reason


def letter(days_before: int, **extra: Any) -> dict[str, Any]:
    sent = datetime.fromisoformat(AT_US) - timedelta(days=days_before)
    return {"at": sent.isoformat(), "channel": "letter", "kind": "validation_notice", **extra}


@pytest.mark.parametrize(
    ("communications", "reason"),
    [
        # 1006.30(a)(1)(ii): 14 consecutive days AFTER the mailing date; D+14 is still inside the period
        ([letter(15)], "ALLOWED"),
        ([letter(14)], "CREDIT_REPORT_PASSIVE_COLLECTION"),
        ([letter(13)], "CREDIT_REPORT_PASSIVE_COLLECTION"),
        ([letter(20, undeliverable_notice_received=True)], "CREDIT_REPORT_PASSIVE_COLLECTION"),
        (
            [{"at": "2026-03-20T09:00:00-05:00", "channel": "call", "kind": "limited_content_message"}],
            "CREDIT_REPORT_PASSIVE_COLLECTION",
        ),
    ],
)
def test_us_communication_before_furnishing(communications: list[dict[str, Any]], reason: str) -> None:
    assert us(communications)["reason"] == reason


def test_a_notice_without_its_time_is_an_error_line() -> None:
    line = cn([{"type": "negative_info_prior_notice"}])
    assert line["decision"] == "error"
    assert "given.notices_sent[0].at" in line["reason"]
