"""What the message screen takes and returns (``ScreenContext``, ``ScreenResult``, ``Match``), the profiles it
knows, and the error a malformed vocabulary raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PROFILES: Final[tuple[str, ...]] = ("CN", "US_RegF")


class ScreenTermsError(ValueError):
    """The packaged screening vocabulary is malformed (a broken invariant, not a screening outcome)."""


@dataclass(frozen=True, slots=True)
class ScreenContext:
    """Who receives the message, how, and from whom. Flags not set are false / empty."""

    channel: str
    target_type: str = "borrower"
    collector_role: str | None = None
    first_communication_done: bool = False
    time_barred: bool = False
    contract_fees: tuple[str, ...] = ()
    purpose: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One hit: the reason code, the rule that fired (``zh:<term>``, ``en:<term>`` or ``pattern:<id>``) and
    its half-open span ``[start, end)`` in the normalised text."""

    category: str
    rule: str
    span: tuple[int, int]
    text: str


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """Every violated reason (most serious first) and the hits behind the prohibited ones. Missing
    statements (``MISSING_*``) have no hit to point at, so they appear in ``reasons`` only."""

    reasons: tuple[str, ...]
    matches: tuple[Match, ...]
    normalised: str
    version: str

    @property
    def clean(self) -> bool:
        return not self.reasons

    @property
    def primary_reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None
