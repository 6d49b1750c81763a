"""My loans and a loan's detail are sent as prebuilt JSON bytes (``api.loan_answers``): the OpenAPI schema
still declares their shape, and the answers match it exactly (no field missing, none extra, JSON types)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from support.journey import apply_body, borrower
from xiaodai.api.loan_answers import LoanDetail, LoanSummary


def _signed_loan(client: TestClient, me: dict[str, str]) -> int:
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    return int(signed.json()["loan_id"])


def _answer_schema(client: TestClient, path: str) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    content = schema["paths"][path]["get"]["responses"]["200"]["content"]
    assert list(content) == ["application/json"]
    return dict(content["application/json"]["schema"])


def test_the_schema_declares_both_answers(client: TestClient) -> None:
    mine = _answer_schema(client, "/api/loans")
    assert mine["type"] == "array"
    assert mine["items"] == {"$ref": "#/components/schemas/LoanSummary"}
    assert _answer_schema(client, "/api/loans/{loan_id}") == {"$ref": "#/components/schemas/LoanDetail"}
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(components["LoanSummary"]["properties"]) == set(LoanSummary.model_fields)
    assert set(components["LoanDetail"]["properties"]) == set(LoanDetail.model_fields)
    assert {"schedule", "bill", "balances", "disclosure"} <= set(components["LoanDetail"]["required"])


def test_the_answers_match_the_declared_models_exactly(client: TestClient) -> None:
    me = borrower(client, "answers@example.com")
    assert client.get("/api/loans", headers=me).json() == []
    loan_id = _signed_loan(client, me)

    mine = client.get("/api/loans", headers=me)
    assert mine.status_code == 200
    assert mine.headers["content-type"] == "application/json"
    listed = TypeAdapter(list[LoanSummary]).validate_python(mine.json())  # strict, extra fields refused
    assert [loan.id for loan in listed] == [loan_id]
    assert [loan.model_dump() for loan in listed] == mine.json()

    detail = client.get(f"/api/loans/{loan_id}", headers=me)
    assert detail.status_code == 200
    assert detail.headers["content-type"] == "application/json"
    shown = LoanDetail.model_validate(detail.json())
    assert shown.model_dump() == detail.json()
    assert shown.id == loan_id
    assert shown.schedule
    assert shown.disclosure is not None
    assert shown.lender.zh  # the lender's name, as signed


def test_prebuilt_answers_keep_object_level_access(client: TestClient) -> None:
    owner = borrower(client, "owner-answers@example.com")
    other = borrower(client, "other-answers@example.com")
    loan_id = _signed_loan(client, owner)
    assert client.get(f"/api/loans/{loan_id}", headers=other).status_code == 404
    assert client.get("/api/loans", headers=other).json() == []
    assert client.get("/api/loans").status_code == 401
