"""How the web pages write numbers, times and codes: one formatter each, used by every template.

* ``apr``: the annual rate as the signed disclosure states it, two decimals, half up (``"8.00%"``).
* ``when``: a timestamp in Beijing time, to the minute, with the zone named (``"2026-12-21 23:59 北京时间"``).
* ``label``: a stored code (``"settled"``, ``"collection_conduct"``) in the page's language; a code without a
  translation is written as words, never as the code itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from xiaodai.money.rounding import round_half_up

CHINA = ZoneInfo("Asia/Shanghai")
ZONE_NAME = {"zh": "北京时间", "en": "Beijing time"}


def apr(value: object) -> str:
    """``"7.9994"`` → ``"8.00%"``; the same rounding as the key-facts statement's headline."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    return f"{round_half_up(number, 2)}%"


def _parse(value: object) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if not value:
        return None
    text = str(value)
    try:
        return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError:
        return None


def when(value: object, lang: str = "zh") -> str:
    """A timestamp in Beijing time to the minute with the zone named; a date stays a date; naive = UTC."""
    parsed = _parse(value)
    if parsed is None:
        return "—" if not value else str(value)
    if not isinstance(parsed, datetime):
        return parsed.isoformat()
    aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    local = aware.astimezone(CHINA)
    return f"{local:%Y-%m-%d %H:%M} {ZONE_NAME.get(lang, ZONE_NAME['en'])}"


def day(value: object) -> str:
    """A date (or the date part of a timestamp, in Beijing time)."""
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return aware.astimezone(CHINA).date().isoformat()
    return parsed.isoformat() if parsed else "—"


def words(code: object) -> str:
    """A code as plain words: ``"collection_conduct"`` → ``"collection conduct"``."""
    return str(code).replace("_", " ").replace("-", " ").replace("/", " / ").strip().lower()


def label(strings: dict[str, str], kind: str, code: object) -> str:
    """The page-language label of ``code`` in the ``kind`` vocabulary (``state``, ``status``, ...)."""
    if code is None or code == "":
        return "—"
    key = f"{kind}_{code}"
    return strings.get(key) or strings.get(key.replace("-", "_")) or words(code)


def ratio(value: object) -> str:
    """A rate in [0, 1] as a percent (``0.95`` → ``"95.0%"``); no value (nothing to rate) → ``"—"``."""
    if value is None:
        return "—"
    try:
        return f"{Decimal(str(value)) * 100:.1f}%"
    except (InvalidOperation, ValueError):
        return "—"
