"""The conformance runner answers a data_protection scenario as the staff API answers the same request.

Same borrower, same staff, same assignment: the runner's decision, reason and display equal the API's status,
reason code and masked values, for views and unmasking with good, missing and placeholder justifications.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from support.journey import overdue_loan, staff
from xiaodai.conformance.runner import run_scenario

PROFILE: dict[str, Any] = {
    "name": "张三",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
    "bank_card": "6222021234567890128",
    "address": "北京市朝阳区建国路88号",
    "sensitive_data_consent": True,
}
WHY = "borrower called disputing a failed repayment"
# (viewer, fields to unmask — none is a plain view, justification)
CASES = [
    ("alice", (), None),
    ("bob", (), None),
    ("risk", (), None),
    ("auditor", (), None),
    ("alice", ("phone",), WHY),
    ("alice", ("phone",), ""),
    ("alice", ("phone",), "xxxxxxxxxx"),
    ("alice", ("phone",), "test"),
    ("alice", ("id_number",), WHY),
    ("bob", ("phone",), WHY),
    ("underwriter", ("id_number", "bank_card"), "identity check for application review"),
    ("underwriter", ("id_number",), "n/a"),
    ("auditor", ("phone",), WHY),
]
SCENARIO_NAME = {"phone": "mobile"}


def _api(
    client: TestClient, headers: dict[str, str], subject: int, fields: tuple[str, ...], why: str | None
) -> Any:
    if not fields:
        return client.get(f"/api/staff/people/{subject}", headers=headers)
    body = {"fields": list(fields), "justification": why or ""}
    return client.post(f"/api/staff/people/{subject}/unmask", json=body, headers=headers)


def _scenario(
    role: str, assigned: list[str], account: str, fields: tuple[str, ...], why: str | None
) -> dict[str, Any]:
    record = {
        "account": account,
        **{SCENARIO_NAME.get(k, k): v for k, v in PROFILE.items() if k != "sensitive_data_consent"},
    }
    when: dict[str, Any] = {"action": "view_unmasked" if fields else "view_profile", "account": account}
    if fields:
        when["fields"] = [SCENARIO_NAME.get(f, f) for f in fields]
    if why is not None:
        when["justification"] = why
    given = {"viewer": {"role": role, "assigned_accounts": assigned}, "record": record}
    return {"id": "parity", "profile": "CN", "suite": "data_protection", "given": given, "when": when}


def test_runner_and_api_agree(client: TestClient) -> None:
    alice_id, alice = staff(client, "alice@example.com", "collector")
    _, bob = staff(client, "bob@example.com", "collector")
    loan_id = overdue_loan(client, alice_id)
    token = client.post(
        "/api/auth/token", json={"email": f"b{alice_id}@example.com", "password": "correct horse 1"}
    ).json()["token"]
    me = {"Authorization": f"Bearer {token}"}
    assert client.put("/api/me/profile", json=PROFILE, headers=me).status_code == 200
    subject = int(client.get("/api/auth/me", headers=me).json()["id"])
    viewers = {
        "alice": ("collector", [str(loan_id)], alice),
        "bob": ("collector", [], bob),
        "risk": ("risk", [], staff(client, "risk@example.com", "risk")[1]),
        "auditor": ("auditor", [], staff(client, "audit@example.com", "auditor")[1]),
        "underwriter": ("underwriter", [], staff(client, "uw@example.com", "underwriter")[1]),
    }
    seen: set[str] = set()
    for who, fields, why in CASES:
        role, assigned, headers = viewers[who]
        response = _api(client, headers, subject, fields, why)
        line = run_scenario(_scenario(role, assigned, str(loan_id), fields, why)).line
        case = (who, fields, why)
        if response.status_code == 200:
            body = response.json()
            assert (line["decision"], line["reason"]) == ("allow", body["access"]), case
            for field in ("name", "id_number", "phone", "bank_card", "address"):
                assert line["display"][SCENARIO_NAME.get(field, field)] == body[field], (case, field)
        else:
            assert response.status_code == 403, (case, response.text)
            code = re.search(r"refused: ([A-Z_]+)", response.json()["message"])
            assert code, response.text
            assert (line["decision"], line["reason"]) == ("block", code.group(1)), case
        seen.add(line["reason"])
    assert seen == {
        "ALLOWED_MASKED",
        "ALLOWED",
        "ACCESS_NOT_ASSIGNED",
        "NEED_TO_KNOW",
        "JUSTIFICATION_REQUIRED",
    }
