"""Contacts go through the engine and into an append-only log — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.collections import service
from xiaodai.collections.channels import SimulatedChannel
from xiaodai.collections.contact_facts import Attempt

SH = ZoneInfo("Asia/Shanghai")
CONTEXT = {
    "borrower": {"timezone": "Asia/Shanghai", "phones": [{"id": "M1", "type": "mobile"}]},
    "flags": {"consumer_location_known": True},
}
CALL = Attempt("contact", "call", phone_id="M1")


def test_engine_gates_every_contact_and_the_log_is_append_only(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        service.open_case(s, loan_id=loan_id, profile="CN", context=CONTEXT)
    rail = SimulatedChannel()
    night = datetime(2026, 3, 10, 23, 0, tzinfo=SH)
    with factory() as s, s.begin():
        blocked = service.attempt_contact(
            s, loan_id=loan_id, attempt=CALL, as_of=night, actor="c1", channel=rail
        )
    assert blocked["decision"] == "block"
    assert blocked["reason"] == "TIME_WINDOW"
    assert rail.sent == []  # nothing reached the channel
    for k in range(8):
        at = datetime(2026, 3, 11, 9 + k, 0, tzinfo=SH)
        with factory() as s, s.begin():
            service.attempt_contact(s, loan_id=loan_id, attempt=CALL, as_of=at, actor="c1", channel=rail)
    with factory() as s:
        log = service.contact_history(s, loan_id=loan_id)
        report = service.violations_report(s)
    allowed = [r for r in log if r["decision"] == "allow"]
    assert len(allowed) == len(rail.sent) <= 6
    assert sum(r["outcome"] == "connected_conversation" for r in allowed) <= 3
    assert report["by_reason"]["TIME_WINDOW"] == 1
    assert any(reason.startswith("FREQ_") for reason in report["by_reason"])
    for statement in ("UPDATE contact_attempts SET reason = 'ALLOWED'", "DELETE FROM contact_attempts"):
        with pytest.raises(DBAPIError, match="append-only"), factory() as s, s.begin():
            s.execute(text(statement))


def test_only_the_collections_service_writes_the_contact_log() -> None:
    src = Path(__file__).resolve().parents[3] / "src" / "xiaodai"
    writers = [
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if re.search(r"(?<!class )ContactAttemptRow\(", p.read_text(encoding="utf-8"))
    ]
    assert writers == ["collections/service.py"]


def test_campaign_plans_from_strategy_and_the_engine_decides(
    factory: sessionmaker[Session], engine: object, new_loan: Callable[..., int]
) -> None:
    from xiaodai.servicing.eod import run_eod

    loan_id = new_loan()  # 10,000 over 12 months from 2026-01-10; never paid
    run_eod(engine, date(2026, 2, 20))  # type: ignore[arg-type]  # 10 days past due: M1
    with factory() as s, s.begin():
        service.open_case(s, loan_id=loan_id, profile="CN", context=CONTEXT)
    rail = SimulatedChannel()
    with factory() as s, s.begin():
        night = service.run_campaign(s, as_of=datetime(2026, 2, 20, 23, 0, tzinfo=SH), channel=rail)
    assert night["results"] == {"TIME_WINDOW": 1}  # day 10 of M1 matches the "every 3 days" SMS step only
    assert rail.sent == []
    with factory() as s, s.begin():
        day = service.run_campaign(s, as_of=datetime(2026, 2, 21, 10, 0, tzinfo=SH), channel=rail)
    assert sum(day["results"].values()) >= 1
    assert all(reason.startswith("ALLOWED") for reason in day["results"])
    assert all("逾期" in (message or "") or channel == "call" for channel, _, message in rail.sent)
