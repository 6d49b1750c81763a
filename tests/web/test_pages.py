"""The borrower portal through its HTML forms: sign up, apply, offer (KFS first), sign, repay, prepay;
CSRF; language switch; security headers; another borrower's pages are not found."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form without CSRF token"
    return match.group(1)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def sign_up(client: TestClient, email: str) -> None:
    page = client.get("/signup").text
    response = client.post(
        "/signup", data={"email": email, "name": "李四", "password": "correct horse 1", "csrf": csrf(page)}
    )
    assert response.status_code == 200, response.text  # followed the redirect to the sign-in form
    assert 'id="signed-up"' in response.text
    page = response.text
    response = client.post("/login", data={"email": email, "password": "correct horse 1", "csrf": csrf(page)})
    assert response.status_code == 200, response.text


def apply(client: TestClient) -> str:
    page = client.get("/apply").text
    for asked in ("employment_type", "employment_tenure_years", "housing", "dependants", "purpose"):
        assert f'name="{asked}"' in page  # the catalogue's application features
    never_asked = ("existing_overdue_days", "worst_dpd_now", "applications_last_30d", "blocklisted", "bureau")
    for looked_up in never_asked:
        assert looked_up not in page  # looked up by xiaodai, never asked
    response = client.post(
        "/apply",
        data={
            "csrf": csrf(page),
            "idempotency_key": hidden(page, "idempotency_key"),
            "age": "33",
            "monthly_income": "9000",
            "monthly_debt_payments": "300",
            "employment_type": "employed",
            "employment_tenure_years": "8",
            "housing": "owner",
            "dependants": "1",
            "purpose": "consumption",
            "amount": "10000",
            "term": "12",
            "consent_credit_check": "yes",
        },
    )
    assert response.status_code == 200, response.text
    return str(response.url)


def test_portal_journey(client: TestClient) -> None:
    sign_up(client, "p@example.com")
    offer_url = apply(client)
    offer = client.get(offer_url, params={"amount": "6000", "term": "6"}).text
    assert 'id="outcome"' in offer
    headline = offer.index('id="kfs-apr"')
    assert headline < offer.index("rate-secondary")  # the IRR rate comes before any other rate
    assert "6000.00" in offer
    signed = client.post(
        offer_url + "/sign",
        data={
            "csrf": csrf(offer),
            "kfs_sha256": hidden(offer, "kfs_sha256"),
            "amount": hidden(offer, "amount"),
            "term": hidden(offer, "term"),
            "method": hidden(offer, "method"),
        },
    )
    assert signed.status_code == 200
    loan_page = signed.text
    assert 'data-state="active">还款中' in loan_page
    loan_url = str(signed.url)
    review = client.post(
        loan_url + "/repay",
        data={
            "csrf": csrf(loan_page),
            "amount": "100.00",
            "idempotency_key": hidden(loan_page, "idempotency_key"),
        },
    )
    assert review.status_code == 200
    assert 'id="confirm-amount">100.00' in review.text  # nothing posted before the confirmation
    repaid = client.post(
        loan_url + "/repay",
        data={
            "csrf": csrf(review.text),
            "amount": hidden(review.text, "amount"),
            "idempotency_key": hidden(review.text, "idempotency_key"),
            "confirmed": "yes",
        },
    )
    assert repaid.status_code == 200
    assert str(repaid.url).endswith("/receipt")
    assert 'id="receipt-amount">100.00' in repaid.text
    assert 'id="allocation-credit"' in repaid.text  # nothing due yet: held as a credit
    confirm = client.post(loan_url + "/prepay", data={"csrf": csrf(repaid.text), "idempotency_key": "pp-1"})
    assert 'id="confirm-button"' in confirm.text
    prepaid = client.post(
        loan_url + "/prepay", data={"csrf": csrf(repaid.text), "idempotency_key": "pp-1", "confirmed": "yes"}
    )
    assert 'id="receipt-state">已结清' in prepaid.text
    statement = client.get(loan_url + "/statement.pdf")
    assert statement.content.startswith(b"%PDF")
    pdf = client.get(
        offer_url.replace("/applications/", "/api/applications/") + "/kfs.pdf", params={"lang": "xx"}
    )
    assert pdf.status_code == 400


def test_csrf_and_headers_and_language(client: TestClient) -> None:
    page = client.get("/signup")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    forged = client.post(
        "/signup",
        data={"email": "x@example.com", "name": "x", "password": "correct horse 1", "csrf": "forged"},
    )
    assert forged.status_code == 400
    assert "CSRF" in forged.text
    english = client.get("/?lang=en").text
    assert "Sign up" in english
    assert "Complaints" in english
    assert "投诉与建议" in client.get("/?lang=zh").text


def test_other_borrowers_pages_are_not_found(client: TestClient) -> None:
    sign_up(client, "owner@example.com")
    offer_url = apply(client)
    client.cookies.clear()
    sign_up(client, "intruder@example.com")
    assert client.get(offer_url).status_code == 404
    assert "未找到" in client.get(offer_url).text


def test_portal_complaint_is_acknowledged_with_its_deadline(client: TestClient) -> None:
    sign_up(client, "complainer@example.com")
    page = client.get("/complaints").text
    response = client.post(
        "/complaints", data={"csrf": csrf(page), "narrative": "客服一直不回复我的问题。", "loan_id": ""}
    )
    assert response.status_code == 200
    assert 'id="ack"' in response.text
    assert re.search(r'id="ack-deadline">\d{4}-\d\d-\d\d 23:59 北京时间<', response.text), response.text


def test_staff_complaint_queue_page(client: TestClient) -> None:
    from xiaodai.accounts.service import sign_up as staff_sign_up

    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        staff_sign_up(
            s,
            email="officer@example.com",
            name="officer",
            password="correct horse 1",
            kind="staff",
            roles=("complaint_officer",),
        )
    sign_up(client, "c2@example.com")
    page = client.get("/complaints").text
    client.post(
        "/complaints", data={"csrf": csrf(page), "narrative": "提前还款还要收全部利息", "loan_id": ""}
    )
    client.cookies.clear()
    login = client.get("/login").text
    staff = client.post(
        "/login", data={"email": "officer@example.com", "password": "correct horse 1", "csrf": csrf(login)}
    )
    assert staff.status_code == 200
    queue = client.get("/staff/complaints")
    assert queue.status_code == 200, re.findall(r'id="error">([^<]*)', queue.text)
    assert 'id="complaint-queue"' in queue.text
    assert "提前还款与结清" in queue.text  # the category in words, not its code
    assert "<svg" in queue.text


def test_borrower_asks_for_a_review_within_30_days_only(client: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from xiaodai.complaints import service as complaints
    from xiaodai.db.tables import UserRow

    sign_up(client, "reviewer@example.com")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    now = datetime.now(tz=UTC)
    notice = {"verification_summary": "a", "basis": "b", "reasons": "c", "remedies": "调解/仲裁/诉讼"}
    ids = {}
    with factory() as s, s.begin():
        user_id = s.execute(select(UserRow.id).where(UserRow.email == "reviewer@example.com")).scalar_one()
        for name, closed_days_ago in (("recent", 3), ("old", 40)):
            filed = complaints.file_complaint(
                s,
                narrative=f"客服不回复 {name}",
                channel="portal",
                user_id=user_id,
                received_at=now - timedelta(days=closed_days_ago + 5),
            )
            complaints.close(
                s,
                public_id=filed["complaint_id"],
                at=now - timedelta(days=closed_days_ago),
                notice=notice,
                root_cause="OTHER",
                remedies=[{"kind": "explanation"}],
            )
            ids[name] = filed["complaint_id"]
    page = client.get("/complaints").text
    assert f'id="review-{ids["recent"]}"' in page
    ok = client.post(f"/complaints/{ids['recent']}/review", data={"csrf": csrf(page)})
    assert ok.status_code == 200
    assert 'id="review-ack"' in ok.text
    late = client.post(f"/complaints/{ids['old']}/review", data={"csrf": csrf(page)})
    assert late.status_code == 400
    assert "申请复核的30天期限已过" in late.text  # the service's message in the page's language
    sign_up(client, "someone.else@example.com")
    other = client.get("/complaints").text
    intruder = client.post(f"/complaints/{ids['recent']}/review", data={"csrf": csrf(other)})
    assert intruder.status_code == 400
    assert "未找到" in intruder.text  # "complaint … not found", in the page's language
