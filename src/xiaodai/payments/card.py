"""Card numbers (pure): Luhn check, length 16-19, BIN ranges from ``data/bins.json``, the masked form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

MIN_LENGTH = 16
MAX_LENGTH = 19


@dataclass(frozen=True, slots=True)
class BinRange:
    low: str  # inclusive 6-digit prefixes
    high: str
    bank: str
    bank_zh: str
    lengths: tuple[int, ...]

    def covers(self, number: str) -> bool:
        return self.low <= number[:6] <= self.high


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The verdict on a card number: ``reasons`` empty when it may be bound."""

    number: str  # digits only
    reasons: tuple[str, ...]
    bank: str | None = None

    @property
    def ok(self) -> bool:
        return not self.reasons


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass Luhn (test and sandbox card numbers)."""
    for d in "0123456789":
        if luhn_ok(payload + d):
            return d
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def parse_ranges(data: dict[str, object]) -> tuple[BinRange, ...]:
    ranges = data["ranges"]
    if not isinstance(ranges, list):
        raise ValueError("bins: 'ranges' must be a list")
    return tuple(
        BinRange(str(r["from"]), str(r["to"]), str(r["bank"]), str(r["bank_zh"]), tuple(r["lengths"]))
        for r in ranges
    )


@cache
def default_ranges() -> tuple[BinRange, ...]:
    text = resources.files("xiaodai.payments").joinpath("data/bins.json").read_text(encoding="utf-8")
    return parse_ranges(json.loads(text))


def normalise(raw: str) -> str:
    """Spaces and dashes dropped (``6222 0212 …`` as printed on the card)."""
    return "".join(ch for ch in raw if ch not in " -")


def check_card(raw: str, ranges: tuple[BinRange, ...] | None = None) -> CardCheck:
    """Reason codes: CARD_NOT_DIGITS, CARD_LENGTH, CARD_LUHN, CARD_BIN_UNKNOWN, CARD_LENGTH_FOR_BIN."""
    number = normalise(raw)
    if not number or not (number.isascii() and number.isdigit()):
        return CardCheck(number, ("CARD_NOT_DIGITS",))
    reasons: list[str] = []
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        reasons.append("CARD_LENGTH")
    if not luhn_ok(number):
        reasons.append("CARD_LUHN")
    match = next((r for r in (ranges or default_ranges()) if r.covers(number)), None)
    if match is None:
        reasons.append("CARD_BIN_UNKNOWN")
    elif "CARD_LENGTH" not in reasons and len(number) not in match.lengths:
        reasons.append("CARD_LENGTH_FOR_BIN")
    return CardCheck(number, tuple(reasons), match.bank if match else None)


def masked(number: str) -> str:
    """First 6 and last 4 digits shown: ``622202******1234``."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
