"""Negative credit reporting: only after the borrower was told (pure).

CN — 征信业管理条例 Art. 15: negative information may be provided only after notifying the person.
US — 12 CFR 1006.30(a)(1): a debt collector may not furnish before communicating with the consumer (spoken
to them, or sent a letter / electronic message and waited a reasonable time — 14 days is the safe
harbour — without a notice that it was undeliverable). A first-party creditor is not covered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

NOTICE_KINDS = frozenset({"negative_record_notice", "credit_report_notice", "pre_reporting_notice"})
US_SAFE_HARBOUR = timedelta(days=14)


def evaluate_reporting(
    profile: str, given: Mapping[str, Any], when: Mapping[str, Any], *, house_waiting_days: int = 0
) -> tuple[str, str, list[str]]:
    """(decision, reason, reasons) for ``submit_negative_record`` / ``furnish_to_cra``."""
    at = datetime.fromisoformat(str(when["at"]))
    if profile.startswith("US"):
        if given.get("collector_role", "third_party_debt_collector") != "third_party_debt_collector":
            return "allow", "ALLOWED", ["ALLOWED"]
        for comm in given.get("communications_with_consumer", []) or []:
            sent = datetime.fromisoformat(str(comm["at"]))
            if sent > at:
                continue
            if comm.get("channel") in ("call", "in_person") and comm.get("outcome", "spoke") in (
                "spoke",
                "connected_conversation",
            ):
                return "allow", "ALLOWED", ["ALLOWED"]
            if (
                comm.get("channel") in ("letter", "email", "sms")
                and not comm.get("undeliverable_notice_received")
                and at - sent >= US_SAFE_HARBOUR
            ):
                return "allow", "ALLOWED", ["ALLOWED"]
        return "block", "CREDIT_REPORT_PASSIVE_COLLECTION", ["CREDIT_REPORT_PASSIVE_COLLECTION"]
    wait = timedelta(days=house_waiting_days)
    for notice in given.get("notices_sent", []) or []:
        kind = notice.get("kind", "negative_record_notice")
        sent = datetime.fromisoformat(str(notice["at"]))
        if kind in NOTICE_KINDS and sent + wait <= at and not notice.get("undeliverable"):
            return "allow", "ALLOWED", ["ALLOWED"]
    return "block", "CREDIT_REPORT_NO_PRIOR_NOTICE", ["CREDIT_REPORT_NO_PRIOR_NOTICE"]
