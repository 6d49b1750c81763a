"""Every bad amount, date or oversized body through the API is a 4xx with a message and posts nothing:
one parser (``money.parse``) behind the JSON API, the web forms and the CLI. Both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import apply_body, borrower
from xiaodai.db.tables import JournalEntryRow

BAD = [
    "１２",
    "1_0",
    "1,000",
    "1e2",
    "+1",
    "-1",
    "",
    "NaN",
    "Infinity",
    "1.234",
    "1" * 30,
    "1e308",
    "10000000.01",
]


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def _entries(client: TestClient) -> int:
    with _factory(client)() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())


@pytest.fixture
def signed(client: TestClient) -> tuple[dict[str, str], int, str]:
    me = borrower(client, "m@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    loan = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    return me, int(loan.json()["loan_id"]), str(app["application_id"])


def test_bad_amounts_are_422_and_post_nothing(
    client: TestClient, signed: tuple[dict[str, str], int, str]
) -> None:
    me, loan_id, _ = signed
    before = _entries(client)
    for n, amount in enumerate(BAD):
        for path in ("repayments", "prepay"):
            answer = client.post(
                f"/api/loans/{loan_id}/{path}",
                json={"amount": amount},
                headers={**me, "Idempotency-Key": f"{path}{n}"},
            )
            assert answer.status_code == 422, (path, amount, answer.status_code, answer.text)
            assert answer.json()["message"], amount
    for number in (12, 12.5, 1e308, None, True):  # JSON numbers, null and booleans are not amount strings
        answer = client.post(
            f"/api/loans/{loan_id}/repayments",
            json={"amount": number},
            headers={**me, "Idempotency-Key": "n"},
        )
        assert answer.status_code == 422, (number, answer.text)
    assert _entries(client) == before
    ok = client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": "0.01"}, headers={**me, "Idempotency-Key": "ok"}
    )
    assert ok.status_code == 201, ok.text
    assert _entries(client) == before + 1


def test_bad_amounts_in_offers_and_applications(
    client: TestClient, signed: tuple[dict[str, str], int, str]
) -> None:
    me, _, app_id = signed
    for amount in BAD:
        answer = client.get(f"/api/applications/{app_id}/kfs", params={"amount": amount}, headers=me)
        assert answer.status_code == 422, (amount, answer.text)
    for n, amount in enumerate(["1e2", "１２", "1,000", "1" * 30]):
        body = apply_body(request={"amount": amount, "term": 12})
        answer = client.post("/api/applications", json=body, headers={**me, "Idempotency-Key": f"bad{n}"})
        assert answer.status_code == 422, (amount, answer.text)


def test_request_bodies_are_limited(client: TestClient, signed: tuple[dict[str, str], int, str]) -> None:
    me, loan_id, _ = signed
    before = _entries(client)
    url = f"/api/loans/{loan_id}/repayments"
    padding = 64 * 1024 - len(json.dumps({"amount": "1", "pad": ""}))
    at_limit = json.dumps({"amount": "1", "pad": "x" * padding}).encode()
    assert len(at_limit) == 64 * 1024
    headers = {**me, "Idempotency-Key": "big", "Content-Type": "application/json"}
    assert client.post(url, content=at_limit, headers=headers).status_code == 201
    one_more = json.dumps({"amount": "1", "pad": "x" * (padding + 1)}).encode()
    refused = client.post(url, content=one_more, headers={**headers, "Idempotency-Key": "bigger"})
    assert refused.status_code == 413
    assert "64 KiB" in refused.json()["message"]

    def chunks() -> Any:  # no Content-Length: sent chunked
        yield b'{"amount": "1", "pad": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    chunked = client.post(url, content=chunks(), headers={**headers, "Idempotency-Key": "chunked"})
    assert chunked.status_code == 413
    assert _entries(client) == before + 1
