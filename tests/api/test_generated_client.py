"""The OpenAPI schema is usable as published: a typed client generated from it with openapi-python-client
(a real generator, run as a subprocess into a temporary directory, about 5 s) drives a borrower's
apply -> sign -> repay against the app served by uvicorn. Authentication is a declared security scheme
(bearer, or the session cookie), never an ``authorization`` parameter of each operation."""

from __future__ import annotations

import importlib
import inspect
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn

from support.journey import apply_body
from support.models import write_artifact
from support.served import free_port
from xiaodai.api.app import create_app
from xiaodai.api.settings import Settings
from xiaodai.db.session import make_engine, session_factory
from xiaodai.underwriting import service as underwriting

PACKAGE = "xiaodai_generated_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PUBLIC = {  # everything else needs a bearer token or the session cookie
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/api/auth/signup", "post"),
    ("/api/auth/token", "post"),
    ("/api/model/form", "get"),  # the application form's fields: nothing personal
}
CONFIG = {"content_type_overrides": {"application/pdf": "application/octet-stream"}}


def schema() -> dict[str, Any]:
    return create_app(Settings(database_url="sqlite://", secret_key="schema-only-key")).openapi()


def test_schema_declares_security_schemes_and_no_authorization_parameter() -> None:
    spec = schema()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http"
    assert schemes["bearer"]["scheme"] == "bearer"
    assert (schemes["session"]["type"], schemes["session"]["in"]) == ("apiKey", "cookie")
    operations = [(p, m, o) for p, d in spec["paths"].items() for m, o in d.items()]
    with_auth_param = [
        (p, m)
        for p, m, o in operations
        if any(x["name"].lower() == "authorization" for x in o.get("parameters", []))
    ]
    assert with_auth_param == []
    secured = {(p, m) for p, m, o in operations if o.get("security")}
    assert ("/api/loans/{loan_id}/repayments", "post") in secured
    assert ("/api/staff/approvals/{approval_id}/approve", "post") in secured
    # the payment channel's callback is signed by the channel (HMAC of the body), not by a user
    assert (schemes["channel_signature"]["type"], schemes["channel_signature"]["in"]) == ("apiKey", "header")
    channel_signed = {("/api/payments/callback", "post")}
    for path, method, op in operations:
        if (path, method) in channel_signed:
            assert op["security"] == [{"channel_signature": []}], path
        elif (path, method) in secured:
            assert op["security"] == [{"bearer": []}, {"session": []}], path
    public = {(p, m) for p, m, _ in operations} - secured
    assert public == PUBLIC


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    if not GENERATOR.exists():
        pytest.fail(f"openapi-python-client is a dev dependency: {GENERATOR} is missing")
    where = tmp_path_factory.mktemp("client")
    (where / "openapi.json").write_text(json.dumps(schema()))
    (where / "config.json").write_text(json.dumps(CONFIG))
    started = time.monotonic()
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(where / "openapi.json"),
            "--config",
            str(where / "config.json"),
            "--output-path",
            str(where / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        cwd=where,
        env={"PATH": f"{GENERATOR.parent}:/usr/bin:/bin"},
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unsupported" not in done.stdout, done.stdout  # every operation made it into the client
    print(f"client generated in {time.monotonic() - started:.1f} s")
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def server(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    engine = make_engine(db_url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
    engine.dispose()
    app = create_app(Settings(database_url=db_url, secret_key="generated-client-key"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
    app.state.engine.dispose()


def call(module: ModuleType, *args: Any, **kwargs: Any) -> Any:
    """``module.sync_detailed`` with the keyword arguments it declares (an idempotency key where asked)."""
    params = inspect.signature(module.sync_detailed).parameters
    assert "authorization" not in params, "authentication is the client's, not each call's"
    answer = module.sync_detailed(*args, **{k: v for k, v in kwargs.items() if k in params})
    assert 200 <= answer.status_code.value < 300, (module.__name__, answer.status_code, answer.content[:300])
    return answer.parsed


def test_generated_client_drives_apply_sign_repay(generated: ModuleType, server: str) -> None:
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    auth = {n: importlib.import_module(f"{PACKAGE}.api.auth.auth_{n}") for n in ("sign_up", "token", "me")}
    journey = {
        n: importlib.import_module(f"{PACKAGE}.api.journey.journey_{n}")
        for n in ("apply", "kfs", "sign", "loan", "repay", "statement")
    }
    assert api is not None

    anonymous = generated.Client(base_url=server)
    email, password = "typed@example.com", "correct horse 1"
    call(auth["sign_up"], client=anonymous, body=models.SignUp(email=email, name="类型", password=password))
    issued = call(auth["token"], client=anonymous, body=models.Login(email=email, password=password))
    assert isinstance(issued, models.TokenIssued)
    me = generated.AuthenticatedClient(base_url=server, token=issued.token)
    assert call(auth["me"], client=me)["email"] == email

    application = call(
        journey["apply"],
        client=me,
        body=models.ApplicationCreate.from_dict(apply_body()),
        idempotency_key="typed-apply",
    )
    public_id = application["application_id"]
    assert application["outcome"] == "approve"
    kfs = call(journey["kfs"], public_id, client=me)
    signed = call(
        journey["sign"],
        public_id,
        client=me,
        body=models.SignOffer(kfs_sha256=kfs["sha256"]),
        idempotency_key="typed-sign",
    )
    loan_id = int(signed["loan_id"])
    detail = call(journey["loan"], loan_id, client=me)
    assert isinstance(detail, models.LoanDetail)  # the schema declares the detail's shape: a typed answer
    payment = detail.schedule[0].payment
    paid = call(
        journey["repay"],
        loan_id,
        client=me,
        body=models.Repayment(amount=payment),
        idempotency_key="typed-pay-1",
    )
    assert paid["amount"] == payment
    after = call(journey["loan"], loan_id, client=me)
    assert (detail.paid_total, after.paid_total) == ("0.00", payment)
    pdf = journey["statement"].sync_detailed(loan_id, client=me)
    assert pdf.status_code.value == 200
    assert pdf.content.startswith(b"%PDF")

    stranger = generated.AuthenticatedClient(base_url=server, token="not-a-token")
    refused = journey["loan"].sync_detailed(loan_id, client=stranger)
    assert refused.status_code.value == 401
    assert httpx.get(f"{server}/api/loans/{loan_id}").status_code == 401
