"""A small hand-made scorecard artifact for decision tests (no training needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.accounts.service import sign_up
from xiaodai.journey.service import record_consent
from xiaodai.underwriting.artifact import CompiledScorecard, FeatureBins

CARD = CompiledScorecard(
    features=(
        FeatureBins(
            "Seniority",
            "numeric",
            points=(100.0, 130.0, 155.0, 180.0),
            missing_points=100.0,
            splits=(1.0, 5.0, 12.0),
            labels=("(-inf, 1)", "[1, 5)", "[5, 12)", "[12, inf)"),
        ),
        FeatureBins(
            "Home",
            "categorical",
            points=(170.0, 140.0, 120.0),
            missing_points=120.0,
            categories=(("owner", "priv"), ("parents",), ("rent", "other", "ignore")),
            labels=("owner, priv", "parents", "rent, other, ignore"),
        ),
        FeatureBins(
            "Income",
            "numeric",
            points=(110.0, 150.0, 185.0),
            missing_points=110.0,
            splits=(100.0, 200.0),
            labels=("(-inf, 100)", "[100, 200)", "[200, inf)"),
        ),
        FeatureBins(
            "Records",
            "categorical",
            points=(175.0, 90.0),
            missing_points=90.0,
            categories=(("no",), ("yes",)),
            labels=("no", "yes"),
        ),
    ),
    labels_zh={"Seniority": "工作年限", "Home": "住房情况", "Income": "收入", "Records": "不良记录"},
    labels_en={
        "Seniority": "Years at current job",
        "Home": "Housing",
        "Income": "Income",
        "Records": "Adverse records",
    },
)


def write_artifact(folder: Path, *, version: str = "test0000model0001") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "version": version,
        "features": [f.name for f in CARD.features],
        "protected": ["Age", "Marital"],
        "config": {"target": "Status", "bad_value": "bad"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "scorecard.json").write_text(json.dumps(CARD.to_json()), encoding="utf-8")
    (folder / "metrics.json").write_text(
        json.dumps({"models": {"scorecard": {"auc_mean": 0.8}}}), encoding="utf-8"
    )
    return folder


def applicant(session: Session, email: str = "applicant@example.com", *, consent: bool = True) -> int:
    """A borrower account (the subject of platform and bureau look-ups), with the credit-check consent."""
    user = sign_up(session, email=email, name="张三", password="correct horse 1")
    if consent:
        record_consent(session, user=user, kind="credit_check")
    return user.id


def application(app_id: str = "APP-1", user_id: int | None = None, **overrides: Any) -> dict[str, Any]:
    """An application body; ``user_id`` names the applicant whose platform and bureau values are looked up."""
    app: dict[str, Any] = {
        "application_id": app_id,
        "as_of": "2026-11-29",
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
    if user_id is not None:
        app["user_id"] = user_id
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            app[section][field] = value
        else:
            app[section] = value
    return app


def assembled_application(app_id: str = "APP-1", **overrides: Any) -> dict[str, Any]:
    """What the pure decision sees once the service assembled it: the applicant's stated values with the
    platform and bureau values looked up, and the model inputs computed (for tests of the pure core)."""
    app = application(app_id)
    app["applicant"].update(
        {
            "worst_dpd_now": 0,
            "worst_dpd_12m": 0,
            "applications_last_30d": 1,
            "blocklisted": False,
            "bureau_overdue_accounts_now": 0,
            "bureau_max_overdue_months": 0,
            "bureau_overdue_months_24m": 0,
        }
    )
    app["features"] = {"Seniority": 8, "Home": "owner", "Income": 180, "Records": "no", "Age": 34}
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        app[section][field] = value
    return app
