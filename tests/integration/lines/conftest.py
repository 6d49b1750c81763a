"""A borrower with an approved application, the test model active (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from support.models import write_artifact
from xiaodai.accounts.service import sign_up
from xiaodai.db.tables import UserRow
from xiaodai.journey import service as journey
from xiaodai.lines import service as lines
from xiaodai.payments.channel import PayoutChannel
from xiaodai.underwriting import service as underwriting

TODAY = date(2026, 1, 10)
BODY: dict[str, Any] = {
    "applicant": {
        "age": 34,
        "monthly_income": "9000",
        "monthly_debt_payments": "500",
        "employment_type": "employed",
        "employment_tenure_years": 8,
        "housing": "owner",
        "dependants": 1,
        "purpose": "consumption",
    },
    "features": {},
    "request": {"amount": "10000", "term": 12},
}


@pytest.fixture
def approved(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], tuple[int, str]]:
    """A new borrower (email) with an approved application: (user id, application public id)."""
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    with factory() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)

    def make(email: str) -> tuple[int, str]:
        with factory() as s, s.begin():
            user = sign_up(s, email=email, name="张三", password="correct horse 1")
            view = journey.submit_application(
                s, user=user, payload=BODY, idempotency_key="k1", credit_check_consent=True, today=TODAY
            )
            assert view["outcome"] == "approve", view
            return user.id, str(view["application_id"])

    return make


def user(session: Session, user_id: int) -> UserRow:
    row = session.get(UserRow, user_id)
    assert row is not None
    return row


Approved = Callable[[str], tuple[int, str]]


def granted(factory: sessionmaker[Session], approved: Approved, email: str = "a@example.com") -> int:
    """A borrower with an active line granted from their approved application (on TODAY): their user id."""
    user_id, app_id = approved(email)
    with factory() as s, s.begin():
        view = lines.grant_line(s, user=user(s, user_id), application_id=app_id, on=TODAY, actor="test")
    assert view["state"] == "active"
    assert 0 < int(view["limit"].split(".")[0]) <= 30000
    return user_id


def draw_on_line(
    s: Session,
    user_id: int,
    amount_fen: int,
    *,
    plan: str = "instalment",
    term: int | None = 6,
    key: str = "d1",
    channel: PayoutChannel | None = None,
) -> dict[str, Any]:
    """A drawdown as the borrower makes it: quoted (the KFS), then signed on the quote's hash (on TODAY)."""
    me = user(s, user_id)
    request = lines.DrawRequest(amount_fen=amount_fen, plan=plan, term=term)
    quote = lines.quote_draw(s, user=me, request=request, today=TODAY)
    return lines.draw(
        s,
        user=me,
        request=request,
        seen_sha256=quote["sha256"],
        ip="127.0.0.1",
        lang="zh",
        today=TODAY,
        key=key,
        channel=channel,
    )
