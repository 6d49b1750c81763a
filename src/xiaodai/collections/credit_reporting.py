"""Negative credit reporting: only after the borrower was told (pure, typed inputs).

CN — 征信业管理条例 Art. 15: negative information may be provided only after notifying the person. A notice
counts from the moment it was sent, unless it is known not to have been delivered; the house may add a
waiting period after the notice (``house_waiting_days``).
US — 12 CFR 1006.30(a)(1): a debt collector may not furnish before it has communicated with the consumer
about the debt: (i) spoken with them in person or by telephone, or (ii) mailed a letter or sent an electronic
message and waited a reasonable time without receiving a notice that it was undeliverable: "a period of 14
consecutive days after the date that the debt collector places a letter in the mail or sends an electronic
message is a reasonable time period" — the days after the mailing date, so a letter mailed on day D allows
furnishing from day D+15 (the furnishing's local date). A limited-content message is not a communication
(1006.2(j)) and does not count. A creditor furnishing its own accounts is outside 1006.30 (FCRA §623(a)(7)
lets it notify up to 30 days after the first negative furnishing), so it is not blocked here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

NOTICE_KINDS = frozenset(
    {"negative_info_prior_notice", "negative_record_notice", "credit_report_notice", "pre_reporting_notice"}
)
US_SAFE_HARBOUR_DAYS = 14
SPOKEN_CHANNELS = frozenset({"call", "in_person", "visit", "voice"})
WRITTEN_CHANNELS = frozenset({"letter", "email", "sms", "app_push", "im"})
SPOKEN_OUTCOMES = frozenset({"spoke", "connected_conversation"})


@dataclass(frozen=True, slots=True)
class PriorNotice:
    """CN: a notice to the borrower that negative information will be reported."""

    kind: str
    at: datetime
    channels: tuple[str, ...] = ()
    delivered: bool | None = None  # None: not known (sent counts); False: known not delivered


@dataclass(frozen=True, slots=True)
class ConsumerCommunication:
    """US: a communication with the consumer before furnishing."""

    at: datetime
    channel: str
    kind: str | None = None  # validation_notice | limited_content_message | …
    outcome: str | None = None  # for calls: connected_conversation (spoken) or not
    undeliverable_notice_received: bool = False


@dataclass(frozen=True, slots=True)
class ReportingVerdict:
    decision: str  # allow | block
    reason: str
    reasons: tuple[str, ...]
    earliest_at: datetime | None = None  # when the block would lift on the facts known


def _allow() -> ReportingVerdict:
    return ReportingVerdict("allow", "ALLOWED", ("ALLOWED",))


def _us(
    collector_role: str | None, communications: Sequence[ConsumerCommunication], at: datetime
) -> ReportingVerdict:
    if collector_role == "creditor":
        return _allow()
    earliest: datetime | None = None
    for comm in communications:
        if comm.at > at or comm.kind == "limited_content_message":
            continue
        if comm.channel in SPOKEN_CHANNELS:
            if comm.outcome is None or comm.outcome in SPOKEN_OUTCOMES:
                return _allow()
            continue
        if comm.channel in WRITTEN_CHANNELS and not comm.undeliverable_notice_received:
            sent_on = comm.at.astimezone(at.tzinfo).date()
            first_free_day = sent_on + timedelta(days=US_SAFE_HARBOUR_DAYS + 1)
            if at.date() >= first_free_day:
                return _allow()
            opens = datetime.combine(first_free_day, time(0), tzinfo=at.tzinfo)
            earliest = opens if earliest is None else min(earliest, opens)
    code = "CREDIT_REPORT_PASSIVE_COLLECTION"
    return ReportingVerdict("block", code, (code,), earliest)


def _cn(notices: Sequence[PriorNotice], at: datetime, house_waiting_days: int) -> ReportingVerdict:
    wait = timedelta(days=house_waiting_days)
    earliest: datetime | None = None
    for notice in notices:
        if notice.kind not in NOTICE_KINDS or notice.delivered is False:
            continue
        if notice.at + wait <= at:
            return _allow()
        earliest = notice.at + wait if earliest is None else min(earliest, notice.at + wait)
    code = "CREDIT_REPORT_NO_PRIOR_NOTICE"
    return ReportingVerdict("block", code, (code,), earliest)


def evaluate_reporting(
    profile: str,
    *,
    at: datetime,
    notices: Sequence[PriorNotice] = (),
    communications: Sequence[ConsumerCommunication] = (),
    collector_role: str | None = None,
    house_waiting_days: int = 0,
) -> ReportingVerdict:
    """May negative information be furnished at ``at``? (``submit_negative_record`` / ``furnish_to_cra``)."""
    if at.tzinfo is None:
        raise ValueError("at must carry its UTC offset")
    if profile.startswith("US"):
        return _us(collector_role, communications, at)
    return _cn(notices, at, house_waiting_days)
