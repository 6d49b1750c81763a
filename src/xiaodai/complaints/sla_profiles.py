"""SLA profiles: the versioned regulatory rules (``data/sla_profiles.json``), routing between them, escalation
thresholds and reason codes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.complaints.sla_inputs import Complaint


class SlaProfileError(ValueError):
    """A profile is unknown or its data is malformed."""


# --------------------------------------------------------------------------------------------------
# Profiles (packaged, versioned data)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    extend_to_days: int
    requires: frozenset[str]  # "approved_by" | "senior_approval" | "reason" | "complainant_notified"
    caller_may_set_days: bool


@dataclass(frozen=True, slots=True)
class SlaProfile:
    name: str
    version: str
    kind: str  # "decision" | "cfpb"
    zone: ZoneInfo
    base_days: int
    max_days: int
    final_days: int | None
    holiday_roll: bool
    exclusions_allowed: bool
    new_facts_restart: bool
    ack_target_applies: bool
    notice_required_contents: tuple[str, ...]
    interim_responses: frozenset[str]
    extensions: Mapping[str, ExtensionRule]
    default_extension: ExtensionRule | None
    regulator_feedback: str = "never"  # "always" | "when_forwarded" | "never"
    review_request_days: int | None = None  # CN: a review may be asked for within 30 days of the notice
    review_days: int | None = None  # CN: the review is decided within 30 days of the request

    def extension_rule(self, kind: str | None) -> ExtensionRule | None:
        if kind is not None and kind in self.extensions:
            return self.extensions[kind]
        return self.default_extension


@dataclass(frozen=True, slots=True)
class RoutingRule:
    field: str  # "forwarded_by" | "channel"
    equals: str
    profile: str
    from_profiles: frozenset[str] | None  # None: whatever profile was asked for
    prefix: bool = False  # match values starting with ``equals`` ("PBOC_branch" routes like "PBOC")

    def matches(self, value: str) -> bool:
        have, want = value.casefold(), self.equals.casefold()
        return have.startswith(want) if self.prefix else have == want


@dataclass(frozen=True, slots=True)
class SlaBook:
    profiles: Mapping[str, SlaProfile]
    routing: tuple[RoutingRule, ...]
    escalation: tuple[tuple[str, float], ...]  # ascending fraction
    reason_codes: Mapping[str, str]
    breach_codes: frozenset[str]
    late_codes: frozenset[str]
    extension_kinds: frozenset[str] = frozenset()
    senior_markers: tuple[str, ...] = ()

    def is_senior(self, role: str | None, name: str | None) -> bool:
        """Whether an approver's role (or, with no role, its name) marks a senior of the superior body."""
        text = (role if (role or "").strip() else name) or ""
        folded = text.casefold()
        return any(marker.casefold() in folded for marker in self.senior_markers)

    def route(self, requested: str | None, forwarded_by: str | None, channel: str | None) -> str | None:
        values = {"forwarded_by": forwarded_by, "channel": channel}
        for rule in self.routing:
            value = values.get(rule.field)
            if value is None or not rule.matches(value):
                continue
            if rule.from_profiles is None or requested in rule.from_profiles:
                return rule.profile
        return None


def _extension_rule(raw: Mapping[str, Any]) -> ExtensionRule:
    return ExtensionRule(
        int(raw["extend_to_days"]), frozenset(raw.get("requires", [])), bool(raw.get("caller_may_set_days"))
    )


def parse_sla_book(data: Mapping[str, Any]) -> SlaBook:
    try:
        profiles = {
            name: SlaProfile(
                name=name,
                version=str(raw["version"]),
                kind=str(raw["kind"]),
                zone=ZoneInfo(raw["timezone"]),
                base_days=int(raw["base_days"]),
                max_days=int(raw["max_days"]),
                final_days=int(raw["final_days"]) if raw.get("final_days") is not None else None,
                holiday_roll=bool(raw["holiday_roll"]),
                exclusions_allowed=bool(raw["exclusions_allowed"]),
                new_facts_restart=bool(raw["new_facts_restart"]),
                ack_target_applies=bool(raw["ack_target_applies"]),
                notice_required_contents=tuple(raw.get("notice_required_contents", [])),
                interim_responses=frozenset(raw.get("interim_responses", [])),
                extensions={k: _extension_rule(v) for k, v in raw.get("extensions", {}).items()},
                default_extension=(
                    _extension_rule(raw["default_extension"]) if raw.get("default_extension") else None
                ),
                regulator_feedback=str(raw.get("regulator_feedback", "never")),
                review_request_days=_opt_int(raw.get("review_request_days")),
                review_days=_opt_int(raw.get("review_days")),
            )
            for name, raw in data["profiles"].items()
        }
        routing = tuple(
            RoutingRule(
                str(r["field"]),
                str(r["equals"]),
                str(r["profile"]),
                frozenset(r["from_profiles"]) if r.get("from_profiles") is not None else None,
                prefix=r.get("match") == "prefix",
            )
            for r in data.get("routing", [])
        )
        escalation = tuple(
            sorted(((str(t["level"]), float(t["fraction"])) for t in data["escalation_thresholds"]), key=_snd)
        )
        order = data["reason_order"]
        book = SlaBook(
            profiles,
            routing,
            escalation,
            dict(data["reason_codes"]),
            frozenset(order["breach"]),
            frozenset(order["late"]),
            frozenset(data.get("extension_kinds", [])),
            tuple(str(m) for m in (data.get("senior_role_markers") or {}).get("markers", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SlaProfileError(f"malformed SLA profile data: {exc!r}") from exc
    unknown = [r.profile for r in routing if r.profile not in profiles]
    if unknown:
        raise SlaProfileError(f"routing names unknown profiles: {unknown}")
    return book


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _snd(pair: tuple[str, float]) -> float:
    return pair[1]


@cache
def default_sla_book() -> SlaBook:
    """The profiles shipped with xiaodai (package data: configuration, not environment)."""
    text = resources.files("xiaodai.complaints").joinpath("data/sla_profiles.json").read_text("utf-8")
    return parse_sla_book(json.loads(text))


def resolve_profile(requested: str, complaint: Complaint, book: SlaBook | None = None) -> SlaProfile:
    """The profile whose rules apply: routing (CFPB/PBOC forwarding) first, then the name asked for."""
    book = book or default_sla_book()
    name = book.route(requested, complaint.forwarded_by, complaint.channel) or requested
    if name not in book.profiles:
        raise SlaProfileError(f"unknown SLA profile {requested!r} (known: {sorted(book.profiles)})")
    return book.profiles[name]
