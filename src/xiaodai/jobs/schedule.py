"""When a job runs (pure): the moment a business date's run is due, which business dates are due at a
given moment, and the back-off before a failed run is tried again. No clock, no database: the runner
passes ``now``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class ScheduleError(ValueError):
    """A job definition that cannot be scheduled (time not HH:MM, unknown zone, a negative count)."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    handler: str
    run_at_local: time
    day_offset: int = 0  # the run for business date D is due on D + day_offset at run_at_local
    timezone: str = "Asia/Shanghai"
    max_attempts: int = 3
    backoff_seconds: int = 60
    lease_seconds: int = 3600
    catch_up_days: int = 1
    wait_seconds: int = 900
    enabled: bool = True

    @classmethod
    def parse(cls, name: str, handler: str, run_at_local: str, **rest: object) -> JobSpec:
        try:
            at = time.fromisoformat(run_at_local)
        except ValueError:
            raise ScheduleError(f"job {name}: run_at_local must be HH:MM, got {run_at_local!r}") from None
        spec = cls(name, handler, at, **rest)  # type: ignore[arg-type]
        try:
            ZoneInfo(spec.timezone)
        except (KeyError, ValueError):
            raise ScheduleError(f"job {name}: unknown time zone {spec.timezone!r}") from None
        if (
            spec.max_attempts < 1
            or spec.backoff_seconds < 0
            or spec.lease_seconds < 1
            or spec.catch_up_days < 1
        ):
            raise ScheduleError(f"job {name}: attempts, lease and catch-up days must be positive")
        return spec


def due_at(spec: JobSpec, business_date: date) -> datetime:
    """The moment (aware) the run for ``business_date`` becomes due."""
    zone = ZoneInfo(spec.timezone)
    return datetime.combine(business_date + timedelta(days=spec.day_offset), spec.run_at_local, tzinfo=zone)


def latest_due(spec: JobSpec, now: datetime) -> date:
    """The latest business date whose run is due at ``now``."""
    if now.tzinfo is None:
        raise ScheduleError("now must carry its UTC offset")
    local = now.astimezone(ZoneInfo(spec.timezone)).date()
    day = local - timedelta(days=spec.day_offset)
    return day if due_at(spec, day) <= now else day - timedelta(days=1)


def due_dates(spec: JobSpec, now: datetime) -> list[date]:
    """The business dates the runner looks at, oldest first: the latest due one and ``catch_up_days − 1``
    before it (a runner that was down catches up that far; older dates need a person)."""
    if not spec.enabled:
        return []
    last = latest_due(spec, now)
    return [last - timedelta(days=k) for k in reversed(range(spec.catch_up_days))]


def backoff(spec: JobSpec, failed_attempts: int) -> timedelta:
    """Wait before the next try after ``failed_attempts`` failures: base, 2×base, 4×base, …"""
    return timedelta(seconds=spec.backoff_seconds * 2 ** max(failed_attempts - 1, 0))


def after_failure(spec: JobSpec, failed_attempts: int, now: datetime) -> tuple[str, datetime | None]:
    """(claim status, next attempt time) after a failed run: ``failed`` with its back-off while attempts
    remain, else ``dead`` (no automatic retry; a person runs it again)."""
    if failed_attempts >= spec.max_attempts:
        return "dead", None
    return "failed", now + backoff(spec, failed_attempts)
