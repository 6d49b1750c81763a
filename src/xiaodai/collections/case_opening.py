"""End of day's collections step (shell): every overdue loan in a bucket the strategy collects gets a case,
once, assigned to a collector by the strategy (``strategy.assign_cases``). Idempotent: a loan that has a case
keeps it (and its collector); running the step again opens nothing.

A case opened here only makes contacts *possible*: each one still goes through the contact-policy engine
(``collections.service.attempt_contact``), which may block it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.collections.contact_policy import load_profile
from xiaodai.collections.strategy import CasePolicy, assign_cases, default_strategy
from xiaodai.db.tables import CollectionCaseRow, LoanEventRow, LoanRow, UserRow


def default_context(policy: CasePolicy) -> dict[str, Any]:
    """What a new case knows: the borrower's time zone and registered mobile (by id, never the number)."""
    return {
        "borrower": {"timezone": policy.borrower_timezone, "phones": [{"id": "M1", "type": "mobile"}]},
        "flags": {},
    }


def collectors(session: Session, role: str) -> list[int]:
    rows = session.execute(select(UserRow.id, UserRow.roles).where(UserRow.kind == "staff")).all()
    return sorted(uid for uid, roles in rows if role in (roles or "").split(","))


def open_cases(session: Session, *, day: date, strategy: Mapping[str, Any] | None = None) -> int:
    """Open and assign a case for each overdue loan in a collected bucket without one; returns how many."""
    policy = CasePolicy.from_strategy(strategy or default_strategy())
    load_profile(policy.profile)  # an unknown profile fails the step, not the first contact
    new = list(
        session.execute(
            select(LoanRow.id, LoanRow.bucket, LoanRow.dpd)
            .where(
                LoanRow.state == "overdue",
                LoanRow.bucket.in_(sorted(policy.open_in_buckets)),
                ~select(CollectionCaseRow.loan_id).where(CollectionCaseRow.loan_id == LoanRow.id).exists(),
            )
            .order_by(LoanRow.id)
        ).all()
    )
    if not new:
        return 0
    staff = collectors(session, policy.assign_to_role)
    load: Counter[int] = Counter()
    if staff:
        load.update(
            {
                int(uid or 0): int(n)
                for uid, n in session.execute(
                    select(CollectionCaseRow.assigned_to, func.count())
                    .where(CollectionCaseRow.assigned_to.in_(staff))
                    .group_by(CollectionCaseRow.assigned_to)
                ).all()
            }
        )
    chosen = assign_cases([row.id for row in new], staff, load)
    context = json.dumps(default_context(policy))
    for row in new:
        session.add(
            CollectionCaseRow(
                loan_id=row.id, profile=policy.profile, context_json=context, assigned_to=chosen[row.id]
            )
        )
        session.add(
            LoanEventRow(
                loan_id=row.id,
                business_date=day,
                kind="collection-case-opened",
                payload=json.dumps(
                    {
                        "bucket": row.bucket,
                        "dpd": row.dpd,
                        "assigned_to": chosen[row.id],
                        "profile": policy.profile,
                    }
                ),
            )
        )
    session.flush()
    return len(new)
