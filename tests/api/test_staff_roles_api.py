"""Staff roles over the API: admin lists and changes them; the change applies to a cached token at once;
the last admin keeps the admin role."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from xiaodai.accounts import service as accounts

PASSWORD = "correct horse 1"


def _staff(s: Session, email: str, *roles: str) -> int:
    return accounts.sign_up(s, email=email, name=email[:3], password=PASSWORD, kind="staff", roles=roles).id


def test_roles_over_the_api(client: TestClient) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        admin = _staff(s, "adm@example.com", "admin")
        clerk = _staff(s, "clk@example.com", "collector")

    def token(email: str) -> dict[str, str]:
        got = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {got.json()['token']}"}

    as_admin, as_clerk = token("adm@example.com"), token("clk@example.com")
    assert client.get("/api/staff/accounts", headers=as_clerk).status_code == 403
    assert client.get("/api/staff/worklist", headers=as_clerk).status_code == 200
    listed = client.get("/api/staff/accounts", headers=as_admin).json()
    assert {u["email"]: u["roles"] for u in listed} == {
        "adm@example.com": ["admin"],
        "clk@example.com": ["collector"],
    }
    changed = client.put(
        f"/api/staff/accounts/{clerk}/roles", json={"roles": ["underwriter"]}, headers=as_admin
    )
    assert changed.status_code == 200, changed.text
    # the clerk's own token, cached a moment ago, carries the new roles at once
    assert client.get("/api/staff/worklist", headers=as_clerk).status_code == 403
    last = client.put(f"/api/staff/accounts/{admin}/roles", json={"roles": ["auditor"]}, headers=as_admin)
    assert last.status_code == 403
    assert "LAST_ADMIN" in last.json()["message"]
    bad = client.put(f"/api/staff/accounts/{clerk}/roles", json={"roles": []}, headers=as_admin)
    assert bad.status_code == 400
