"""Call-frequency rules of the contact-policy engine (pure).

CN (GB/T 45251-2025 §5.3; CBA 2026 guideline): at most 3 connected collector-initiated voice conversations
with one debtor per local calendar day (AI voice included; the debtor's own calls never count) and at most
6 dial attempts to one contact method per day.

US (12 CFR 1006.14(b)): per debt and per person, a call is presumed harassing when it would be the 8th
placed within 7 consecutive days, or falls within 7 days after a telephone conversation (the conversation
day is day 1). Not counted (1006.14(b)(3)): calls not connected to the dialled number (busy signal, number
not in service), calls within 7 days of prior consent given directly to the collector, calls to the
consumer's attorney. No-answer calls and voicemails (limited-content ones included) count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from xiaodai.collections.contact_facts import BORROWER_TARGETS, Attempt, ContactCase, PriorContact

if TYPE_CHECKING:
    from xiaodai.collections.contact_policy import Profile


def _day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _opening(day: date, profile: Profile, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, profile.hours()[0], tzinfo=zone)


def _consent_covers(case: ContactCase, at: datetime, zone: ZoneInfo, days: int) -> bool:
    """1006.14(b)(3)(i): consent given directly to the collector covers 7 days, the day it was given first."""
    consent = case.flags.prior_consent_to_call
    if consent is None or consent.given_directly_to_collector is not True or consent.given_at > at:
        return False
    return (_day(at, zone) - _day(consent.given_at, zone)).days < days


def frequency(
    profile: Profile,
    case: ContactCase,
    history: Sequence[PriorContact],
    attempt: Attempt,
    *,
    as_of: datetime,
    zone: ZoneInfo,
) -> tuple[list[str], list[str], datetime | None]:
    """(blocked reasons, allowed notes, next allowed time) for one voice attempt."""
    rules = profile.frequency
    voice = profile.frequency_set("voice_channels")
    if (
        attempt.action == "answer_inbound"
        or attempt.channel not in voice
        or attempt.target_type == "attorney"
    ):
        return [], [], None
    initiators = profile.frequency_set("collector_initiators")
    connected = profile.frequency_set("connected_outcomes")
    today = _day(as_of, zone)
    # nothing older than the longest window (7 days, the quiet week) can matter; a day of margin for zones
    oldest = as_of - timedelta(days=max(7, int(rules.get("quiet_days_after_conversation", 7))) + 1)
    recent = [c for c in history if oldest <= c.at <= as_of and c.channel in voice]
    if attempt.to_borrower:
        earlier = [c for c in recent if c.target in BORROWER_TARGETS]
    else:
        earlier = [c for c in recent if c.contact_id is not None and c.contact_id == attempt.contact_id]
    placed = [c for c in earlier if c.initiated_by in initiators]
    if not profile.us:
        return _cn(profile, placed, attempt, today=today, zone=zone, connected=connected)
    days = int(rules.get("consent_days", 7))
    if _consent_covers(case, as_of, zone, days):
        # excluded from both presumptions; reported only when the consent is what let the call through
        without, _ = _us(profile, case, earlier, placed, today=today, zone=zone, consent_days=0)
        return [], ["ALLOWED_PRIOR_CONSENT"] if without else [], None
    out, next_at = _us(profile, case, earlier, placed, today=today, zone=zone, consent_days=days)
    return out, [], next_at


def _us(
    profile: Profile,
    case: ContactCase,
    earlier: list[PriorContact],
    placed: list[PriorContact],
    *,
    today: date,
    zone: ZoneInfo,
    consent_days: int,
) -> tuple[list[str], datetime | None]:
    rules = profile.frequency
    connected = profile.frequency_set("connected_outcomes")
    excluded = profile.frequency_set("excluded_outcomes")
    out: list[str] = []
    next_at: datetime | None = None
    quiet = int(rules.get("quiet_days_after_conversation", 7))
    # a telephone conversation starts the quiet period whoever placed the call
    talks = sorted((c for c in earlier if c.outcome in connected), key=lambda c: c.at, reverse=True)
    for talk in talks:
        first = _day(talk.at, zone)
        last = first + timedelta(days=quiet - 1)
        if first <= today <= last:
            out.append("FREQ_7DAY_AFTER_CONVERSATION")
            next_at = _opening(last + timedelta(days=1), profile, zone)
            break
    window_start = _midnight(today - timedelta(days=6), zone)
    counted_at = [
        c.at
        for c in placed
        if c.at >= window_start
        and c.outcome not in excluded
        and not _consent_covers(case, c.at, zone, consent_days)
    ]
    limit = int(rules.get("max_calls_per_7_days_per_debt", 7))
    if len(counted_at) >= limit:
        out.append("FREQ_7IN7_ATTEMPTS")
        counted = [_day(at, zone) for at in counted_at]
        for ahead in range(1, 8):
            day = today + timedelta(days=ahead)
            if sum(day - timedelta(days=6) <= d <= day for d in counted) < limit:
                candidate = _opening(day, profile, zone)
                next_at = max(next_at, candidate) if next_at else candidate
                break
    return out, next_at


def _cn(
    profile: Profile,
    placed: list[PriorContact],
    attempt: Attempt,
    *,
    today: date,
    zone: ZoneInfo,
    connected: frozenset[str],
) -> tuple[list[str], list[str], datetime | None]:
    rules = profile.frequency
    start = _midnight(today, zone)
    todays = [c for c in placed if c.at >= start]  # placed calls are all at or before as_of
    out: list[str] = []
    limit = rules.get("max_connected_collector_initiated_voice_per_debtor_per_day")
    if attempt.to_borrower and limit is not None and sum(c.outcome in connected for c in todays) >= limit:
        out.append("FREQ_CONNECTED_LIMIT")
    dial_limit = rules.get("max_dial_attempts_per_contact_method_per_day")
    same_method = [c for c in todays if c.phone_id == attempt.phone_id]
    if dial_limit is not None and len(same_method) >= dial_limit:
        out.append("FREQ_ATTEMPT_LIMIT")
    next_at = _opening(today + timedelta(days=1), profile, zone) if out else None
    return out, [], next_at
