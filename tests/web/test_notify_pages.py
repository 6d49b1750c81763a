"""The borrower's message inbox (zh and en) with the channel form, and the staff job-runs page by role."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from web.test_pages import csrf, sign_up
from web.test_staff_pages import login, staff
from xiaodai.db.tables import UserRow
from xiaodai.jobs import runner
from xiaodai.notify import service
from xiaodai.notify.senders import SimulatedSender

CN = ZoneInfo("Asia/Shanghai")


def test_the_inbox_shows_what_was_sent_and_keeps_my_choices(client: TestClient) -> None:
    sign_up(client, "web.inbox@example.com")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        me = int(s.execute(select(UserRow.id).where(UserRow.email == "web.inbox@example.com")).scalar_one())
    page = client.get("/inbox")
    assert page.status_code == 200
    assert 'id="inbox-empty"' in page.text
    at = datetime(2026, 1, 10, 10, tzinfo=CN)
    with factory() as s, s.begin():
        service.enqueue_notice(
            s, me, "limit_freeze", {"reason": "FRAUD_REVIEW"}, business_date=date(2026, 1, 10), as_of=at
        )
        service.dispatch(s, sender=SimulatedSender(), as_of=at)
    zh = client.get("/inbox?lang=zh").text
    assert "授信额度已暂停使用" in zh
    assert "依法告知" in zh
    assert "未读" in zh
    en = client.get("/inbox?lang=en").text
    assert "legal notice" in en
    assert "Unread" not in en  # shown once: read now
    form = client.post(
        "/inbox/preferences", data={"csrf": csrf(en), "email": "on"}, follow_redirects=False
    )  # SMS and offers unticked
    assert form.status_code == 303
    with factory() as s:
        prefs = service.preferences_view(s, borrower_id=me)
    assert (prefs["sms"], prefs["email"], prefs["marketing_opt_out"]) == (False, True, True)
    assert 'id="saved"' in client.get("/inbox?saved=1").text
    forged = client.post("/inbox/preferences", data={"csrf": "nope", "sms": "on"})
    assert forged.status_code == 400
    with factory() as s:
        assert service.preferences_view(s, borrower_id=me)["sms"] is False


def test_the_job_runs_page_is_for_admins_and_auditors(client: TestClient) -> None:
    staff(client, "web.admin@example.com", "admin")
    staff(client, "web.collector@example.com", "collector")
    runner.run_now(client.app.state.engine, day=date(2026, 1, 10), job="reminders", worker="test")  # type: ignore[attr-defined]
    login(client, "web.admin@example.com")
    page = client.get("/staff/jobs?lang=en")
    assert page.status_code == 200
    assert 'id="runs"' in page.text
    assert "Reminders" in page.text
    assert "succeeded" in page.text
    assert "成功" in client.get("/staff/jobs?lang=zh").text
    login(client, "web.collector@example.com")
    assert client.get("/staff/jobs").status_code == 403


def test_the_days_notices_page_shows_each_decision_in_words(client: TestClient) -> None:
    staff(client, "web.notices@example.com", "collector")
    sign_up(client, "web.noticed@example.com")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        me = int(s.execute(select(UserRow.id).where(UserRow.email == "web.noticed@example.com")).scalar_one())
        service.set_preferences(s, borrower_id=me, marketing_opt_out=True)
        service.enqueue_notice(
            s, me, "limit_increase_offer", {"new_limit": "30000.00"}, business_date=date(2026, 1, 10),
            as_of=datetime(2026, 1, 10, 23, tzinfo=CN),
        )  # fmt: skip
        service.enqueue_notice(
            s, me, "limit_freeze", {"reason": "FRAUD_REVIEW"}, business_date=date(2026, 1, 10),
            as_of=datetime(2026, 1, 10, 23, tzinfo=CN),
        )  # fmt: skip
    login(client, "web.notices@example.com")
    zh = client.get("/staff/notices?date=2026-01-10&lang=zh").text
    assert "提额邀请" in zh
    assert "已退订营销消息" in zh  # suppressed: the borrower opted out
    assert "额度冻结通知" in zh
    en = client.get("/staff/notices?date=2026-01-10&lang=en").text
    assert "outside the hours contact is allowed" in en  # 23:00: the SMS waits for the morning
    assert 'id="no-notices"' in client.get("/staff/notices?date=2026-01-11").text
    assert client.get("/staff/notices?date=2026-13-01").status_code == 400
    login(client, "web.noticed@example.com")
    assert client.get("/staff/notices").status_code == 403
