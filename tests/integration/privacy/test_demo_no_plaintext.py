"""After a full demo run (migrate, seed, then the web app used by borrowers and staff, all logging at DEBUG
with SQL parameters), neither a dump of the database nor the logs contain a plaintext ID number, phone or
card number. Both databases."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from support.demo_model import shared_demo_model
from xiaodai.api.app import create_app
from xiaodai.api.settings import Settings
from xiaodai.db.tables import PersonalDataRow
from xiaodai.logging_setup import configure
from xiaodai.privacy import store
from xiaodai.privacy.keys import current_ring
from xiaodai.privacy.validation import luhn_ok, valid_id_number
from xiaodai.underwriting import service as underwriting

PASSWORD = "xiaodai-demo-2026"


def _dump(factory: sessionmaker[Session]) -> str:
    with factory() as s:
        bind = s.get_bind()
        parts = []
        for table in inspect(bind).get_table_names():
            for row in s.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def _secrets(factory: sessionmaker[Session]) -> tuple[set[str], list[str]]:
    """Every ID, phone and card number the demo stored (decrypted here), and the borrowers' own phones."""
    ring = current_ring()
    found: set[str] = set()
    phones: list[str] = []
    with factory() as s:
        for row in s.execute(select(PersonalDataRow)).scalars():
            data = store.read_fields(ring, row)
            found |= {data["id_number"], data["phone"], data["bank_card"]}
            found |= {c["phone"] for c in data.get("emergency_contacts", [])}
            phones.append(data["phone"])
    return found, phones


def _looks_personal(blob: str) -> list[str]:
    hits = [m for m in re.findall(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])", blob) if valid_id_number(m)]
    hits += list(re.findall(r"(?<![\w.])1[3-9]\d{9}(?![\w.])", blob))  # not inside hashes or decimals
    hits += [m for m in re.findall(r"(?<![\w.])622202\d{13}(?![\w.])", blob) if luhn_ok(m)]
    return hits


def _token(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_demo_run_leaves_no_plaintext_in_dump_or_logs(
    db_url: str,
    factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log_file = tmp_path / "demo.log"
    # the demo model `demo seed` trains (synthetic applicants, no personal data), trained once per run for
    # every worker (support/demo_model.py) and registered here: the seed finds it active and skips training
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    with factory() as s, s.begin():
        underwriting.register_model(s, artifact=shared_demo_model(tmp_path_factory), activate=True)
    env = {
        **os.environ,
        "XIAODAI_DATABASE_URL": db_url,
        "XIAODAI_LOG_LEVEL": "DEBUG",
        "XIAODAI_LOG_FILE": str(log_file),
        "XIAODAI_MODEL_DIR": str(tmp_path / "models"),
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    seeded = subprocess.run(
        [sys.executable, "-m", "xiaodai.cli.main", "demo", "seed", "--loans", "30", "--today", "2026-11-29"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    secrets, phones = _secrets(factory)
    assert len(secrets) >= 40  # 20 people: ID, phone, card, contact phone

    # the web app in this process, logging at DEBUG to the same file
    monkeypatch.setenv("XIAODAI_LOG_FILE", str(log_file))
    monkeypatch.setenv("XIAODAI_LOG_LEVEL", "DEBUG")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, getattr(root, "xiaodai_configured", False))
    sql_logger = logging.getLogger("sqlalchemy.engine")  # configure() at DEBUG logs the SQL: restored after
    sql_level = sql_logger.level
    root.xiaodai_configured = False  # type: ignore[attr-defined]
    configure()
    try:
        app = create_app(Settings(database_url=db_url, secret_key="k" * 32))
        with TestClient(app) as client:
            me = _token(client, "borrower@xiaodai.demo")
            assert client.get("/api/me/profile", headers=me).status_code == 200
            assert client.get("/api/me/export", headers=me).status_code == 200
            phone = phones[3]
            underwriter = _token(client, "underwriter@xiaodai.demo")
            found = client.post(
                "/api/staff/people/lookup", json={"kind": "phone", "value": phone}, headers=underwriter
            )
            assert found.status_code == 200
            person = found.json()["user_ids"][0]
            shown = client.post(
                f"/api/staff/people/{person}/unmask",
                json={"fields": ["id_number", "phone"], "justification": "identity check, demo run"},
                headers=underwriter,
            )
            assert shown.status_code == 200
            bad = client.put("/api/me/profile", json={"bank_card": "6222021234567890120"}, headers=me)
            assert bad.status_code == 422
            try:  # a library error that carries a number in its message, logged with its traceback
                raise ValueError(f"gateway refused card {next(s for s in secrets if len(s) == 19)}")
            except ValueError:
                logging.getLogger("xiaodai.payment_rail").exception("disbursement failed for %s", phone)
        app.state.engine.dispose()
    finally:
        for handler in root.handlers:
            if handler not in saved[0]:
                handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        root.xiaodai_configured = saved[2]  # type: ignore[attr-defined]
        sql_logger.setLevel(sql_level)  # else every later engine of this test process logs its SQL

    logs = log_file.read_text(encoding="utf-8") + seeded.stderr
    assert "INSERT INTO personal_data" in logs  # the SQL and its parameters really were logged
    assert "[PHONE#" in logs  # and the redaction really ran
    dump = _dump(factory)
    for secret in secrets:
        assert secret not in dump, "plaintext personal data in the database dump"
        assert secret not in logs, "plaintext personal data in the logs"
    assert _looks_personal(dump) == []
    assert _looks_personal(logs) == []
