"""Staff pages: anonymous users are sent to sign in and come back; a wrong role gets a 403 page; every role
lands on its own home; the complaint officer works a complaint from the web (classify, assign, evidence,
extend with a second person's approval, close with the notice); KPIs say "—" when nothing was closed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from web.test_pages import csrf, sign_up

PASSWORD = "correct horse 1"


def staff(client: TestClient, email: str, *roles: str) -> None:
    from xiaodai.accounts.service import sign_up as make

    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        make(
            s, email=email, name=email.split("@", maxsplit=1)[0], password=PASSWORD, kind="staff", roles=roles
        )


def login(client: TestClient, email: str, next_url: str = "") -> Any:
    client.cookies.clear()
    page = client.get("/login").text
    target = f"/login?next={next_url}" if next_url else "/login"
    return client.post(target, data={"email": email, "password": PASSWORD, "csrf": csrf(page)})


def error(html: str) -> str:
    match = re.search(r'id="error">([^<]*)', html)
    return match.group(1) if match else ""


def test_anonymous_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    staff(client, "uw@example.com", "underwriter")
    first = client.get("/staff/underwriting", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2Fstaff%2Funderwriting"
    back = login(client, "uw@example.com", "%2Fstaff%2Funderwriting")
    assert str(back.url).endswith("/staff/underwriting")
    evil = login(client, "uw@example.com", "https%3A%2F%2Fevil.example")
    assert str(evil.url).endswith("/staff/underwriting")  # never redirected off the site


@pytest.mark.parametrize(
    ("role", "home", "marker"),
    [
        ("underwriter", "/staff/underwriting", 'id="referred'),
        ("risk", "/staff/models", 'id="models"'),
        ("collector", "/staff/worklist", "<h1>"),
        ("complaint_officer", "/staff/complaints", 'id="kpis"'),
        ("auditor", "/staff/audit", 'id="audit-length"'),
        ("admin", "/staff/admin", 'id="staff-users"'),
    ],
)
def test_every_role_lands_on_its_home(client: TestClient, role: str, home: str, marker: str) -> None:
    staff(client, f"{role}@example.com", role)
    landed = login(client, f"{role}@example.com")
    assert landed.status_code == 200, error(landed.text)
    assert str(landed.url).endswith(home)
    assert marker in landed.text


def test_a_wrong_role_gets_a_403_page(client: TestClient) -> None:
    staff(client, "c@example.com", "collector")
    login(client, "c@example.com")
    for path in ("/staff/models", "/staff/audit", "/staff/admin", "/staff/underwriting"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert 'id="forbidden"' in refused.text
        assert "无权访问" in refused.text
    sign_up(client, "b@example.com")
    assert client.get("/staff/worklist").status_code == 403  # borrowers: staff only
    assert client.get("/staff/worklist").headers["content-type"].startswith("text/html")


def _file_complaint(client: TestClient, text: str) -> str:
    sign_up(client, f"complainer{len(text)}@example.com")
    page = client.get("/complaints").text
    done = client.post("/complaints", data={"csrf": csrf(page), "narrative": text, "loan_id": ""})
    match = re.search(r'id="ack" class="approve">[^<]*?(\S+) ·', done.text)
    assert match, done.text
    return match.group(1)


def test_complaint_officer_works_a_complaint_to_close(client: TestClient) -> None:
    public_id = _file_complaint(client, "客服一直不回复我的问题，已经两周了。")
    staff(client, "o1@example.com", "complaint_officer")
    staff(client, "o2@example.com", "complaint_officer")
    staff(client, "hq@example.com", "admin")
    login(client, "o1@example.com")
    queue = client.get("/staff/complaints").text
    assert 'id="kpi-on-time">—<' in queue  # nothing closed yet: no rate, not 100 %
    assert f'href="/staff/complaints/{public_id}"' in queue
    url = f"/staff/complaints/{public_id}"
    page = client.get(url).text
    token = csrf(page)
    classified = client.post(url + "/classify", data={"csrf": token, "category": "service_efficiency"})
    assert 'id="complaint-category">服务效率与质量' in classified.text
    officer = re.search(r'<option value="(\d+)" selected>o1</option>', classified.text)
    assert officer
    assigned = client.post(url + "/assign", data={"csrf": token, "assignee": officer.group(1)})
    assert 'id="complaint-assignee">o1' in assigned.text
    short = client.post(url + "/evidence", data={"csrf": token, "text": "ok"})
    assert short.status_code == 400
    assert "5" in error(short.text)
    attached = client.post(url + "/evidence", data={"csrf": token, "text": "通话录音 2026-01-08 已核实"})
    assert "通话录音 2026-01-08 已核实" in attached.text
    asked = client.post(
        url + "/extend", data={"csrf": token, "kind": "special_plus_30d", "reason": "需调取外部记录"}
    )
    request_id = re.search(r"/extend/([0-9a-f]+)/approve", asked.text)
    assert request_id
    own = client.post(f"{url}/extend/{request_id.group(1)}/approve", data={"csrf": token})
    assert own.status_code == 400
    assert "双人复核" in error(own.text)
    login(client, "o2@example.com")  # another officer is not senior enough for a special extension
    second = client.get(url).text
    junior = client.post(f"{url}/extend/{request_id.group(1)}/approve", data={"csrf": csrf(second)})
    assert junior.status_code == 400
    login(client, "hq@example.com")
    second = client.get(url).text
    approved = client.post(f"{url}/extend/{request_id.group(1)}/approve", data={"csrf": csrf(second)})
    assert approved.status_code == 200, error(approved.text)
    assert "时限已延长" in approved.text
    incomplete = client.post(
        url + "/close", data={"csrf": csrf(second), "remedy": "apology", "root_cause": ""}
    )
    assert incomplete.status_code == 400
    closed = client.post(
        url + "/close",
        data={
            "csrf": csrf(second),
            "verification_summary": "调取了客服工单和通话记录",
            "basis": "客户服务规范第3条",
            "reasons": "回复超时属实",
            "remedy_channels": "申请复核、调解、仲裁、诉讼",
            "remedy": "apology",
            "root_cause": "SERVICE_RESPONSE_TIME",
        },
    )
    assert closed.status_code == 200, error(closed.text)
    assert 'id="complaint-status">已办结' in closed.text
    kpis = client.get("/staff/complaints").text
    assert re.search(r'id="kpi-closed">1<', kpis)
    assert 'id="kpi-on-time">100.0%<' in kpis
    assert "(1 / 1)" in kpis


def test_auditor_verifies_the_chain(client: TestClient) -> None:
    staff(client, "a@example.com", "auditor")
    page = login(client, "a@example.com").text
    verified = client.post("/staff/audit/verify", data={"csrf": csrf(page)})
    assert 'id="verify-result" class="approve"' in verified.text


def test_admin_adds_a_staff_member_and_errors_keep_the_form(client: TestClient) -> None:
    staff(client, "root@example.com", "admin")
    page = login(client, "root@example.com").text
    missing_role = client.post(
        "/staff/admin/users",
        data={"csrf": csrf(page), "email": "new@example.com", "name": "新人", "password": PASSWORD},
    )
    assert missing_role.status_code == 400
    assert 'value="new@example.com"' in missing_role.text
    added = client.post(
        "/staff/admin/users",
        data={
            "csrf": csrf(page),
            "email": "new@example.com",
            "name": "新人",
            "password": PASSWORD,
            "roles": "auditor",
        },
    )
    assert 'id="admin-ack"' in added.text
    assert "新人" in added.text


def test_next_allowed_contact_time_is_found_by_the_engine(client: TestClient) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from support.journey import overdue_loan
    from xiaodai.collections.contact_facts import Attempt
    from xiaodai.collections.service import next_allowed
    from xiaodai.db.tables import UserRow

    staff(client, "col@example.com", "collector")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        collector = s.execute(select(UserRow.id).where(UserRow.email == "col@example.com")).scalar_one()
    loan_id = overdue_loan(client, collector)
    beijing = ZoneInfo("Asia/Shanghai")
    call = Attempt("contact", "call")
    with factory() as s:
        night = next_allowed(
            s, loan_id=loan_id, attempt=call, as_of=datetime(2026, 3, 2, 2, 47, tzinfo=beijing)
        )
        just_before = next_allowed(
            s, loan_id=loan_id, attempt=call, as_of=datetime(2026, 3, 2, 7, 59, 30, tzinfo=beijing)
        )
        opening = next_allowed(
            s, loan_id=loan_id, attempt=call, as_of=datetime(2026, 3, 2, 8, 0, tzinfo=beijing)
        )
    assert night == datetime(2026, 3, 2, 8, 0, tzinfo=beijing)
    assert just_before == datetime(2026, 3, 2, 8, 0, tzinfo=beijing)
    assert opening == datetime(2026, 3, 2, 8, 0, tzinfo=beijing)  # allowed now: now
