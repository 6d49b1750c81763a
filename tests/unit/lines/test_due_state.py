"""What a row of the line's "due this month" says (every row says something: it was blank unless overdue)."""

from __future__ import annotations

from datetime import date

from xiaodai.lines.views import due_state


def test_due_state_before_on_and_after_the_due_date() -> None:
    today = date(2026, 12, 6)
    assert due_state(date(2026, 12, 3), today) == "overdue"
    assert due_state(date(2026, 12, 6), today) == "due_today"
    assert due_state(date(2026, 12, 9), today) == "upcoming"
