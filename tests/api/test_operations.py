"""Liveness, readiness (database reachable, migrations current -> else 503), Prometheus metrics (latency by
route template, payments posted, contact blocks by reason, EOD step durations), and no handler doing its
work on the event loop."""

from __future__ import annotations

import inspect
from datetime import date, datetime
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from support.journey import apply_body, borrower, overdue_loan, staff
from xiaodai.api.app import create_app
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.api.settings import Settings
from xiaodai.servicing.eod import run_eod


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["migration"] == "0012"
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readiness_without_a_database() -> None:
    app = create_app(Settings(database_url="postgresql://postgres@127.0.0.1:1/none", secret_key="k" * 20))
    with TestClient(app) as client:
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200


def test_metrics_by_route_template_payments_and_blocks(client: TestClient) -> None:
    me = borrower(client, "m@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign",
        json={"kfs_sha256": kfs["sha256"]},
        headers={**me, "Idempotency-Key": "s"},
    )
    loan_id = signed.json()["loan_id"]
    client.get(f"/api/loans/{loan_id}", headers=me)
    payment = client.get(f"/api/loans/{loan_id}", headers=me).json()["schedule"][0]["payment"]
    before = sample("xiaodai_payments_posted_total", kind="repayment")
    for _ in range(2):  # the retry is a replay: one payment posted
        paid = client.post(
            f"/api/loans/{loan_id}/repayments",
            json={"amount": payment},
            headers={**me, "Idempotency-Key": "p1"},
        )
        assert paid.status_code == 201, paid.text
    assert sample("xiaodai_payments_posted_total", kind="repayment") == before + 1

    collector_id, collector = staff(client, "col@example.com", "collector")
    overdue = overdue_loan(client, collector_id)
    blocks = sample("xiaodai_collection_contacts_blocked_total", reason="TIME_WINDOW")
    night = {"action": "contact", "channel": "call", "phone_id": "M1", "target": {"type": "borrower"}}
    client.app.state.clock = lambda: datetime.fromisoformat("2026-03-10T23:30:00+08:00")  # type: ignore[attr-defined]
    blocked = client.post(f"/api/staff/loans/{overdue}/contacts", json=night, headers=collector)
    assert blocked.status_code == 422
    assert blocked.json()["reason"] == "TIME_WINDOW"
    assert sample("xiaodai_collection_contacts_blocked_total", reason="TIME_WINDOW") == blocks + 1
    client.app.state.clock = lambda: datetime.fromisoformat("2026-03-10T10:00:00+08:00")  # type: ignore[attr-defined]
    allowed = client.post(f"/api/staff/loans/{overdue}/contacts", json=night, headers=collector)
    assert allowed.status_code == 201
    assert sample("xiaodai_collection_contacts_blocked_total", reason="TIME_WINDOW") == blocks + 1

    text_ = client.get("/metrics").text
    assert 'route="/api/loans/{loan_id}"' in text_
    assert f'/api/loans/{loan_id}"' not in text_, "raw paths never become labels"
    assert (
        'xiaodai_http_request_duration_seconds_bucket{le="0.05",method="GET",route="/api/loans/{loan_id}",status="200"}'
        in text_
    )


def test_eod_step_durations_are_observed(client: TestClient) -> None:
    before = sample("xiaodai_eod_step_duration_seconds_count", step="bill")
    run_eod(client.app.state.engine, date(2026, 1, 10), catch_up=False)  # type: ignore[attr-defined]
    assert sample("xiaodai_eod_step_duration_seconds_count", step="bill") == before + 1


def test_no_handler_runs_blocking_work_on_the_event_loop(client: TestClient) -> None:
    """Every route handler is a plain ``def``: FastAPI runs it in the threadpool, or ``api.one_hop`` does
    (a coroutine that only awaits the plain function in a worker thread, with the commit)."""

    def walk(routes: list[Any]) -> list[APIRoute]:
        found: list[APIRoute] = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # an included router (FastAPI keeps it whole)
                found += walk(route.original_router.routes)
        return found

    handlers = walk(client.app.routes)  # type: ignore[attr-defined]
    assert len(handlers) > 40
    on_the_loop = [
        r.path
        for r in handlers
        if inspect.iscoroutinefunction(r.endpoint)
        and not (isinstance(r, OneHopRoute) and not inspect.iscoroutinefunction(inspect.unwrap(r.endpoint)))
    ]
    assert on_the_loop == []
    assert any(isinstance(r, OneHopRoute) for r in handlers)
