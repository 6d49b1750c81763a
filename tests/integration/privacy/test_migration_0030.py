"""Migration 0030 lets a credit report be erased (``report_enc`` NULL, ``erased_at``) and the downgrade
restores the NOT NULL column — refusing while an erased report exists — on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine

PULL = (
    "INSERT INTO bureau_pulls (application_id, user_id, consent_id, provider, subject_ref, report_enc, "
    "key_version, pulled_at) VALUES (:app, :user, :consent, 'sandbox', 'user:1', :report, 1, :at)"
)


def columns(url: str) -> dict[str, bool]:
    engine = make_engine(url)
    try:
        return {c["name"]: bool(c["nullable"]) for c in inspect(engine).get_columns("bureau_pulls")}
    finally:
        engine.dispose()


def test_report_may_be_erased_after_the_upgrade_and_the_downgrade_restores_not_null(empty_url: str) -> None:
    upgrade(empty_url, "0029")
    assert "erased_at" not in columns(empty_url)
    assert columns(empty_url)["report_enc"] is False
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (kind, email, name, password_hash, roles, lang, failed_logins) "
                "VALUES ('borrower', 'a@x.cn', '', '!', '', 'zh', 0)"
            )
        )
        user = conn.execute(text("SELECT id FROM users")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO consents (user_id, kind, text_version, granted_at) "
                "VALUES (:user, 'credit_check', 'credit-check-2026.11', '2026-11-01 00:00:00')"
            ),
            {"user": user},
        )
        consent = conn.execute(text("SELECT id FROM consents")).scalar_one()
        conn.execute(
            text(PULL),
            {"app": "A1", "user": user, "consent": consent, "report": "v1.x", "at": "2026-11-01 00:00:00"},
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:  # NOT NULL before 0030
        conn.execute(
            text(PULL),
            {"app": "A0", "user": user, "consent": consent, "report": None, "at": "2026-11-01 00:00:00"},
        )
    engine.dispose()
    upgrade(empty_url, "0030")
    assert columns(empty_url)["report_enc"] is True
    assert columns(empty_url)["erased_at"] is True
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT report_enc, erased_at FROM bureau_pulls")).one() == ("v1.x", None)
        conn.execute(
            text("UPDATE bureau_pulls SET report_enc = NULL, erased_at = :at WHERE application_id = 'A1'"),
            {"at": "2029-11-02 00:00:00"},
        )
    engine.dispose()
    with pytest.raises(RuntimeError, match="erased"):
        command.downgrade(alembic_config(empty_url), "0029")
    assert "erased_at" in columns(empty_url)  # the refused downgrade changed nothing
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE bureau_pulls SET report_enc = 'v1.y', erased_at = NULL"))
    engine.dispose()
    command.downgrade(alembic_config(empty_url), "0029")
    assert "erased_at" not in columns(empty_url)
    assert columns(empty_url)["report_enc"] is False
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT report_enc FROM bureau_pulls")).scalar_one() == "v1.y"
    engine.dispose()
