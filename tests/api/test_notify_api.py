"""Notifications over the API: my inbox shows what was sent to me (and only to me), my channel choices are
kept and bad bodies are 4xx; staff see the day's notices with reason codes and the job runs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from support.journey import borrower, staff
from xiaodai.db.tables import UserRow
from xiaodai.jobs import runner
from xiaodai.notify import service
from xiaodai.notify.senders import SimulatedSender

CN = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 1, 10)


def user_id(client: TestClient, email: str) -> int:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(UserRow.id).where(UserRow.email == email)).scalar_one())


def test_my_inbox_and_my_choices(client: TestClient) -> None:
    me = borrower(client, "inbox.me@example.com")
    other = borrower(client, "inbox.other@example.com")
    mine = user_id(client, "inbox.me@example.com")
    assert client.get("/api/me/inbox", headers=me).json() == []
    prefs = client.put("/api/me/notice-preferences", json={"marketing_opt_out": True}, headers=me)
    assert prefs.status_code == 200
    assert (prefs.json()["sms"], prefs.json()["marketing_opt_out"]) == (True, True)
    for bad in ({"sms": "yes"}, {"fax": True}):
        refused = client.put("/api/me/notice-preferences", json=bad, headers=me)
        assert refused.status_code == 422, bad
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    at = datetime(2026, 1, 10, 10, tzinfo=CN)
    with factory() as s, s.begin():
        service.enqueue_notice(
            s,
            mine,
            "limit_decrease",
            {"old_limit": "20000.00", "new_limit": "8000.00", "reason": "BUREAU_DETERIORATION"},
            business_date=DAY,
            as_of=at,
        )
        service.enqueue_notice(
            s, mine, "limit_increase_offer", {"new_limit": "30000.00"}, business_date=DAY, as_of=at
        )
        service.dispatch(s, sender=SimulatedSender(), as_of=at)
    box = client.get("/api/me/inbox", headers=me).json()
    assert [(m["channel"], m["category"], m["read"]) for m in box] == [
        ("sms", "legal", False),
        ("app_inbox", "legal", False),
    ]  # the offer was suppressed: I opted out
    assert "8000.00" in box[0]["body"]
    assert client.get("/api/me/inbox", headers=other).json() == []
    assert client.post("/api/me/inbox/read", headers=me).json() == {"marked_read": 2}
    assert client.get("/api/me/notice-preferences", headers=me).json()["legal_notices"] == "always"
    assert client.get("/api/me/inbox").status_code == 401


def test_staff_see_notices_and_job_runs_by_role(client: TestClient) -> None:
    _, admin = staff(client, "ops.admin@example.com", "admin")
    _, collector = staff(client, "notices.collector@example.com", "collector")
    me = borrower(client, "jobs.borrower@example.com")
    runner.run_now(client.app.state.engine, day=DAY, job="reminders", worker="test")  # type: ignore[attr-defined]
    jobs = client.get("/api/staff/jobs", headers=admin)
    assert jobs.status_code == 200
    assert [(r["job"], r["outcome"]) for r in jobs.json()["runs"]] == [("reminders", "succeeded")]
    assert jobs.json()["runs"][0]["duration_ms"] is not None
    assert client.get("/api/staff/jobs", headers=collector).status_code == 403
    assert client.get("/api/staff/jobs", headers=me).status_code == 403
    assert client.get("/api/staff/jobs?job=nope", headers=admin).status_code == 404
    assert client.get("/api/staff/notices?date=2026-01-10", headers=collector).json() == []
    assert client.get("/api/staff/notices?date=2026-13-01", headers=collector).status_code == 422
    assert client.get("/api/staff/notices?date=2026-01-10", headers=me).status_code == 403
    assert client.get("/api/me/inbox", headers=admin).status_code == 403
