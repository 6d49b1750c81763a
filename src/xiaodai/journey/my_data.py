"""A borrower's copy of everything the platform holds about them (PIPL Art. 45, the right to a copy):
the account, personal data, data requests, consents, applications as submitted, loans, credit reports and
signed disclosures (shell)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import ApplicationRow, ConsentRow, DisclosureRow, UserRow
from xiaodai.features.assemble import reports_of
from xiaodai.journey.service import my_loans
from xiaodai.privacy.service import data_requests, export_personal_data
from xiaodai.servicing.views import loan_view


def export_my_data(session: Session, *, user: UserRow) -> dict[str, Any]:
    applications = session.execute(select(ApplicationRow).where(ApplicationRow.user_id == user.id)).scalars()
    consents = session.execute(select(ConsentRow).where(ConsentRow.user_id == user.id)).scalars()
    disclosures = session.execute(select(DisclosureRow).where(DisclosureRow.user_id == user.id)).scalars()

    return {
        "account": {"id": user.id, "email": user.email, "name": user.name, "created_at": user.created_at},
        "personal_data": export_personal_data(session, user=user),
        "data_requests": data_requests(session, user=user),
        "consents": [
            {
                "kind": c.kind,
                "text_version": c.text_version,
                "granted_at": c.granted_at,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in consents
        ],
        "applications": [
            {
                "application_id": a.public_id,
                "submitted": json.loads(a.payload_json),
                "outcome": a.outcome,
                "loan_id": a.loan_id,
            }
            for a in applications
        ],
        "loans": [loan_view(session, loan_id=loan["id"]) for loan in my_loans(session, user=user)],
        "credit_reports": reports_of(session, user_id=user.id),
        "disclosures": [
            {
                "loan_id": d.loan_id,
                "sha256": d.sha256,
                "signed_at": d.signed_at,
                "kfs": json.loads(d.canonical_json),
            }
            for d in disclosures
        ],
    }
