"""Rate caps as named, versioned policy profiles (RULES.md §1 "Rate caps").

A cap is evaluated on the all-in IRR-based annual rate (cn convention) rounded half-up to the profile's
stated precision — a "24% nominal" annuity computes a hair above 24 after cent rounding (24.0000x%) and
passes a 2-dp check at 24.00. The verdict is a value with a stable reason code; nothing is raised.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from xiaodai.money.rounding import round_half_up


class CapReason(enum.Enum):
    WITHIN_CAP = "CAP_WITHIN_LIMIT"
    EXCEEDED = "CAP_EXCEEDED"
    LPR_UNAVAILABLE = "CAP_LPR_UNAVAILABLE"  # contract date before the first fixing in the table
    LPR_STALE = "CAP_LPR_STALE"  # contract date after the table's valid_through
    CONTRACT_DATE_REQUIRED = "CAP_CONTRACT_DATE_REQUIRED"


@dataclass(frozen=True, slots=True)
class LprFixing:
    effective_on: date
    percent: Decimal


@dataclass(frozen=True, slots=True)
class CapProfile:
    name: str
    version: str
    kind: str  # "fixed" | "lpr-multiple"
    precision_dp: int
    limit_percent: Decimal | None = None
    multiplier: Decimal | None = None
    label_en: str = ""
    label_zh: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class CapVerdict:
    profile: str
    profile_version: str
    allowed: bool
    reason: CapReason
    apr_percent_checked: Decimal | None  # the rate as rounded for the check
    limit_percent: Decimal | None
    precision_dp: int
    lpr: LprFixing | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "profile_version": self.profile_version,
            "allowed": self.allowed,
            "reason": self.reason.value,
            "apr_percent_checked": None
            if self.apr_percent_checked is None
            else str(self.apr_percent_checked),
            "limit_percent": None if self.limit_percent is None else str(self.limit_percent),
            "precision_dp": self.precision_dp,
            "lpr": None
            if self.lpr is None
            else {"effective_on": self.lpr.effective_on.isoformat(), "percent": str(self.lpr.percent)},
        }


@dataclass(frozen=True, slots=True)
class CapBook:
    profiles: dict[str, CapProfile]
    lpr_fixings: tuple[LprFixing, ...]
    lpr_valid_through: date

    def profile(self, name: str) -> CapProfile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise KeyError(f"unknown cap profile {name!r}; known: {known}") from None

    def lpr_on(self, day: date) -> LprFixing | None:
        current = None
        for fixing in self.lpr_fixings:
            if fixing.effective_on <= day:
                current = fixing
        return current


def parse_cap_book(data: dict[str, Any]) -> CapBook:
    profiles = {}
    for name, raw in data["profiles"].items():
        profiles[name] = CapProfile(
            name=name,
            version=str(raw["version"]),
            kind=raw["kind"],
            precision_dp=int(raw["precision_dp"]),
            limit_percent=Decimal(raw["limit_percent"]) if "limit_percent" in raw else None,
            multiplier=Decimal(raw["multiplier"]) if "multiplier" in raw else None,
            label_en=raw.get("label_en", ""),
            label_zh=raw.get("label_zh", ""),
            source=raw.get("source", ""),
        )
    lpr = data.get("lpr_1y", {})
    fixings = tuple(
        sorted(
            (
                LprFixing(date.fromisoformat(f["effective_on"]), Decimal(f["percent"]))
                for f in lpr.get("fixings", [])
            ),
            key=lambda f: f.effective_on,
        )
    )
    valid = date.fromisoformat(lpr["valid_through"]) if "valid_through" in lpr else date.min
    return CapBook(profiles, fixings, valid)


def default_cap_book() -> CapBook:
    """The profiles shipped with xiaodai (package data; reading it is configuration, not environment). Read
    once per process; each caller gets its own copy of the profile table."""
    book = _shipped_cap_book()
    return CapBook(dict(book.profiles), book.lpr_fixings, book.lpr_valid_through)


@lru_cache(maxsize=1)
def _shipped_cap_book() -> CapBook:
    text = resources.files("xiaodai.pricing").joinpath("data/caps.json").read_text(encoding="utf-8")
    return parse_cap_book(json.loads(text))


def evaluate_cap(
    profile: CapProfile,
    apr_percent: Decimal,
    *,
    book: CapBook,
    contract_on: date | None = None,
    lpr: LprFixing | None = None,
) -> CapVerdict:
    """Verdict of ``apr_percent`` against ``profile``; ``lpr`` overrides the table (a fixing vouched for)."""
    checked = round_half_up(apr_percent, profile.precision_dp)

    def verdict(
        allowed: bool, reason: CapReason, limit: Decimal | None, lpr: LprFixing | None = None
    ) -> CapVerdict:
        return CapVerdict(
            profile.name, profile.version, allowed, reason, checked, limit, profile.precision_dp, lpr
        )

    if profile.kind == "fixed":
        limit = profile.limit_percent
        assert limit is not None
    else:
        if contract_on is None:
            return verdict(False, CapReason.CONTRACT_DATE_REQUIRED, None)
        if lpr is None and contract_on > book.lpr_valid_through:
            return verdict(False, CapReason.LPR_STALE, None)
        fixing = lpr if lpr is not None else book.lpr_on(contract_on)
        if fixing is None:
            return verdict(False, CapReason.LPR_UNAVAILABLE, None)
        assert profile.multiplier is not None
        limit = fixing.percent * profile.multiplier
        return verdict(
            checked <= limit, CapReason.WITHIN_CAP if checked <= limit else CapReason.EXCEEDED, limit, fixing
        )
    ok = checked <= limit
    return verdict(ok, CapReason.WITHIN_CAP if ok else CapReason.EXCEEDED, limit)
