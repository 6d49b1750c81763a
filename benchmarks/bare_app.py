"""The ceiling for benchmarks/bench_http.py: a bare FastAPI endpoint, no middleware, no database.

uvicorn --factory benchmarks.bare_app:create_app --workers 2   (run by bench_http.py)
"""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/bare")
    def bare() -> dict[str, bool]:  # a sync handler like xiaodai's: it runs in the thread pool too
        return {"ok": True}

    return app
