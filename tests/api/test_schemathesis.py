"""Schemathesis against the OpenAPI schema, in process (ASGI, no server): whatever it generates for any
operation, valid or deliberately invalid, anonymous, with a borrower's or with an admin's bearer token,
the API never answers 5xx (the ``not_a_server_error`` check).

Bounded and reproducible for CI: a few examples per operation (``XIAODAI_FUZZ_EXAMPLES`` for a deeper
run), derandomized, no example database. One app and database per backend are shared by all operations,
so generated data accumulates as it would in use; the borrower owns a signed loan, and the signed-in
identities also fuzz every operation against that loan's and application's ids. A failure is a real bug:
fix it in the app with a 4xx and a clear message.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from support.databases import new_pg_copy
from support.journey import apply_body
from support.models import write_artifact
from xiaodai.accounts import service as accounts
from xiaodai.api.app import create_app
from xiaodai.api.settings import Settings
from xiaodai.db.session import make_engine, session_factory
from xiaodai.underwriting import service as underwriting

MAX_EXAMPLES = int(os.environ.get("XIAODAI_FUZZ_EXAMPLES", "15"))  # per operation and identity
IDENTITIES = ("anonymous", "borrower", "admin")
PASSWORD = "correct horse 1"
METHODS = ("get", "put", "post", "delete", "patch")


def _operations() -> list[str]:
    """Every operation in the schema, read at collection time (no database is touched)."""
    app = create_app(Settings(database_url="sqlite:///:memory:", secret_key="schema-only"))
    spec = app.openapi()
    app.state.engine.dispose()
    return [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    ]


OPERATIONS = _operations()


@dataclass(frozen=True, slots=True)
class Fuzzed:
    app: FastAPI
    schema: Any
    tokens: dict[str, dict[str, str]]  # identity → headers
    known: dict[str, object]  # the borrower's own application and loan, for path parameters


def _borrower_with_a_loan(client: TestClient) -> tuple[dict[str, str], dict[str, object]]:
    body = {"email": "fuzz@example.com", "name": "张三", "password": PASSWORD}
    assert client.post("/api/auth/signup", json=body).status_code == 202
    issued = client.post("/api/auth/token", json={"email": body["email"], "password": PASSWORD})
    assert issued.status_code == 200, issued.text
    me = {"Authorization": f"Bearer {issued.json()['token']}"}
    public_id = client.post(
        "/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "fuzz"}
    ).json()["application_id"]
    kfs = client.get(f"/api/applications/{public_id}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{public_id}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    assert signed.status_code == 201, signed.text
    return me, {"public_id": public_id, "loan_id": int(signed.json()["loan_id"])}


def _admin(app: FastAPI, client: TestClient) -> dict[str, str]:
    with app.state.session_factory() as s, s.begin():
        accounts.sign_up(
            s, email="admin@example.com", name="admin", password=PASSWORD, kind="staff", roles=("admin",)
        )
    issued = client.post("/api/auth/token", json={"email": "admin@example.com", "password": PASSWORD})
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['token']}"}


def _app(db_url: str, models: Path) -> FastAPI:
    engine = make_engine(db_url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(models / "artifact"), activate=True)
    engine.dispose()
    # A high login limit, so that generated sign-ins reach the password check instead of a 429.
    return create_app(
        Settings(
            database_url=db_url,
            secret_key="test-secret-key",
            business_date=date(2026, 1, 10),
            login_attempts_per_minute=1_000_000,
        )
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    where = tmp_path_factory.mktemp("schemathesis")
    drop = None
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), where / "xiaodai.db")
        db_url = f"sqlite:///{where / 'xiaodai.db'}"
    else:
        db_url, drop = new_pg_copy(request.getfixturevalue("pg_template"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XIAODAI_MODEL_DIR", str(where / "models"))
        # Password hashing at minimum cost: the run is about inputs, not about argon2's work factor.
        patch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        app = _app(db_url, where)
        try:
            with TestClient(app) as client:
                borrower, known = _borrower_with_a_loan(client)
                tokens = {"anonymous": {}, "borrower": borrower, "admin": _admin(app, client)}
            schema = schemathesis.openapi.from_asgi("/openapi.json", app)
            yield Fuzzed(app, schema, tokens, known)
        finally:
            app.state.engine.dispose()
            if drop is not None:
                drop()


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_error(fuzzed: Fuzzed, label: str, identity: str) -> None:
    method, path = label.split(" ", 1)
    operation = fuzzed.schema[path][method]
    headers = fuzzed.tokens[identity]
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    # Random ids almost never hit a row: the borrower also fuzzes everything else against its own loan.
    own = {name: fuzzed.known[name] for name in re.findall(r"{(\w+)}", path) if name in fuzzed.known}
    if own and identity != "anonymous":
        strategies += [operation.as_strategy(mode, path_parameters=own) for mode in modes]
    cases = st.one_of(*strategies)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)

    call()
