"""The contact-policy engine (pure): every collection contact is evaluated BEFORE it happens.

``evaluate(profile, context, history, attempt, as_of) -> Verdict``. A blocked verdict carries the primary
reason code and every other rule the attempt would break. Profiles (``data/profile_*.json``) are versioned
data; a lender derives a stricter profile with ``{"extends": "CN", …}`` (``derive_profile`` refuses any
loosening). Rules, in the order their reason is reported (RULES.md §2):

1. contact source (address-book harvest) → holds (cease, attorney, dispute, complaint)
2. channel rules: opt-outs, workplace calls, employer e-mail
3. time window in the borrower's local time (US: every candidate zone)
4. frequency (CN: connected conversations and dial attempts per day; US: 7-in-7 and the quiet week)
5. third parties (CN: only when the debtor is unreachable, no debt, stop at refusal; US: location only)
6. content (``content_screen``): threats, insults, impersonation, false legal threats, disclosure, …
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.collections.content_screen import ScreenContext, screen_message

ALLOWED = "ALLOWED"
# Messages that are service, not collection: they pass complaint and hardship holds (house policy).
SERVICE_PURPOSES = frozenset(
    {
        "hardship_offer",
        "plan_confirmation",
        "complaint_update",
        "payment_receipt",
        "cease_exception_termination_notice",
    }
)


class ProfileError(ValueError):
    """A profile is unknown, malformed, or loosens the profile it extends."""


@dataclass(frozen=True)
class Profile:
    name: str
    version: str
    raw: Mapping[str, Any]

    @property
    def us(self) -> bool:
        return bool(self.raw.get("us_rules"))

    def hours(self) -> tuple[time, time]:
        start, end = self.raw["allowed_hours"]
        return time.fromisoformat(start), time.fromisoformat(end)

    @property
    def frequency(self) -> Mapping[str, Any]:
        return self.raw.get("frequency", {})  # type: ignore[no-any-return]


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


@dataclass(frozen=True)
class Context:
    """What the engine knows about the borrower and the debt (the conformance ``given`` block)."""

    borrower: Mapping[str, Any]
    debt: Mapping[str, Any] = field(default_factory=dict)
    flags: Mapping[str, Any] = field(default_factory=dict)
    contacts: Sequence[Mapping[str, Any]] = ()
    collector_role: str | None = None
    first_communication_done: bool = False
    contract_fees: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, given: Mapping[str, Any]) -> Context:
        return cls(
            borrower=given.get("borrower", {}),
            debt=given.get("debt", {}),
            flags=given.get("flags") or {},
            contacts=given.get("contacts", []) or [],
            collector_role=given.get("collector_role"),
            first_communication_done=bool(given.get("first_communication_done", False)),
            contract_fees=tuple(given.get("contract_fees", []) or []),
        )

    def zones(self, profile: Profile) -> list[ZoneInfo]:
        return _zones(
            tuple(self.borrower.get("candidate_timezones") or ()),
            self.borrower.get("timezone"),
            str(profile.raw.get("default_timezone", "UTC")),
        )

    def phone(self, phone_id: str | None) -> Mapping[str, Any]:
        return next((p for p in self.borrower.get("phones", []) if p.get("id") == phone_id), {})

    def email(self, email_id: str | None) -> Mapping[str, Any]:
        return next((e for e in self.borrower.get("emails", []) if e.get("id") == email_id), {})

    def contact(self, contact_id: str | None) -> Mapping[str, Any]:
        return next((c for c in self.contacts if c.get("id") == contact_id), {})


@dataclass(frozen=True)
class Attempt:
    action: str  # contact | answer_inbound | …
    channel: str
    target_type: str = "borrower"
    contact_id: str | None = None
    phone_id: str | None = None
    email_id: str | None = None
    message: str | None = None
    purpose: str | None = None

    @classmethod
    def from_json(cls, when: Mapping[str, Any]) -> Attempt:
        target = when.get("target") or {"type": "borrower"}
        return cls(
            action=str(when.get("action", "contact")),
            channel=str(when.get("channel", "call")),
            target_type=str(target.get("type", "borrower")),
            contact_id=target.get("contact_id"),
            phone_id=when.get("phone_id"),
            email_id=when.get("email_id"),
            message=when.get("message"),
            purpose=when.get("purpose"),
        )

    @property
    def to_borrower(self) -> bool:
        return self.target_type in ("borrower", "consumer")


@dataclass(frozen=True)
class PriorContact:
    at: datetime
    target: str
    channel: str
    phone_id: str | None
    contact_id: str | None
    initiated_by: str
    outcome: str

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PriorContact:
        return cls(
            datetime.fromisoformat(str(raw["at"])),
            str(raw.get("target", "borrower")),
            str(raw.get("channel", "call")),
            raw.get("phone_id"),
            raw.get("contact_id"),
            str(raw.get("initiated_by", "agent")),
            str(raw.get("outcome", "")),
        )

    @property
    def to_borrower(self) -> bool:
        return self.target in ("borrower", "consumer")


@lru_cache(maxsize=1024)
def _zones(candidates: tuple[str, ...], primary: str | None, default: str) -> list[ZoneInfo]:
    names = list(candidates)
    first = primary or default
    if first not in names:
        names.insert(0, first)
    return [ZoneInfo(n) for n in names]


def _at(raw: Any) -> datetime | None:
    return datetime.fromisoformat(str(raw)) if raw else None


# ------------------------------------------------------------------------------------------------ rules


def _source_and_holds(profile: Profile, ctx: Context, attempt: Attempt, as_of: datetime) -> list[str]:
    out: list[str] = []
    flags = ctx.flags
    if not attempt.to_borrower:
        contact = ctx.contact(attempt.contact_id)
        if contact.get("source") in profile.raw.get("third_party", {}).get("unlawful_sources", []):
            out.append("CONTACT_SOURCE_UNLAWFUL")
    if profile.us:
        cease = flags.get("cease_request")
        exempt = attempt.purpose in profile.raw.get("cease_exceptions", [])
        if cease and (_at(cease.get("received_at")) or as_of) <= as_of and not exempt:
            out.append("CEASE_COMMUNICATION")
        attorney = flags.get("represented_by_attorney")
        if attorney and attempt.to_borrower:
            out.append("ATTORNEY_REPRESENTED")
    holds = profile.raw.get("holds", [])
    if "complaint" in holds and flags.get("complaint_hold") and attempt.purpose not in SERVICE_PURPOSES:
        out.append("HOLD_COMPLAINT")
    plan = flags.get("hardship")
    if (
        "hardship_plan" in holds
        and isinstance(plan, Mapping)
        and plan.get("plan_active")
        and (attempt.purpose not in SERVICE_PURPOSES)
    ):
        out.append("HOLD_HARDSHIP_PLAN")
    dispute = flags.get("dispute")
    if dispute and not (isinstance(dispute, Mapping) and dispute.get("verified")):
        out.append("DISPUTE_PENDING_VERIFICATION")
    return out


def _channel(profile: Profile, ctx: Context, attempt: Attempt, as_of: datetime) -> list[str]:
    out: list[str] = []
    for opt in ctx.flags.get("opted_out") or []:
        if opt.get("channel") != attempt.channel:
            continue
        target = opt.get("phone_id") or opt.get("email_id") or "*"
        if target == "*" or target in (attempt.phone_id, attempt.email_id):
            at = _at(opt.get("at"))
            if at is None or at <= as_of:
                out.append("CHANNEL_OPTED_OUT")
    if (
        attempt.phone_id
        and ctx.phone(attempt.phone_id).get("type") == "work"
        and ctx.flags.get("employer_prohibits_contact")
    ):
        out.append("WORKPLACE_PROHIBITED")
    if attempt.email_id and profile.us:
        email = ctx.email(attempt.email_id)
        if email.get("address_type") in ("employer_provided", "work") and not (
            email.get("consumer_consented") or email.get("consumer_emailed_from_it")
        ):
            out.append("WORK_EMAIL")
    if attempt.channel == "social_media" and attempt.purpose != "private_message":
        out.append("SOCIAL_MEDIA_PUBLIC")
    return out


def _in_window(local: datetime, start: time, end: time) -> bool:
    return start <= local.time().replace(tzinfo=None) < end


def _agreed(ctx: Context, local: datetime) -> bool:
    agreed = ctx.flags.get("debtor_agreed_contact_hours")
    if not agreed:
        return False
    start, end = time.fromisoformat(agreed["from"]), time.fromisoformat(agreed["to"])
    now = local.time().replace(tzinfo=None)
    return start <= now < end if start <= end else (now >= start or now < end)


def _time(profile: Profile, ctx: Context, attempt: Attempt, as_of: datetime) -> tuple[list[str], list[str]]:
    if attempt.action == "answer_inbound" or attempt.channel not in profile.raw.get(
        "time_window_channels", []
    ):
        return [], []
    start, end = profile.hours()
    zones = ctx.zones(profile)
    primary = as_of.astimezone(zones[0])
    bad = [z for z in zones if not _in_window(as_of.astimezone(z), start, end)]
    if not bad:
        return [], []
    if profile.raw.get("debtor_agreement_overrides_hours") and _agreed(ctx, primary):
        return [], ["ALLOWED_DEBTOR_AGREED"]
    if _in_window(primary, start, end):
        return ["TIME_WINDOW_AMBIGUOUS_LOCATION"], []
    return ["TIME_WINDOW"], []


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def _frequency(
    profile: Profile, ctx: Context, history: Sequence[PriorContact], attempt: Attempt, as_of: datetime
) -> tuple[list[str], datetime | None]:
    rules = profile.frequency
    voice = set(rules.get("voice_channels", []))
    if attempt.action == "answer_inbound" or attempt.channel not in voice:
        return [], None
    initiators = set(rules.get("collector_initiators", []))
    connected = set(rules.get("connected_outcomes", []))
    zone = ctx.zones(profile)[0]
    today = _local_day(as_of, zone)
    out: list[str] = []
    next_at: datetime | None = None
    mine = [c for c in history if c.channel in voice and c.initiated_by in initiators and c.at <= as_of]
    if not profile.us:
        if not attempt.to_borrower:
            return [], None
        day_start = datetime.combine(today, time(0), tzinfo=zone)
        day_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
        todays = [c for c in mine if c.to_borrower and day_start <= c.at < day_end]
        limit = rules.get("max_connected_collector_initiated_voice_per_debtor_per_day")
        if limit is not None and sum(c.outcome in connected for c in todays) >= limit:
            out.append("FREQ_CONNECTED_LIMIT")
        dial_limit = rules.get("max_dial_attempts_per_contact_method_per_day")
        same_method = [c for c in todays if c.phone_id == attempt.phone_id]
        if dial_limit is not None and len(same_method) >= dial_limit:
            out.append("FREQ_ATTEMPT_LIMIT")
        if out:
            next_at = datetime.combine(today + timedelta(days=1), profile.hours()[0], tzinfo=zone)
        return out, next_at
    # Regulation F §1006.14(b)(2): per debt, calls to the person (the consumer)
    consent = ctx.flags.get("prior_consent_to_call")
    if consent and _at(consent.get("given_at") if isinstance(consent, Mapping) else None):
        given = _at(consent["given_at"])
        assert given is not None
        if timedelta(0) <= as_of - given < timedelta(days=7):
            return [], None
    excluded = set(rules.get("excluded_outcomes", []))
    calls = [c for c in mine if c.to_borrower and c.outcome not in excluded]
    quiet = int(rules.get("quiet_days_after_conversation", 7))
    quiet_from = datetime.combine(today - timedelta(days=quiet - 1), time(0), tzinfo=zone)
    for c in calls:
        if c.outcome in connected and c.at >= quiet_from:
            day1 = _local_day(c.at, zone)
            last = day1 + timedelta(days=quiet - 1)
            if day1 <= today <= last:
                out.append("FREQ_7DAY_AFTER_CONVERSATION")
                next_at = datetime.combine(last + timedelta(days=1), profile.hours()[0], tzinfo=zone)
                break
    window_start = datetime.combine(today - timedelta(days=6), time(0), tzinfo=zone)
    window_end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    recent = [c for c in calls if window_start <= c.at < window_end]
    if len(recent) >= int(rules.get("max_calls_per_7_days_per_debt", 7)):
        out.append("FREQ_7IN7_ATTEMPTS")
    return out, next_at


DEBT_WORDS = (
    "欠",
    "逾期",
    "借款",
    "贷款",
    "还款",
    "债",
    "debt",
    "loan",
    "owe",
    "overdue",
    "past due",
    "balance",
    "collection",
    "$",
    "¥",
    "元",
)


def _third_party(
    profile: Profile,
    ctx: Context,
    history: Sequence[PriorContact],
    attempt: Attempt,
) -> tuple[list[str], list[str]]:
    if attempt.to_borrower:
        return [], []
    contact = ctx.contact(attempt.contact_id)
    relationship = str(contact.get("relationship", attempt.target_type))
    if profile.us and relationship == "spouse" and contact.get("is_consumer", True):
        return [], ["ALLOWED_SPOUSE_IS_CONSUMER"]
    text = (attempt.message or "").lower()
    mentions_debt = any(word in text for word in DEBT_WORDS)
    out: list[str] = []
    if contact.get("refused_at") or any(
        c.contact_id == attempt.contact_id and c.outcome in ("refused", "third_party_refused")
        for c in history
    ):
        out.append("THIRD_PARTY_REFUSED")
    if profile.us:
        if ctx.flags.get("consumer_location_known"):
            out.append("THIRD_PARTY_NOT_PERMITTED")
        if any(c.contact_id == attempt.contact_id for c in history if not c.to_borrower):
            out.append("THIRD_PARTY_REPEAT_LOCATION")
        if mentions_debt:
            out.append("THIRD_PARTY_DEBT_DISCLOSURE")
        return out, [] if out else ["ALLOWED_LOCATION_INQUIRY"]
    if profile.raw.get("third_party", {}).get("requires_debtor_unreachable") and not ctx.flags.get(
        "debtor_unreachable"
    ):
        out.append("THIRD_PARTY_DEBTOR_REACHABLE")
    if mentions_debt:
        out.append("THIRD_PARTY_DEBT_DISCLOSURE")
    if attempt.purpose in ("collection_demand", "ask_to_pay") or any(
        w in text for w in ("代还", "替他还", "帮他还", "pay for him", "pay on behalf")
    ):
        out.append("THIRD_PARTY_COLLECTION_DEMAND")
    return out, [] if out else ["ALLOWED_THIRD_PARTY_LOCATION"]


@lru_cache(maxsize=8192)
def _screen(message: str, profile_name: str, context: ScreenContext) -> tuple[str, ...]:
    """Message screening is pure, so a campaign's repeated template texts are screened once."""
    return tuple(screen_message(message, profile=profile_name, context=context).reasons)


def _content(profile: Profile, ctx: Context, attempt: Attempt) -> list[str]:
    if not attempt.message:
        return []
    name = profile.name if profile.name in ("CN", "US_RegF") else ("US_RegF" if profile.us else "CN")
    context = ScreenContext(
        channel=attempt.channel,
        target_type=attempt.target_type,
        collector_role=ctx.collector_role,
        first_communication_done=ctx.first_communication_done,
        time_barred=bool(ctx.debt.get("time_barred")),
        contract_fees=ctx.contract_fees,
        purpose=attempt.purpose,
    )
    return list(_screen(attempt.message, name, context))


def evaluate(
    profile: Profile, context: Context, history: Sequence[PriorContact], attempt: Attempt, as_of: datetime
) -> Verdict:
    """Allow or block one contact attempt. ``as_of`` must be timezone-aware."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry its UTC offset")
    blocked: list[str] = []
    allowed_notes: list[str] = []
    blocked += _source_and_holds(profile, context, attempt, as_of)
    blocked += _channel(profile, context, attempt, as_of)
    window, note = _time(profile, context, attempt, as_of)
    blocked += window
    allowed_notes += note
    freq, next_at = _frequency(profile, context, history, attempt, as_of)
    blocked += freq
    third, note = _third_party(profile, context, history, attempt)
    blocked += third
    allowed_notes += note
    blocked += [r for r in _content(profile, context, attempt) if r not in blocked]
    if blocked:
        return Verdict("block", blocked[0], tuple(blocked), profile.version, next_at)
    if attempt.purpose in profile.raw.get("cease_exceptions", []) and context.flags.get("cease_request"):
        allowed_notes.insert(0, "ALLOWED_CEASE_EXCEPTION")
    reason = allowed_notes[0] if allowed_notes else ALLOWED
    return Verdict("allow", reason, tuple(allowed_notes) or (ALLOWED,), profile.version)


def evaluate_scenario(profile_name: str, given: Mapping[str, Any], when: Mapping[str, Any]) -> Verdict:
    profile = load_profile(profile_name)
    as_of = datetime.fromisoformat(str(given.get("now_local") or when.get("at")))
    history = [PriorContact.from_json(c) for c in given.get("prior_contacts", []) or []]
    return evaluate(profile, Context.from_json(given), history, Attempt.from_json(when), as_of)
