"""The staff risk dashboard: charts inline, numbers downloadable, staff only, bad dates refused. Both DBs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from support.journey import apply_body, borrower
from xiaodai.accounts.service import sign_up

PASSWORD = "correct horse 1"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _login(client: TestClient, email: str) -> None:
    client.cookies.clear()
    page = client.get("/login").text
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": _csrf(page)}, follow_redirects=False
    )
    assert response.status_code == 303


def _loan(client: TestClient) -> int:
    me = borrower(client, "risk.borrower@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    return int(signed.json()["loan_id"])


def _staff(client: TestClient) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        sign_up(
            s, email="risk@example.com", name="risk", password=PASSWORD, kind="staff", roles=("collector",)
        )
    _login(client, "risk@example.com")


def test_dashboard_shows_the_book_with_charts_and_downloads(client: TestClient) -> None:
    _loan(client)
    _staff(client)
    page = client.get("/staff/risk?as_of=2026-06-30&lang=en")
    assert page.status_code == 200, page.text[:2000]
    html = page.text
    assert html.count("<svg") >= 5
    assert "<script" not in html
    for table in ("book", "approvals", "ecl", "stress", "complaint-kpis"):
        assert f'id="{table}"' in html
    total = re.search(r'id="ecl-total">([0-9.]+)<', html)
    assert total
    assert float(total.group(1)) > 0  # never repaid: in default by the end of May
    csv = client.get("/staff/risk/ecl.csv?as_of=2026-06-30")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("stage,loans,exposure")
    approvals = client.get("/staff/risk/approvals.csv?as_of=2026-06-30").text.splitlines()
    assert approvals[0] == "month,decisions,approvals,approval_rate"
    assert len(approvals) == 1  # the decision was recorded at the wall clock, after this as-of date
    approvals = client.get("/staff/risk/approvals.csv?as_of=2099-12-31").text.splitlines()
    assert len(approvals) == 2
    assert approvals[1].endswith(",1,1,1.0")
    zh = client.get("/staff/risk?as_of=2026-06-30&lang=zh").text
    assert "预期信用损失" in zh


def test_dashboard_refuses_bad_input_and_non_staff(client: TestClient) -> None:
    _staff(client)
    bad = client.get("/staff/risk?as_of=2026-02-30")
    assert bad.status_code == 400
    assert "2026-02-30" in bad.text
    assert client.get("/staff/risk/nothing.csv").status_code == 404
    assert client.get("/staff/risk/ecl.csv?as_of=nope").status_code == 400
    client.cookies.clear()
    borrower(client, "someone@example.com")
    _login(client, "someone@example.com")
    refused = client.get("/staff/risk")
    assert refused.status_code == 400
    assert 'id="risk"' not in refused.text
    assert client.get("/staff/risk/ecl.csv").status_code == 400
