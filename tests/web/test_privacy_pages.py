"""Personal-data pages: the borrower's profile (masked, never prefilled), separate sensitive-data consent,
corrections, consent withdrawal and grant, the deletion plan and requests; the staff view of a person
(masked, unmasking justified and audited, refusals 403 with their reason). Both databases."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import apply_body, borrower, overdue_loan
from xiaodai.accounts.service import sign_up as account_sign_up
from xiaodai.db.tables import (
    AuditEventRow,
    ConsentRow,
    DataRequestRow,
    LoanRow,
    PersonalDataRow,
    UserRow,
)

PASSWORD = "correct horse 1"
ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
CARD = "6222021234567890128"
ADDRESS = "北京市朝阳区建国路88号"
CONTACT_PHONE = "13900001111"
PROFILE = {
    "name": "张三丰",
    "id_number": ID_NUMBER,
    "phone": PHONE,
    "bank_card": CARD,
    "address": ADDRESS,
    "contact1_name": "李四",
    "contact1_relation": "friend",
    "contact1_phone": CONTACT_PHONE,
}
CLEAR = (ID_NUMBER, PHONE, CARD, "建国路", CONTACT_PHONE, "张三丰")


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form without CSRF token"
    return match.group(1)


def section(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]


def error(html: str) -> str:
    match = re.search(r'id="error">([^<]*)', html)
    return match.group(1) if match else ""


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def _count(client: TestClient, table: Any) -> int:
    with _factory(client)() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def _audit(client: TestClient, action: str) -> list[AuditEventRow]:
    with _factory(client)() as s:
        return list(s.execute(select(AuditEventRow).where(AuditEventRow.action == action)).scalars())


def login(client: TestClient, email: str) -> None:
    client.cookies.clear()
    page = client.get("/login").text
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf(page)}, follow_redirects=False
    )
    assert response.status_code == 303, error(response.text)


def web_borrower(client: TestClient, email: str) -> None:
    client.cookies.clear()
    page = client.get("/signup").text
    response = client.post(
        "/signup", data={"email": email, "name": "张三", "password": PASSWORD, "csrf": csrf(page)}
    )
    assert response.status_code == 200, error(response.text)
    login(client, email)


def staff_member(client: TestClient, email: str, role: str) -> int:
    with _factory(client)() as s, s.begin():
        user = account_sign_up(s, email=email, name=role, password=PASSWORD, kind="staff", roles=(role,))
        return int(user.id)


def save(client: TestClient, **form: str) -> Any:
    page = client.get("/me/data").text
    return client.post("/me/data/profile", data={"csrf": csrf(page), **form})


def with_profile(client: TestClient, email: str) -> int:
    """A borrower signed in on the web with a full profile; returns their user id."""
    web_borrower(client, email)
    saved = save(client, **PROFILE, sensitive_data_consent="yes")
    assert saved.status_code == 200, error(saved.text)
    with _factory(client)() as s:
        return int(s.execute(select(UserRow.id).where(UserRow.email == email)).scalar_one())


def test_profile_needs_the_separate_sensitive_consent_and_is_shown_masked(client: TestClient) -> None:
    web_borrower(client, "pd1@example.com")
    empty = client.get("/me/data")
    assert empty.status_code == 200
    assert 'href="/me/data"' in empty.text  # in the portal navigation
    assert 'href="/me/export"' in empty.text
    assert 'id="sensitive_data_consent" value="yes">' in empty.text  # unchecked
    refused = save(client, **PROFILE)
    assert refused.status_code == 400
    assert "身份证号和银行卡号属于敏感个人信息" in error(refused.text)  # SENSITIVE_CONSENT_REQUIRED
    assert _count(client, PersonalDataRow) == 0
    bad_contact = save(client, contact1_name="王五", contact1_relation="friend", contact1_phone="139")
    assert bad_contact.status_code == 400
    assert "紧急联系人须填写姓名、关系和手机号" in error(  # CONTACTS_INVALID, in the page's language
        bad_contact.text
    )

    shown = save(client, **PROFILE, sensitive_data_consent="yes")
    assert shown.status_code == 200, error(shown.text)
    page = shown.text
    assert 'id="ack"' in page
    assert "1101**********002X" in page
    assert "138****5678" in page
    assert "622202*********0128" in page
    assert "139****1111" in page
    assert "北京市朝阳区****" in page
    for secret in CLEAR:
        assert secret not in page, secret
    assert not re.search(r'<input[^>]*name="(name|id_number|phone|bank_card|address)"[^>]*value=', page)
    with _factory(client)() as s:
        kinds = s.execute(select(ConsentRow.kind).where(ConsentRow.withdrawn_at.is_(None))).scalars().all()
        assert kinds == ["sensitive_data"]
        assert s.execute(select(func.count()).select_from(DataRequestRow)).scalar_one() == 0


def test_changes_to_an_existing_profile_are_recorded_as_corrections(client: TestClient) -> None:
    with_profile(client, "pd2@example.com")
    page = client.get("/me/data").text
    assert 'id="profile-form"' in page
    corrected = save(client, address="上海市浦东新区世纪大道1号", phone="")
    assert corrected.status_code == 200, error(corrected.text)
    assert "上海市浦东新****" in corrected.text
    assert "世纪大道" not in corrected.text
    assert "138****5678" in corrected.text  # empty input: unchanged
    assert "更正" in section(corrected.text, "data-requests")
    with _factory(client)() as s:
        rows = s.execute(select(DataRequestRow)).scalars().all()
        assert [(r.kind, r.status) for r in rows] == [("correction", "done")]
        assert "世纪大道" not in (rows[0].request_enc or "")
    nothing = save(client)
    assert nothing.status_code == 400
    assert "没有填写任何个人信息" in error(  # NOTHING_TO_SAVE, in the page's language
        nothing.text
    )


def test_consents_are_withdrawn_and_granted_from_the_page(client: TestClient) -> None:
    with_profile(client, "pd3@example.com")
    page = client.get("/me/data").text
    assert 'id="withdraw-sensitive_data"' in page
    assert 'id="grant-agency_sharing"' in page
    assert 'id="withdraw-terms"' not in page
    granted = client.post("/me/data/consents/agency_sharing/grant", data={"csrf": csrf(page)})
    assert granted.status_code == 200, error(granted.text)
    assert 'id="grant-agency_sharing"' not in granted.text
    assert 'id="withdraw-agency_sharing"' in granted.text
    withdrawn = client.post("/me/data/consents/agency_sharing/withdraw", data={"csrf": csrf(granted.text)})
    assert withdrawn.status_code == 200, error(withdrawn.text)
    assert 'id="grant-agency_sharing"' in withdrawn.text
    again = client.post("/me/data/consents/agency_sharing/withdraw", data={"csrf": csrf(withdrawn.text)})
    assert again.status_code == 404  # no consent in force to withdraw
    assert "没有可撤回的有效授权" in error(  # NO_ACTIVE_CONSENT, in the page's language
        again.text
    )
    terms = client.post("/me/data/consents/terms/withdraw", data={"csrf": csrf(withdrawn.text)})
    assert "不能在此撤回" in error(  # NOT_WITHDRAWABLE, in the page's language
        terms.text
    )
    not_here = client.post("/me/data/consents/credit_check/grant", data={"csrf": csrf(withdrawn.text)})
    assert "此授权不能在此处给出" in error(  # NOT_GRANTABLE_HERE, in the page's language
        not_here.text
    )
    with _factory(client)() as s:
        rows = s.execute(select(ConsentRow).where(ConsentRow.kind == "agency_sharing")).scalars().all()
        assert [r.withdrawn_at is not None for r in rows] == [True]
    assert [e.reason for e in _audit(client, "consent-withdrawn")] == ["WITHDRAWN"]


def test_deletion_with_a_loan_in_force_lists_what_is_kept(client: TestClient) -> None:
    me = borrower(client, "pd4@example.com")  # API sign-up, same password: a signed loan through the API
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    assert signed.status_code == 201, signed.text
    login(client, "pd4@example.com")
    assert save(client, **PROFILE, sensitive_data_consent="yes").status_code == 200
    page = client.get("/me/data").text
    plan = section(page, "deletion-plan")
    assert "CONTRACT_IN_FORCE" in plan
    assert "借款合同仍在履行" in plan
    unconfirmed = client.post("/me/data/deletion", data={"csrf": csrf(page)})
    assert unconfirmed.status_code == 400
    assert "CONFIRMATION_REQUIRED" in error(unconfirmed.text)
    assert _count(client, DataRequestRow) == 0
    done = client.post("/me/data/deletion", data={"csrf": csrf(page), "confirm": "yes"})
    assert done.status_code == 200, error(done.text)
    history = section(done.text, "data-requests")
    for kept in ("身份证号", "手机号", "紧急联系人", "账户", "CONTRACT_IN_FORCE"):
        assert kept in history, kept
    assert "1101**********002X" in done.text  # nothing silently lost
    with _factory(client)() as s:
        assert s.execute(select(DataRequestRow.status)).scalars().all() == ["refused"]


def test_deletion_without_loans_erases_and_signs_out(client: TestClient) -> None:
    with_profile(client, "pd5@example.com")
    page = client.get("/me/data").text
    plan = section(page, "deletion-plan")
    assert "CONTRACT_IN_FORCE" not in plan
    assert "AML_RETENTION" not in plan
    done = client.post("/me/data/deletion", data={"csrf": csrf(page), "confirm": "yes"})
    assert done.status_code == 200, error(done.text)
    assert 'id="erased"' in done.text
    assert client.get("/me/data").url.path == "/login"  # signed out with the account
    with _factory(client)() as s:
        row = s.execute(select(PersonalDataRow)).scalar_one()
        assert (row.id_number_enc, row.phone_enc, row.bank_card_enc) == (None, None, None)


def test_forms_without_csrf_write_nothing(client: TestClient) -> None:
    web_borrower(client, "pd6@example.com")
    assert 'name="csrf"' in client.get("/me/data").text
    forged = client.post("/me/data/profile", data={**PROFILE, "sensitive_data_consent": "yes"})
    assert 400 <= forged.status_code < 500
    assert "CSRF" in error(forged.text)
    wrong = client.post("/me/data/consents/agency_sharing/grant", data={"csrf": "forged"})
    assert 400 <= wrong.status_code < 500
    deletion = client.post("/me/data/deletion", data={"confirm": "yes"})
    assert 400 <= deletion.status_code < 500
    assert (_count(client, PersonalDataRow), _count(client, ConsentRow), _count(client, DataRequestRow)) == (
        0,
        0,
        0,
    )


def test_staff_view_is_masked_unmasking_needs_a_reason_and_is_audited(client: TestClient) -> None:
    subject = with_profile(client, "pd7@example.com")
    staff_member(client, "uw@example.com", "underwriter")
    login(client, "uw@example.com")
    masked = client.get(f"/staff/people/{subject}")
    assert masked.status_code == 200, error(masked.text)
    assert 'id="audit-banner"' in masked.text
    assert 'id="access-reason">ALLOWED_MASKED' in masked.text
    assert "1101**********002X" in masked.text
    for secret in CLEAR:
        assert secret not in masked.text, secret

    no_reason = client.post(
        f"/staff/people/{subject}", data={"csrf": csrf(masked.text), "fields": ["id_number"]}
    )
    assert no_reason.status_code == 403
    assert 'id="access-reason">JUSTIFICATION_REQUIRED' in no_reason.text
    assert ID_NUMBER not in no_reason.text

    clear = client.post(
        f"/staff/people/{subject}",
        data={
            "csrf": csrf(masked.text),
            "fields": ["id_number"],
            "justification": "identity check for application review",
        },
    )
    assert clear.status_code == 200, error(clear.text)
    assert ID_NUMBER in clear.text
    assert 'id="access-reason">ALLOWED<' in clear.text
    assert "138****5678" in clear.text  # only what was asked for
    assert PHONE not in clear.text
    assert clear.headers["cache-control"] == "no-store"
    again = client.get(f"/staff/people/{subject}").text
    assert ID_NUMBER not in again  # shown once, in that response only
    assert "1101**********002X" in again

    too_much = client.post(
        f"/staff/people/{subject}",
        data={
            "csrf": csrf(again),
            "fields": ["emergency_contacts"],
            "justification": "identity check for application review",
        },
    )
    assert too_much.status_code == 403
    assert 'id="access-reason">NEED_TO_KNOW' in too_much.text
    assert client.get("/staff/people/999999").status_code == 404
    assert [e.reason for e in _audit(client, "pii-view")] == ["ALLOWED_MASKED", "ALLOWED", "ALLOWED_MASKED"]
    assert [e.reason for e in _audit(client, "pii-view-refused")] == [
        "JUSTIFICATION_REQUIRED",
        "NEED_TO_KNOW",
    ]


def test_staff_refusals_are_403_with_their_reason(client: TestClient) -> None:
    alice = staff_member(client, "alice@example.com", "collector")
    staff_member(client, "bob@example.com", "collector")
    staff_member(client, "risk@example.com", "risk")
    loan_id = overdue_loan(client, alice)
    with _factory(client)() as s:
        subject = s.get(LoanRow, loan_id).borrower_id

    login(client, "risk@example.com")
    risk = client.get(f"/staff/people/{subject}")
    assert risk.status_code == 403
    assert 'id="access-reason">NEED_TO_KNOW' in risk.text

    login(client, "bob@example.com")
    bob = client.get(f"/staff/people/{subject}")
    assert bob.status_code == 403
    assert 'id="access-reason">ACCESS_NOT_ASSIGNED' in bob.text
    glass = client.post(
        f"/staff/people/{subject}",
        data={
            "csrf": csrf(bob.text),
            "fields": ["phone"],
            "justification": "borrower reported a fraud on the line",
            "break_glass": "yes",
        },
    )
    assert glass.status_code == 200, error(glass.text)
    assert 'id="access-reason">BREAK_GLASS' in glass.text
    assert 'id="audit-banner"' in glass.text

    login(client, "alice@example.com")
    loan_page = client.get(f"/staff/loans/{loan_id}").text
    assert f'href="/staff/people/{subject}"' in loan_page
    assert client.get(f"/staff/people/{subject}").status_code == 200
    forged = client.post(
        f"/staff/people/{subject}",
        data={"fields": ["phone"], "justification": "call the borrower about arrears"},
    )
    assert 400 <= forged.status_code < 500
    assert "CSRF" in error(forged.text)

    web_borrower(client, "nosy@example.com")
    assert client.get(f"/staff/people/{subject}").status_code == 403  # borrowers: staff only
    refused = {e.reason for e in _audit(client, "pii-view-refused")}
    assert refused == {"NEED_TO_KNOW", "ACCESS_NOT_ASSIGNED"}
    assert [e.reason for e in _audit(client, "pii-break-glass")] == ["BREAK_GLASS"]


def test_pages_in_english(client: TestClient) -> None:
    subject = with_profile(client, "pd8@example.com")
    page = client.get("/me/data?lang=en").text
    for text in ("My personal data", "What we hold about you (masked)", "If you ask for deletion now"):
        assert text in page, text
    assert "PIPL Art. 29" in page
    assert "我的个人信息" not in page
    staff_member(client, "admin@example.com", "admin")
    login(client, "admin@example.com")
    staff = client.get(f"/staff/people/{subject}?lang=en").text
    assert "This access is recorded in the audit trail" in staff
    assert "Borrower's personal data" in staff or "Borrower&#39;s personal data" in staff


def test_withdrawing_sensitive_consent_shows_what_was_erased(client: TestClient) -> None:
    with_profile(client, "pd9@example.com")
    page = client.get("/me/data").text
    done = client.post("/me/data/consents/sensitive_data/withdraw", data={"csrf": csrf(page)})
    assert done.status_code == 200, error(done.text)
    ack = done.text[done.text.index('id="ack"') :][:400]
    assert "id_number" in ack
    assert "bank_card" in ack


def test_a_recent_credit_report_is_listed_as_kept_for_disputes(client: TestClient) -> None:
    from datetime import UTC, datetime

    from xiaodai.db.tables import BureauPullRow
    from xiaodai.features.assemble import credit_report
    from xiaodai.privacy.service import grant_consent

    with_profile(client, "pd-bureau@example.com")
    with _factory(client)() as s, s.begin():
        user = s.execute(select(UserRow).where(UserRow.email == "pd-bureau@example.com")).scalar_one()
        grant_consent(s, user=user, kind="credit_check")
        pull_id, _report = credit_report(
            s, user_id=user.id, application_id="W1", as_of=datetime.now(tz=UTC).date()
        )
    page = client.get("/me/data").text
    plan = section(page, "deletion-plan")
    assert f"#{pull_id}" in plan
    assert "征信报告" in plan or "Credit report" in plan
    assert "DECISION_RECORDS" in plan or "以备异议与投诉" in plan or "for disputes" in plan
    done = client.post("/me/data/deletion", data={"csrf": csrf(page), "confirm": "yes"})
    assert done.status_code == 200, error(done.text)
    with _factory(client)() as s:
        pull = s.get(BureauPullRow, pull_id)
        assert pull is not None
        assert pull.report_enc is not None  # within its floor: kept
        assert pull.erased_at is None
