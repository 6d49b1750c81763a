"""Every response carries the security headers (JSON, pages, errors); HSTS only when served over HTTPS."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xiaodai.api.app import create_app
from xiaodai.api.security_headers import CSP
from xiaodai.api.settings import Settings

EXPECTED = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/healthz", "/api/loans", "/no-such-page", "/login"])
def test_each_answer_has_the_headers_once(client: TestClient, path: str) -> None:
    answer = client.get(path)
    for name, value in EXPECTED.items():
        assert answer.headers.get_list(name) == [value], (path, name)
    assert "strict-transport-security" not in answer.headers  # plain HTTP here


def test_https_adds_strict_transport_security(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/h.db"
    app = create_app(Settings(database_url=url, secret_key="k", https=True))
    with TestClient(app, base_url="https://testserver") as client:
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert answer.headers["x-frame-options"] == "DENY"


def test_a_page_that_chose_its_own_policy_keeps_it(client: TestClient) -> None:
    """/docs allows the inline styles Swagger UI sets (its own policy); every other header is still set."""
    from xiaodai.web.api_docs import DOCS_CSP

    answer = client.get("/docs")
    assert answer.status_code == 200
    assert answer.headers.get_list("content-security-policy") == [DOCS_CSP]
    assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/").headers["content-security-policy"] == CSP
