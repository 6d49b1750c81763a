"""Which booking dates a back-dated repayment may carry (pure). A borrower's payment is booked on the
platform's business date; only staff may book one earlier (e.g. money that reached the bank but was credited
late), through maker-checker with a reason, and only inside these limits. Reason codes, not prose."""

from __future__ import annotations

from datetime import date, timedelta

BACKDATE_MAX_DAYS = 30  # at most this many days before the business date the request is filed on


def backdate_verdict(
    on: date, *, business_date: date, disbursed_on: date | None, max_days: int = BACKDATE_MAX_DAYS
) -> str:
    """``ALLOWED`` or why not: never in the future, never before the money was lent, never too far back."""
    if on > business_date:
        return "BACKDATE_IN_FUTURE"
    if disbursed_on is None or on < disbursed_on:
        return "BACKDATE_BEFORE_DISBURSAL"
    if on < business_date - timedelta(days=max_days):
        return "BACKDATE_TOO_FAR"
    return "ALLOWED"
