"""The moment commands act at: the wall clock, or the fixed business date at the wall clock's hour."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from xiaodai.cli.shell import platform_now


def test_a_fixed_business_date_keeps_the_real_time_of_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", "2026-02-12")
    before = datetime.now(tz=ZoneInfo("Asia/Shanghai"))
    at = platform_now()
    after = datetime.now(tz=ZoneInfo("Asia/Shanghai"))
    assert at.date() == date(2026, 2, 12)
    assert at.utcoffset() is not None
    assert before.time() <= at.time() <= after.time() or before.date() != after.date()
    monkeypatch.delenv("XIAODAI_BUSINESS_DATE")
    assert abs((platform_now() - datetime.now(tz=ZoneInfo("UTC"))).total_seconds()) < 5
