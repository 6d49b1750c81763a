"""The contact-policy engine (pure): every collection contact is evaluated BEFORE it happens.

``evaluate(profile, case, history, attempt, as_of) -> Verdict``. The inputs are typed values
(``contact_facts``); JSON documents are translated at the edge (``contact_document``). A blocked verdict
carries the primary reason (the most specific rule that decided: the profile's ``reason_precedence``) and
every other rule the attempt breaks. Profiles (``data/profile_*.json``) are versioned data; a lender derives
a stricter profile with ``{"extends": "CN", …}`` (``derive_profile`` refuses any loosening).

The rules, one module each (RULES.md §2; the rule matrix is docs/domains/collections.md):
- here: public posting, holds (cease, attorney, dispute, complaint, hardship plan), channel (opt-outs,
  workplace, employer e-mail, social media) and hours in the borrower's local time (every candidate zone);
- ``contact_frequency``: CN connected conversations and dial attempts per day; US 7-in-7 and the quiet week;
- ``contact_parties``: third parties, shared lines and limited-content voicemails, amounts above the cost
  cap, and the message screen (``content_screen``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.collections.contact_facts import (
    Attempt,
    ContactCase,
    Context,
    OptOut,
    PriorContact,
)
from xiaodai.collections.contact_frequency import frequency
from xiaodai.collections.contact_parties import Parties, judge_parties
from xiaodai.collections.content_screen import REASON_CODES as CONTENT_CODES
from xiaodai.collections.us_location import zones_for_area_code, zones_for_state

__all__ = [
    "ALLOWED",
    "SERVICE_PURPOSES",
    "Attempt",
    "ContactCase",
    "Context",
    "PriorContact",
    "Profile",
    "ProfileError",
    "Verdict",
    "derive_profile",
    "evaluate",
    "load_profile",
    "zones_of",
]

ALLOWED = "ALLOWED"
# Messages that are service, not collection: they pass complaint, hardship and dispute holds (house policy).
SERVICE_PURPOSES = frozenset(
    {
        "hardship_offer",
        "plan_confirmation",
        "complaint_update",
        "payment_receipt",
        "cease_exception_termination_notice",
        "dispute_verification",
        "verification_notice",
        "account_notice",  # a notice about the account itself (a limit decreased or frozen, with its reason)
    }
)
# Media: an opt-out from calls covers every voice contact to that number, voicemails included.
MEDIUM = {"voice": "call", "ai_voice": "call", "voicemail": "call", "wechat": "im"}


class ProfileError(ValueError):
    """A profile is unknown, malformed, or loosens the profile it extends."""


@dataclass(frozen=True)
class Profile:
    name: str
    version: str
    raw: Mapping[str, Any]
    # derived values, computed once per profile (the engine asks for them on every attempt)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    us: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "us", bool(self.raw.get("us_rules")))

    def hours(self) -> tuple[time, time]:
        hours: tuple[time, time] | None = self._memo.get("@hours")
        if hours is None:
            start, end = self.raw["allowed_hours"]
            hours = self._memo["@hours"] = (time.fromisoformat(start), time.fromisoformat(end))
        return hours

    @property
    def frequency(self) -> Mapping[str, Any]:
        return self.raw.get("frequency", {})  # type: ignore[no-any-return]

    def section(self, key: str) -> Mapping[str, Any]:
        section: Mapping[str, Any] = self.raw.get(key) or {}
        return section

    def frequency_set(self, key: str) -> frozenset[str]:
        found: frozenset[str] | None = self._memo.get("frequency." + key)
        if found is None:
            found = self._memo["frequency." + key] = frozenset(self.frequency.get(key) or ())
        return found

    def listed(self, key: str) -> frozenset[str]:
        found: frozenset[str] | None = self._memo.get(key)
        if found is None:
            found = self._memo[key] = frozenset(self.raw.get(key) or ())
        return found


def _packaged(name: str) -> dict[str, Any]:
    try:
        text = resources.files("xiaodai.collections").joinpath(f"data/profile_{name}.json").read_text("utf-8")
    except FileNotFoundError:
        raise ProfileError(f"unknown contact profile {name!r} (known: CN, US_RegF)") from None
    return dict(json.loads(text))


def load_profile(name: str) -> Profile:
    raw = _packaged(name)
    return Profile(raw["name"], str(raw["version"]), raw)


_STRICTER_IS_SMALLER = (
    "max_connected_collector_initiated_voice_per_debtor_per_day",
    "max_dial_attempts_per_contact_method_per_day",
    "max_calls_per_7_days_per_debt",
)


def derive_profile(spec: Mapping[str, Any]) -> Profile:
    """A lender's own profile: ``extends`` a packaged one and may only tighten it."""
    base = load_profile(str(spec.get("extends", "")))
    merged: dict[str, Any] = json.loads(json.dumps(base.raw))
    for key, value in spec.items():
        if key == "frequency":
            merged["frequency"] = {**merged.get("frequency", {}), **value}
        elif key != "extends":
            merged[key] = value
    start, end = (time.fromisoformat(h) for h in merged["allowed_hours"])
    base_start, base_end = base.hours()
    if start < base_start or end > base_end:
        raise ProfileError("a derived profile may not widen the allowed hours")
    for key in _STRICTER_IS_SMALLER:
        if key in base.frequency and merged["frequency"].get(key, 0) > base.frequency[key]:
            raise ProfileError(f"a derived profile may not raise {key}")
    if merged["frequency"].get("quiet_days_after_conversation", 0) < base.frequency.get(
        "quiet_days_after_conversation", 0
    ):
        raise ProfileError("a derived profile may not shorten the quiet period")
    merged["holds"] = sorted(set(base.raw.get("holds", [])) | set(merged.get("holds", [])))
    name = str(spec.get("name", f"{base.name}+lender"))
    return Profile(name, str(spec.get("version", base.version)), {**merged, "name": name})


@dataclass(frozen=True)
class Verdict:
    decision: str  # allow | block
    reason: str
    reasons: tuple[str, ...]
    rule_version: str
    next_allowed_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "reasons": list(self.reasons),
            "rule_version": self.rule_version,
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
        }


# ------------------------------------------------------------------------------------------------ zones


@lru_cache(maxsize=4096)
def _zones(names: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    return tuple(ZoneInfo(n) for n in names)


def zones_of(profile: Profile, case: ContactCase) -> tuple[ZoneInfo, ...]:
    """The borrower's zone first, then every other zone the location evidence points to (US)."""
    names = [n for n in (case.timezone, *case.candidate_timezones) if n]
    if profile.us:
        for state in case.location_states:
            names += zones_for_state(state)
        for code in case.location_area_codes:
            names += zones_for_area_code(code)
    if not names:
        names = [str(profile.raw.get("default_timezone", "UTC"))]
    return _zones(tuple(dict.fromkeys(names)))


# ------------------------------------------------------------------------------------------------ rules


def _on_file(at: datetime | None, as_of: datetime) -> bool:
    """A fact with no time is on file; one with a time is on file from that moment."""
    return at is None or at <= as_of


def _is_consumer(profile: Profile, case: ContactCase, attempt: Attempt) -> bool:
    """US 1006.6(a): the consumer includes the spouse; CN: the borrower only."""
    if attempt.to_borrower:
        return True
    if not profile.us:
        return False
    contact = case.contact(attempt.contact_id)
    return attempt.target_type == "spouse" or (contact is not None and contact.type == "spouse")


def _dispute_holds(profile: Profile, case: ContactCase, as_of: datetime) -> bool:
    dispute = case.flags.dispute
    if dispute is None or not _on_file(dispute.received_at, as_of):
        return False
    rule = profile.section("dispute_hold")
    written = rule.get("written_forms", ())
    if rule.get("requires_written") and dispute.form is not None and dispute.form not in written:
        return False  # 1006.38(d)(2): only a dispute in writing pauses collection
    if rule.get("requires_validation_period") and dispute.within_validation_period is False:
        return False
    # collection may resume once the verification was sent (1006.38(d)(2)(i))
    sent = [t for t in (dispute.verification_sent_at, dispute.verification_completed_at) if t is not None]
    return not any(t <= as_of for t in sent)


def _holds(profile: Profile, case: ContactCase, attempt: Attempt, as_of: datetime) -> list[str]:
    if attempt.action == "answer_inbound" or attempt.target_type == "attorney":
        return []
    out: list[str] = []
    flags = case.flags
    consumer = _is_consumer(profile, case, attempt)
    if profile.us and consumer:
        cease = flags.cease_request
        if (
            cease is not None
            and (cease.form is None or cease.form in profile.listed("cease_forms"))
            and _on_file(cease.received_at, as_of)
            and attempt.purpose not in profile.listed("cease_exceptions")
        ):
            out.append("CEASE_COMMUNICATION")
    attorney = flags.represented_by_attorney
    if (
        profile.raw.get("attorney_hold")
        and attorney is not None
        and consumer
        and _on_file(attorney.notified_at, as_of)
        and attorney.name_and_address_known is not False
        and not attorney.attorney_failed_to_respond
        and not attorney.attorney_consented_direct_contact
    ):
        out.append("ATTORNEY_REPRESENTED")
    service = attempt.purpose in SERVICE_PURPOSES
    holds = profile.listed("holds")
    if "dispute" in holds and not service and _dispute_holds(profile, case, as_of):
        out.append("DISPUTE_PENDING_VERIFICATION")
    if "complaint" in holds and flags.complaint_hold and not service:
        out.append("HOLD_COMPLAINT")
    if "hardship_plan" in holds and flags.hardship.plan_active and not service:
        out.append("HOLD_HARDSHIP_PLAN")
    return out


def _opted_out(opt: OptOut, attempt: Attempt, as_of: datetime) -> bool:
    if opt.channel != "*" and MEDIUM.get(opt.channel, opt.channel) != MEDIUM.get(
        attempt.channel, attempt.channel
    ):
        return False
    address_ok = opt.address_id == "*" or opt.address_id in (attempt.phone_id, attempt.email_id)
    return address_ok and _on_file(opt.at, as_of)


def _channel(profile: Profile, case: ContactCase, attempt: Attempt, as_of: datetime) -> list[str]:
    out: list[str] = []
    public = (
        attempt.channel == "public_notice"
        or attempt.target_type == "public"
        or attempt.visibility == "public_comment"
    )
    if public:
        out.append("PUBLIC_POSTING")  # 1006.22(f)(4); 催收公约: no public display of debtors
    if attempt.channel == "social_media" and (public or attempt.visibility != "private_direct_message"):
        out.append("SOCIAL_MEDIA_PUBLIC")  # visibility unknown: privacy not shown
    if attempt.action == "answer_inbound":
        return out
    if attempt.to_borrower and any(_opted_out(o, attempt, as_of) for o in case.flags.opted_out):
        out.append("CHANNEL_OPTED_OUT")
    phone = case.phone(attempt.phone_id)
    if phone is not None and phone.workplace and case.flags.employer_prohibits_contact:
        out.append("WORKPLACE_PROHIBITED")
    email = case.email(attempt.email_id)
    if (
        profile.us
        and email is not None
        and email.address_type == "employer_provided"
        and not (email.consumer_consented or email.consumer_emailed_from_it)
    ):
        out.append("WORK_EMAIL")  # 1006.22(f)(3)
    return out


def _in_window(local: datetime, start: time, end: time | None) -> bool:
    now = local.time()  # naive: time() drops the zone
    if end is None:
        return now >= start
    return start <= now < end if start <= end else (now >= start or now < end)


def _agreement_allows(profile: Profile, case: ContactCase, local: datetime, as_of: datetime) -> bool:
    agreed = case.flags.debtor_agreed_contact_hours
    if agreed is None or not profile.raw.get("debtor_agreement_overrides_hours"):
        return False
    rule = profile.section("debtor_agreement")
    if rule.get("requires_debtor_initiated") and agreed.initiated_by not in rule.get("debtor_initiators", ()):
        return False
    if rule.get("requires_evidence") and not agreed.evidence:
        return False
    return _on_file(agreed.recorded_at, as_of) and _in_window(local, agreed.start, agreed.end)


def _time(
    profile: Profile, case: ContactCase, attempt: Attempt, as_of: datetime, zones: tuple[ZoneInfo, ...]
) -> tuple[list[str], list[str]]:
    if (
        attempt.action == "answer_inbound"
        or attempt.channel not in profile.listed("time_window_channels")
        or attempt.target_type in profile.listed("time_window_exempt_targets")
    ):
        return [], []
    start, end = profile.hours()
    outside = [z for z in zones if not _in_window(as_of.astimezone(z), start, end)]
    if not outside:
        return [], []
    primary = as_of.astimezone(zones[0])
    if attempt.to_borrower and _agreement_allows(profile, case, primary, as_of):  # the debtor's own hours
        return [], ["ALLOWED_DEBTOR_AGREED"]
    if _in_window(primary, start, end):
        return ["TIME_WINDOW_AMBIGUOUS_LOCATION"], []
    return ["TIME_WINDOW"], []


# --------------------------------------------------------------------------------------------- verdict


def _precedence(profile: Profile, key: str) -> Mapping[str, int]:
    """Rank of every code in the profile's ``key`` list; ``@content`` is the message screen's own order."""
    rank: Mapping[str, int] | None = profile._memo.get("@rank." + key)
    if rank is None:
        expanded: list[str] = []
        for code in profile.raw.get(key, ()):
            expanded += list(CONTENT_CODES) if code == "@content" else [code]
        rank = profile._memo["@rank." + key] = {c: i for i, c in enumerate(dict.fromkeys(expanded))}
    return rank


def _first(codes: Sequence[str], rank: Mapping[str, int]) -> str:
    last = len(rank)
    return min(codes, key=lambda c: (rank.get(c, last), codes.index(c)))


def evaluate(
    profile: Profile, context: ContactCase, history: Sequence[PriorContact], attempt: Attempt, as_of: datetime
) -> Verdict:
    """Allow or block one contact attempt. ``as_of`` must be timezone-aware."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry its UTC offset")
    case = context
    zones = zones_of(profile, case)
    zone = zones[0]
    blocked: list[str] = []
    notes: list[str] = []
    parties: Parties = judge_parties(profile, case, history, attempt, as_of)
    blocked += parties.source
    blocked += _holds(profile, case, attempt, as_of)
    blocked += _channel(profile, case, attempt, as_of)
    window, note = _time(profile, case, attempt, as_of, zones)
    blocked += window
    notes += note
    freq, freq_notes, next_at = frequency(profile, case, history, attempt, as_of=as_of, zone=zone)
    blocked += freq
    notes += freq_notes
    blocked += parties.blocked
    notes += parties.notes
    reasons = tuple(dict.fromkeys(blocked))
    if reasons:
        primary = _first(reasons, _precedence(profile, "reason_precedence"))
        return Verdict("block", primary, reasons, profile.version, next_at)
    if attempt.purpose in profile.listed("cease_exceptions") and case.flags.cease_request is not None:
        notes.insert(0, "ALLOWED_CEASE_EXCEPTION")
    allowed = tuple(dict.fromkeys(notes))
    if not allowed:
        return Verdict("allow", ALLOWED, (ALLOWED,), profile.version)
    primary = _first(allowed, _precedence(profile, "allowed_precedence"))
    return Verdict("allow", primary, allowed, profile.version)
