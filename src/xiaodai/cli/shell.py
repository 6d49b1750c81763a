"""Shared plumbing for commands that touch the database: one transaction per command, errors → exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from xiaodai.cli.errors import REFUSED, fail
from xiaodai.db.session import make_engine, session_factory
from xiaodai.money.money import MoneyError
from xiaodai.money.parse import DateInputError, parse_amount_fen, parse_iso_date
from xiaodai.pricing.quote import CapExceededError
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import IllegalTransitionError

T = TypeVar("T")
_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE  # noqa: PLW0603 - one engine per process
    if _ENGINE is None:
        _ENGINE = make_engine()
    return _ENGINE


@contextmanager
def unit_of_work() -> Iterator[Session]:
    factory = session_factory(engine())
    try:
        with factory() as session, session.begin():
            yield session
    except (ServicingError, IllegalTransitionError) as exc:
        fail(str(exc))
    except CapExceededError as exc:
        sys.stderr.write(f"xiaodai: refused: {exc}\n")
        raise SystemExit(REFUSED) from None
    except IntegrityError as exc:
        fail(f"refused: a concurrent or duplicate request conflicts ({exc.orig.__class__.__name__})")
    except StaleDataError:
        fail("refused: the loan changed while this command ran; nothing was saved: run it again")
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            fail("the database is not initialised: run `xiaodai db upgrade`")
        raise


def run(action: Callable[[Session], T]) -> T:
    with unit_of_work() as session:
        return action(session)


def parse_day(text: str, what: str = "--on") -> date:
    """An ISO YYYY-MM-DD date (nothing else), or exit 2 with the reason."""
    try:
        return parse_iso_date(text, what=what)
    except DateInputError as exc:
        fail(str(exc))


def parse_fen(text: str, what: str = "--amount") -> int:
    """A positive amount (ASCII digits, at most 2 decimals, at most 10,000,000 CNY) in fen, or exit 2."""
    try:
        return parse_amount_fen(text, what=what)
    except MoneyError as exc:
        fail(str(exc))


def posting_day(text: str, what: str = "--on") -> date:
    """The booking date of a posting: ISO, and never after the business date (money that has not moved
    yet cannot be booked), or exit 2."""
    day = parse_day(text, what)
    today = platform_today()
    if day > today:
        fail(f"{what} {day} is after today's business date {today}: a posting cannot be dated in the future")
    return day


def platform_today() -> date:
    """The platform's business date: ``XIAODAI_BUSINESS_DATE`` when set (demos, tests), else China's today."""
    fixed = os.environ.get("XIAODAI_BUSINESS_DATE")
    if fixed:
        return parse_day(fixed, "XIAODAI_BUSINESS_DATE")
    return datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()


def platform_now() -> datetime:
    """The moment a command acts at: the wall clock; with ``XIAODAI_BUSINESS_DATE`` set (demos, tests), that
    date at the wall clock's time of day in China, so that rules on hours still see the real hour."""
    china = ZoneInfo("Asia/Shanghai")
    now = datetime.now(tz=china)
    if os.environ.get("XIAODAI_BUSINESS_DATE"):
        return datetime.combine(platform_today(), now.timetz())
    return now


def emit(payload: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    if as_json or render is None:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        render(payload)
