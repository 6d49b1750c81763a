"""Amounts and dates as people type them, parsed once for the API, the web forms and the CLI (pure).

An amount is ASCII digits with at most two decimals: ``"1234"``, ``"1234.5"``, ``"1234.56"``. Nothing else
is money: no full-width digits (``"１２"``), separators (``"1_0"``, ``"1,000"``), exponents (``"1e2"``),
signs (``"+1"``, ``"-1"``), blanks, ``NaN``/``Infinity``, and nothing above ``MAX_AMOUNT_FEN`` (10,000,000
CNY, far above any loan the platform makes, so a 30-digit or ``1e308`` amount is refused as a value instead
of overflowing an integer column). A date is ISO ``YYYY-MM-DD`` with ASCII digits and nothing else
(``date.fromisoformat`` alone would also take ``20260110`` and ``2026-W02-6``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from xiaodai.money.money import MoneyError

MAX_AMOUNT_FEN = 1_000_000_000  # 10,000,000.00 CNY
_AMOUNT = re.compile(r"(?P<units>[0-9]{1,12})(?:\.(?P<cents>[0-9]{1,2}))?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class DateInputError(ValueError):
    """A date that is not ISO YYYY-MM-DD, or outside the range allowed where it is used."""


def parse_amount_fen(
    text: object, *, what: str = "amount", allow_zero: bool = False, max_fen: int = MAX_AMOUNT_FEN
) -> int:
    """``text`` (CNY as typed) in fen, or ``MoneyError`` saying what is wrong."""
    if not isinstance(text, str):
        raise MoneyError(f'{what} must be a string of digits such as "1234.56", not {type(text).__name__}')
    match = _AMOUNT.fullmatch(text)
    if match is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise MoneyError(
            f"{what} {shown!r} is not an amount: use ASCII digits with at most 2 decimals, e.g. 1234.56"
        )
    fen = int(match["units"]) * 100 + int((match["cents"] or "0").ljust(2, "0"))
    if fen == 0 and not allow_zero:
        raise MoneyError(f"{what} must be positive")
    if fen > max_fen:
        raise MoneyError(f"{what} {text} is above the largest amount accepted ({max_fen // 100:,} CNY)")
    return fen


def parse_iso_date(text: object, *, what: str = "date") -> date:
    """``text`` as a date, or ``DateInputError``: exactly YYYY-MM-DD, a real calendar day."""
    if not isinstance(text, str) or _DATE.fullmatch(text) is None:
        shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "…"
        raise DateInputError(f"{what} {shown!r} is not a date: use YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DateInputError(f"{what} {text!r} is not a date: no such day (YYYY-MM-DD)") from None


def within(
    day: date, *, what: str, today: date, days_back: int | None = None, days_ahead: int | None = 0
) -> date:
    """``day`` if it is no more than ``days_back`` before and ``days_ahead`` after ``today`` (``None``: no
    bound on that side), else ``DateInputError``."""
    if days_ahead is not None and day > today + timedelta(days=days_ahead):
        limit = today + timedelta(days=days_ahead)
        raise DateInputError(f"{what} {day} is after {limit}: the latest date allowed here")
    if days_back is not None and day < today - timedelta(days=days_back):
        limit = today - timedelta(days=days_back)
        raise DateInputError(f"{what} {day} is before {limit}: at most {days_back} days back are allowed")
    return day
