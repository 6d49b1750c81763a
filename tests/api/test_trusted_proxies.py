"""X-Forwarded-For is believed only from configured proxies: the login rate limit and the audit trail's
client address cannot be forged by a client, and behind a trusted proxy they see the real client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from xiaodai.accounts.service import MAX_FAILED_LOGINS, sign_up
from xiaodai.api.app import create_app
from xiaodai.api.client_ip import client_from, networks
from xiaodai.api.settings import Settings
from xiaodai.db.tables import AuditEventRow

PASSWORD = "correct horse 1"
PROXY = ("10.0.0.5", 40000)


@pytest.fixture
def proxied(db_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, secret_key="k" * 20, trusted_proxies=("10.0.0.0/24",)))
    with app.state.session_factory() as s, s.begin():
        sign_up(s, email="who@example.com", name="甲", password=PASSWORD)
    with TestClient(app, client=PROXY) as behind_proxy:
        yield behind_proxy
    app.state.engine.dispose()


def attempt(client: TestClient, forwarded: str | None, email: str = "who@example.com") -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    answer = client.post("/api/auth/token", json={"email": email, "password": "wrong!!!!!!"}, headers=headers)
    return answer.status_code


def paused_actors(client: TestClient) -> list[str]:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        rows = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "login-paused"))
        return [r.actor for r in rows]


def test_client_from_reads_the_chain_only_behind_a_trusted_proxy() -> None:
    trusted = networks(["10.0.0.0/24", "192.168.1.1"])
    assert client_from("203.0.113.7", "1.2.3.4", trusted) == "203.0.113.7"  # not a proxy: ignored
    assert client_from("10.0.0.5", "1.2.3.4", trusted) == "1.2.3.4"
    assert client_from("10.0.0.5", "6.6.6.6, 1.2.3.4", trusted) == "1.2.3.4"  # the client forged the left
    assert client_from("10.0.0.5", "6.6.6.6, 1.2.3.4, 192.168.1.1", trusted) == "1.2.3.4"  # two proxies
    assert client_from("10.0.0.5", "not-an-ip", trusted) == "10.0.0.5"
    assert client_from("10.0.0.5", None, trusted) == "10.0.0.5"
    assert client_from("10.0.1.5", "1.2.3.4", trusted) == "10.0.1.5"  # just outside the /24
    assert client_from("10.0.0.5", "1.2.3.4", networks([])) == "10.0.0.5"  # default: trust no one
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        networks(["10.0.0.0/33"])


def test_forged_header_from_an_untrusted_client_changes_nothing(client: TestClient) -> None:
    """The default app trusts no proxy: rotating X-Forwarded-For does not escape the rate limit."""
    limit = client.app.state.settings.login_attempts_per_minute  # type: ignore[attr-defined]
    codes = [attempt(client, f"198.51.100.{i}", email=f"nobody{i}@example.com") for i in range(limit + 1)]
    assert codes[:limit] == [401] * limit
    assert codes[limit] == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_limit_and_audit_address(proxied: TestClient) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert attempt(proxied, "198.51.100.1") == 401
    assert paused_actors(proxied) == ["client:198.51.100.1"]
    ok = proxied.post(
        "/api/auth/token",
        json={"email": "who@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.2"},
    )
    assert ok.status_code == 200, "another client behind the same proxy is not paused"
    limit = proxied.app.state.settings.login_attempts_per_minute  # type: ignore[attr-defined]
    for i in range(limit):
        assert attempt(proxied, "198.51.100.3", email=f"n{i}@example.com") == 401
    assert attempt(proxied, "198.51.100.3", email="x@example.com") == 429
    assert attempt(proxied, "198.51.100.4", email="x@example.com") == 401  # its own window
