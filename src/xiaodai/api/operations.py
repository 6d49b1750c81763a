"""Operations endpoints and request metrics: ``/healthz`` (the process answers), ``/readyz`` (the database
answers and its schema is at this code's migration head; 503 otherwise, so a load balancer sends no
traffic to a worker that cannot serve it) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from xiaodai.metrics import HTTP_LATENCY, exposition

router = APIRouter(tags=["operations"])


@lru_cache(maxsize=1)
def migration_head() -> str | None:
    """The newest migration this code ships (Alembic's head)."""
    from alembic.script import ScriptDirectory

    from xiaodai.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up and answering (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database unreachable or schema not current"}})
def readyz(request: Request) -> Response:
    """Readiness: the database answers and its schema is at this code's migration head."""
    head = migration_head()
    try:
        with request.app.state.engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": exc.__class__.__name__},
            status_code=503,
        )
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "migration": current, "expected": head},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "database": "ok", "migration": current})


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def observe_request(scope: Scope, *, status: int, seconds: float) -> None:
    """Request latency by method, route template and status (``/api/loans/{loan_id}``, never the raw path,
    so ids make no new series; unmatched paths share one label). ``api.edge`` calls it for every request."""
    template = getattr(scope.get("route"), "path", None) or "unmatched"
    # the label values by position, in the histogram's order (method, route, status): prometheus_client's
    # keyword form costs three times as much, on every request
    HTTP_LATENCY.labels(scope.get("method", ""), template, str(status)).observe(seconds)
