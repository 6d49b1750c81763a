"""When a job's business dates fall due, and the back-off after failures (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from xiaodai.jobs.schedule import (
    JobSpec,
    ScheduleError,
    after_failure,
    backoff,
    due_at,
    due_dates,
    latest_due,
)

CN = ZoneInfo("Asia/Shanghai")
EOD = JobSpec.parse("eod", "servicing.eod", "00:30", day_offset=1, catch_up_days=2, backoff_seconds=300)
DEBITS = JobSpec.parse("debits", "payments.run_debits", "06:00")


def test_end_of_day_for_a_date_is_due_half_past_midnight_the_next_day() -> None:
    assert due_at(EOD, date(2026, 2, 10)) == datetime(2026, 2, 11, 0, 30, tzinfo=CN)
    assert latest_due(EOD, datetime(2026, 2, 11, 0, 29, 59, tzinfo=CN)) == date(2026, 2, 9)
    assert latest_due(EOD, datetime(2026, 2, 11, 0, 30, tzinfo=CN)) == date(2026, 2, 10)
    # the same instant written in UTC (16:30 the day before)
    assert latest_due(EOD, datetime(2026, 2, 10, 16, 30, tzinfo=ZoneInfo("UTC"))) == date(2026, 2, 10)


def test_a_same_day_job_and_the_catch_up_window() -> None:
    assert latest_due(DEBITS, datetime(2026, 2, 10, 5, 59, tzinfo=CN)) == date(2026, 2, 9)
    assert latest_due(DEBITS, datetime(2026, 2, 10, 6, 0, tzinfo=CN)) == date(2026, 2, 10)
    assert due_dates(DEBITS, datetime(2026, 2, 10, 7, tzinfo=CN)) == [date(2026, 2, 10)]
    assert due_dates(EOD, datetime(2026, 2, 11, 1, tzinfo=CN)) == [date(2026, 2, 9), date(2026, 2, 10)]
    off = JobSpec.parse("x", "h", "06:00", enabled=False)
    assert due_dates(off, datetime(2026, 2, 10, 7, tzinfo=CN)) == []


def test_backoff_doubles_and_the_last_failure_is_dead() -> None:
    assert [backoff(EOD, n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (300, 600, 1200)]
    now = datetime(2026, 2, 11, 1, tzinfo=CN)
    assert after_failure(EOD, 1, now) == ("failed", now + timedelta(seconds=300))
    assert after_failure(EOD, 2, now) == ("failed", now + timedelta(seconds=600))
    assert after_failure(EOD, 3, now) == ("dead", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"run_at_local": "25:00"}, "HH:MM"),
        ({"run_at_local": "06:00", "timezone": "Mars/Olympus"}, "time zone"),
        ({"run_at_local": "06:00", "max_attempts": 0}, "positive"),
    ],
)
def test_bad_definitions_are_refused(args: dict[str, object], message: str) -> None:
    run_at = str(args.pop("run_at_local"))
    with pytest.raises(ScheduleError, match=message):
        JobSpec.parse("bad", "h", run_at, **args)


def test_now_must_be_aware() -> None:
    with pytest.raises(ScheduleError):
        latest_due(DEBITS, datetime(2026, 2, 10, 7))  # noqa: DTZ001 - the point of the test
