"""Complaint KPIs for a month and the regulator export (CFPB-style fields), from stored complaints (shell)."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.complaints.service import sla
from xiaodai.db.tables import ComplaintRow, LoanRow

MONETARY = {"refund_fee", "refund_interest", "waive_penalty", "waive_fee", "waive_interest"}


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=UTC)
    return start, end


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def monthly_report(session: Session, *, month: str, as_of: datetime) -> dict[str, Any]:
    start, end = _month_bounds(month)
    rows = [
        r for r in session.execute(select(ComplaintRow)).scalars() if start <= _aware(r.received_at) < end
    ]
    active = (
        session.execute(
            select(func.count(func.distinct(LoanRow.borrower_id))).where(
                LoanRow.state.in_(("active", "overdue"))
            )
        ).scalar_one()
        or 0
    )
    loans_active = (
        session.execute(
            select(func.count()).select_from(LoanRow).where(LoanRow.state.in_(("active", "overdue")))
        ).scalar_one()
        or 0
    )
    base = max(active, 0) or loans_active  # borrowers with an open loan (loans when accounts are not linked)
    primary = [r for r in rows if r.status != "merged"]
    clocks = {r.id: sla(session, r, as_of) for r in primary}
    closed = [r for r in primary if r.status == "closed"]
    days = [
        (_aware(r.closed_at) - _aware(r.received_at)).total_seconds() / 86400 for r in closed if r.closed_at
    ]
    remedies = [json.loads(r.decision_json or "{}").get("remedies", []) for r in closed]
    monetary = sum(any(m.get("kind") in MONETARY for m in rs) for rs in remedies)
    by_category = Counter(r.category for r in primary)
    statuses = Counter(c["sla_status"] for c in clocks.values())
    extended = sum(1 for c in clocks.values() if str(c.get("reason", "")).startswith("SLA_MET_EXTENDED"))
    return {
        "month": month,
        "complaints": len(primary),
        "merged_duplicates": len(rows) - len(primary),
        "active_borrowers": base,
        "per_10k_active": {k: round(v * 10_000 / base, 2) if base else None for k, v in by_category.items()},
        "on_time_rate": round(statuses.get("on_time", 0) / len(primary), 4) if primary else None,
        "sla_status": dict(statuses),
        "extension_rate": round(extended / len(primary), 4) if primary else None,
        "median_days_to_resolve": round(statistics.median(days), 2) if days else None,
        "repeat_rate": round((len(rows) - len(primary)) / len(rows), 4) if rows else None,
        "escalated_to_regulator": sum(1 for r in primary if r.forwarded_by),
        "closed_with_monetary_relief": round(monetary / len(closed), 4) if closed else None,
        "top_root_causes": Counter(r.root_cause for r in closed if r.root_cause).most_common(5),
    }


CFPB_FIELDS = (
    "complaint_id",
    "date_received",
    "product",
    "sub_product",
    "issue",
    "sub_issue",
    "submitted_via",
    "date_sent_to_company",
    "company_response_to_consumer",
    "timely_response",
    "status",
)


def regulator_csv(session: Session, *, month: str, as_of: datetime) -> str:
    start, end = _month_bounds(month)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CFPB_FIELDS)
    writer.writeheader()
    for r in session.execute(select(ComplaintRow).order_by(ComplaintRow.received_at)).scalars():
        if not start <= _aware(r.received_at) < end or r.status == "merged":
            continue
        label = json.loads(r.classification_json or "{}")
        clock = sla(session, r, as_of)
        writer.writerow(
            {
                "complaint_id": r.public_id,
                "date_received": _aware(r.received_at).date().isoformat(),
                "product": label.get("product", ""),
                "sub_product": label.get("sub_product", ""),
                "issue": label.get("issue", ""),
                "sub_issue": label.get("sub_issue", ""),
                "submitted_via": r.channel,
                "date_sent_to_company": _aware(r.received_at).date().isoformat(),
                "company_response_to_consumer": "Closed with explanation"
                if r.status == "closed"
                else "In progress",
                "timely_response": "Yes" if clock["sla_status"] != "breach" else "No",
                "status": r.status,
            }
        )
    return out.getvalue()


def current_month(today: date) -> str:
    return f"{today.year:04d}-{today.month:02d}"
