"""``platform`` features (shell): what xiaodai knows about an applicant from its own records.

Read from loans, instalments, applications, complaints, loan events and the blocklist; never from the
request. Definitions are the catalogue's ``computed`` text (``data/catalogue.json``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    ApplicationRow,
    BlocklistRow,
    ComplaintRow,
    InstallmentRow,
    LoanEventRow,
    LoanRow,
    PersonalDataRow,
)

OPEN_STATES = ("signed", "active", "overdue")
YEAR = timedelta(days=365)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _blocklisted(user_id: int) -> Any:
    """EXISTS an unremoved blocklist entry for the user id or the user's ID-number blind index."""
    bidx = select(PersonalDataRow.id_number_bidx).where(PersonalDataRow.user_id == user_id).scalar_subquery()
    return exists().where(
        BlocklistRow.removed_at.is_(None),
        or_(BlocklistRow.user_id == user_id, BlocklistRow.id_number_bidx == bidx),
    )


def is_blocklisted(session: Session, *, user_id: int) -> bool:
    return bool(session.execute(select(_blocklisted(user_id))).scalar_one())


def _counts(user_id: int, as_of: date, application_id: str | None) -> Any:
    """One statement: other applications in 30 days, complaints in 12 months, hardship plans, blocklist."""
    recent = select(func.count(ApplicationRow.id)).where(
        ApplicationRow.user_id == user_id, ApplicationRow.created_at >= _start_of(as_of - timedelta(days=30))
    )
    if application_id is not None:
        recent = recent.where(ApplicationRow.public_id != application_id)
    complaints = select(func.count(ComplaintRow.id)).where(
        ComplaintRow.user_id == user_id, ComplaintRow.received_at >= _start_of(as_of - YEAR)
    )
    hardship = (
        select(func.count(LoanEventRow.id))
        .join(LoanRow, LoanRow.id == LoanEventRow.loan_id)
        .where(LoanRow.borrower_id == user_id, LoanEventRow.kind == "hardship-extension")
    )
    return select(
        recent.scalar_subquery(),
        complaints.scalar_subquery(),
        hardship.scalar_subquery(),
        _blocklisted(user_id),
    )


def platform_features(
    session: Session, *, user_id: int, as_of: date, application_id: str | None = None
) -> dict[str, Any]:
    """The catalogue's ``platform`` values for ``user_id`` on ``as_of`` (money as text in CNY)."""
    loans = session.execute(
        select(LoanRow.id, LoanRow.state, LoanRow.dpd, LoanRow.principal_outstanding_fen).where(
            LoanRow.borrower_id == user_id
        )
    ).all()
    loan_ids = [loan.id for loan in loans]
    open_ids = {loan.id for loan in loans if loan.state in OPEN_STATES}
    exposure_fen = sum(loan.principal_outstanding_fen for loan in loans if loan.id in open_ids)
    worst_now = max((loan.dpd for loan in loans if loan.id in open_ids), default=0)
    worst_12m = 0
    due = on_time = 0
    if loan_ids:
        instalments = session.execute(
            select(InstallmentRow.loan_id, InstallmentRow.due_on, InstallmentRow.paid_on).where(
                InstallmentRow.loan_id.in_(loan_ids),
                InstallmentRow.active.is_(True),
                InstallmentRow.due_on < as_of,
            )
        ).all()
        for row in instalments:
            settled_on = row.paid_on  # set by servicing once the instalment is paid in full
            late_days = max(0, ((settled_on or as_of) - row.due_on).days)
            if settled_on is None and row.loan_id in open_ids:
                worst_now = max(worst_now, late_days)
            if row.due_on >= as_of - YEAR:
                worst_12m = max(worst_12m, late_days)
            due += 1
            on_time += settled_on is not None and late_days == 0
    worst_12m = max(worst_12m, worst_now)
    recent, complaints, hardship, blocklisted = session.execute(_counts(user_id, as_of, application_id)).one()
    return {
        "exposure_outstanding": f"{Decimal(exposure_fen) / 100:.2f}",
        "worst_dpd_now": int(worst_now),
        "worst_dpd_12m": int(worst_12m),
        "loans_repaid": sum(1 for loan in loans if loan.state == "settled"),
        "on_time_ratio": None if due == 0 else str(round(Decimal(on_time) / Decimal(due), 4)),
        "applications_last_30d": int(recent),
        "complaints_12m": int(complaints),
        "hardship_plans": int(hardship),
        "blocklisted": bool(blocklisted),
    }
