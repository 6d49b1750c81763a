"""Break-glass and role unmasking in a loop: a placeholder justification is refused; a few unmaskings per
shift, then a second person's approval per borrower, never more than the cap; every break-glass and every
unmasking past the allowance raises an alert (audit event, log warning, metric)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select

from support.journey import staff
from xiaodai.accounts.service import sign_up
from xiaodai.db.tables import AuditEventRow
from xiaodai.privacy.access import FREE_UNMASKS_PER_SHIFT, MAX_UNMASKS_PER_SHIFT, SHIFT

WHY = "borrower called about a wrong address"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def borrowers(client: TestClient, n: int) -> list[int]:
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        return [
            sign_up(s, email=f"b{i}@example.com", name="借款人", password="correct horse 1").id
            for i in range(n)
        ]


def unmask(
    client: TestClient, who: dict[str, str], subject: int, justification: str = WHY, **extra: object
) -> int:
    body = {"fields": ["phone"], "justification": justification, **extra}
    return client.post(f"/api/staff/people/{subject}/unmask", json=body, headers=who).status_code


def alerts(client: TestClient) -> list[str]:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        rows = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "pii-unmask-alert"))
        return [r.reason for r in rows]


def metric(reason: str) -> float:
    return REGISTRY.get_sample_value("xiaodai_pii_unmask_alerts_total", {"reason": reason}) or 0.0


def test_placeholder_justification_is_refused_even_for_break_glass(client: TestClient) -> None:
    _, underwriter = staff(client, "uw@example.com", "underwriter")
    [subject] = borrowers(client, 1)
    assert unmask(client, underwriter, subject, "xxxxxxxxxx") == 403
    assert unmask(client, underwriter, subject, "xxxxxxxxxx", break_glass=True) == 403
    assert unmask(client, underwriter, subject) == 200


def test_unmasking_in_a_loop_needs_a_second_person_then_stops(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    client.app.state.clock = clock  # type: ignore[attr-defined]
    _, underwriter = staff(client, "uw@example.com", "underwriter")
    _, admin = staff(client, "admin@example.com", "admin")
    subjects = borrowers(client, FREE_UNMASKS_PER_SHIFT + 2)
    before = metric("UNMASK_APPROVAL_REQUIRED")
    for subject in subjects[:FREE_UNMASKS_PER_SHIFT]:
        assert unmask(client, underwriter, subject) == 200
    assert alerts(client) == []
    with caplog.at_level(logging.WARNING, logger="xiaodai.privacy.shift_allowance"):
        refused = client.post(
            f"/api/staff/people/{subjects[-2]}/unmask",
            json={"fields": ["phone"], "justification": WHY},
            headers=underwriter,
        )
    assert refused.status_code == 403
    assert "UNMASK_APPROVAL_REQUIRED" in refused.json()["message"]
    assert alerts(client) == ["UNMASK_APPROVAL_REQUIRED"]
    assert metric("UNMASK_APPROVAL_REQUIRED") == before + 1
    assert any("unmask alert UNMASK_APPROVAL_REQUIRED" in r.getMessage() for r in caplog.records)

    # a second person approves this borrower for this staff member
    asked = client.post(
        "/api/staff/approvals",
        json={"operation": "unmask", "params": {"user_id": subjects[-2], "fields": ["phone"]}, "reason": WHY},
        headers=underwriter,
    )
    assert asked.status_code == 201, asked.text
    assert (
        client.post(f"/api/staff/approvals/{asked.json()['id']}/approve", headers=underwriter).status_code
        == 403
    )
    assert client.post(f"/api/staff/approvals/{asked.json()['id']}/approve", headers=admin).status_code == 200
    assert unmask(client, underwriter, subjects[-2]) == 200
    assert unmask(client, underwriter, subjects[-1]) == 403, "the approval covers that borrower only"
    wider = client.post(
        f"/api/staff/people/{subjects[-2]}/unmask",
        json={"fields": ["phone", "id_number"], "justification": WHY},
        headers=underwriter,
    )
    assert wider.status_code == 403, "and those fields only"

    done = FREE_UNMASKS_PER_SHIFT + 1
    while done < MAX_UNMASKS_PER_SHIFT:
        assert unmask(client, underwriter, subjects[-2]) == 200
        done += 1
    assert unmask(client, underwriter, subjects[-2]) == 429  # the cap, approval or not
    assert alerts(client)[-1] == "UNMASK_RATE_LIMITED"

    clock.at += SHIFT + timedelta(seconds=1)  # the next shift
    assert unmask(client, underwriter, subjects[-1]) == 200


def test_every_break_glass_alerts(client: TestClient) -> None:
    _, collector = staff(client, "c@example.com", "collector")
    [subject] = borrowers(client, 1)
    before = metric("BREAK_GLASS")
    assert unmask(client, collector, subject, break_glass=True) == 200
    assert alerts(client) == ["BREAK_GLASS"]
    assert metric("BREAK_GLASS") == before + 1
