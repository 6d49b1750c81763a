"""The borrower's channel choices (SMS, e-mail, marketing opt-out); the app inbox is always on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    NoticePreferenceRow,
    UserRow,
)
from xiaodai.notify.basics import NoticeError
from xiaodai.notify.reminder_policy import (
    Preferences,
)


def preferences(session: Session, *, borrower_id: int) -> Preferences:
    row = session.get(NoticePreferenceRow, borrower_id)
    if row is None:
        return Preferences()
    return Preferences(sms=row.sms, email=row.email, marketing_opt_out=row.marketing_opt_out)


def preferences_view(session: Session, *, borrower_id: int) -> dict[str, Any]:
    prefs = preferences(session, borrower_id=borrower_id)
    return {
        "borrower_id": borrower_id,
        "app_inbox": True,
        "sms": prefs.sms,
        "email": prefs.email,
        "marketing_opt_out": prefs.marketing_opt_out,
        "legal_notices": "always",  # app inbox and SMS whatever the choices (docs/domains/notifications.md)
    }


def set_preferences(
    session: Session,
    *,
    borrower_id: int,
    sms: bool | None = None,
    email: bool | None = None,
    marketing_opt_out: bool | None = None,
) -> dict[str, Any]:
    user = session.get(UserRow, borrower_id)
    if user is None or user.kind != "borrower":
        raise NoticeError(f"borrower {borrower_id} does not exist")
    row = session.get(NoticePreferenceRow, borrower_id)
    if row is None:
        defaults = Preferences()
        row = NoticePreferenceRow(
            borrower_id=borrower_id,
            sms=defaults.sms,
            email=defaults.email,
            marketing_opt_out=defaults.marketing_opt_out,
        )
        session.add(row)
    if sms is not None:
        row.sms = sms
    if email is not None:
        row.email = email
    if marketing_opt_out is not None:
        row.marketing_opt_out = marketing_opt_out
    row.updated_at = datetime.now(tz=UTC)
    session.flush()
    return preferences_view(session, borrower_id=borrower_id)
