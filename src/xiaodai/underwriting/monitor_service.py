"""``xiaodai model monitor`` (shell): training sample vs recent applications, and outcomes by vintage."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import DecisionRow, LoanRow, ModelRow
from xiaodai.underwriting.monitoring import auc, ks, psi, psi_band
from xiaodai.underwriting.scorer import MISSING
from xiaodai.underwriting.service import RegistryError, load_artifact

BAD_DPD = 30  # an outcome is "bad" once the loan has been 30+ days past due or written off


def monitor(
    session: Session, *, since: date | None = None, outcome_months: int = 6, today: date
) -> dict[str, Any]:
    row = session.execute(select(ModelRow).where(ModelRow.active.is_(True))).scalar_one_or_none()
    if row is None:
        raise RegistryError("no active model to monitor")
    model = load_artifact(row.path)
    metrics = json.loads(row.metrics_json or "{}")
    decisions = [
        d
        for d in session.execute(
            select(DecisionRow).where(DecisionRow.model_version == row.version)
        ).scalars()
        if since is None or d.decided_at.date() >= since
    ]
    applications = [json.loads(d.application_json).get("features", {}) for d in decisions]

    features = []
    baseline_bins = metrics.get("bins", {})
    for feature in model.scorer.card.features:
        base = baseline_bins.get(feature.name, {}).get("bins", [])
        regular = [b["count"] for b in base if b.get("label") not in ("Special", "Missing")][
            : len(feature.points)
        ]
        missing = sum(b["count"] for b in base if b.get("label") == "Missing")
        if len(regular) != len(feature.points):
            continue
        actual = [0] * (len(feature.points) + 1)
        for values in applications:
            index = model.scorer._bin(feature, values.get(feature.name))
            actual[len(feature.points) if index == MISSING else index] += 1
        value = psi([*regular, missing], actual)
        features.append({"feature": feature.name, "psi": round(value, 6), "band": psi_band(value)})

    score_psi = None
    distribution = metrics.get("score_distribution", {})
    if distribution and decisions:
        edges = distribution["edges"]
        expected = [g + b for g, b in zip(distribution["good"], distribution["bad"], strict=True)]
        actual = [0] * len(expected)
        for d in decisions:
            if d.score is None:
                continue
            k = sum(1 for edge in edges[1:-1] if d.score >= edge)
            actual[k] += 1
        value = psi(expected, actual)
        score_psi = {"psi": round(value, 6), "band": psi_band(value)}

    by_month: dict[str, dict[str, int]] = defaultdict(lambda: {"applications": 0, "approved": 0})
    for d in decisions:
        month = d.decided_at.strftime("%Y-%m")
        by_month[month]["applications"] += 1
        by_month[month]["approved"] += d.outcome == "approve"
    approval = [
        {"month": m, **v, "approval_rate": round(v["approved"] / v["applications"], 4)}
        for m, v in sorted(by_month.items())
    ]

    vintages: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for d in decisions:
        if d.loan_id is None or d.pd is None:
            continue
        loan = session.get(LoanRow, d.loan_id)
        if loan is None or loan.disbursed_on is None:
            continue
        months_on_book = (today.year - loan.disbursed_on.year) * 12 + today.month - loan.disbursed_on.month
        if months_on_book < outcome_months:
            continue
        bad = int(loan.state == "written-off" or loan.dpd >= BAD_DPD)
        labels, scores = vintages[loan.disbursed_on.strftime("%Y-%m")]
        labels.append(bad)
        scores.append(d.pd)
    outcomes = [
        {
            "vintage": v,
            "loans": len(labels),
            "bad_rate": round(sum(labels) / len(labels), 4),
            "auc": auc(labels, scores),
            "ks": ks(labels, scores),
        }
        for v, (labels, scores) in sorted(vintages.items())
    ]
    return {
        "model_version": row.version,
        "decisions": len(decisions),
        "feature_psi": features,
        "score_psi": score_psi,
        "approval_by_month": approval,
        "outcomes_by_vintage": outcomes,
        "outcome_definition": f"{BAD_DPD}+ days past due or written off, {outcome_months}+ months on book",
    }
