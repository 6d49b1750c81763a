"""``platform`` features (shell): what xiaodai knows about an applicant from its own records.

Read from loans, instalments, applications, complaints, loan events and the blocklist; never from the
request. Definitions are the catalogue's ``computed`` text (``data/catalogue.json``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, exists, func, literal_column, or_, select
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


def _blocklisted(user_id: Any) -> Any:
    """EXISTS an unremoved blocklist entry for the user id or the user's ID-number blind index."""
    bidx = select(PersonalDataRow.id_number_bidx).where(PersonalDataRow.user_id == user_id).scalar_subquery()
    return exists().where(
        BlocklistRow.removed_at.is_(None),
        or_(BlocklistRow.user_id == user_id, BlocklistRow.id_number_bidx == bidx),
    )


def is_blocklisted(session: Session, *, user_id: int) -> bool:
    return bool(session.execute(select(_blocklisted(user_id))).scalar_one())


def _open(state: Any) -> Any:
    """``state IN ('signed', 'active', 'overdue')`` with the states written into the SQL: a constant list
    needs no expanding parameter, so the statement is compiled once and never re-rendered per call."""
    return state.in_([literal_column(f"'{name}'") for name in OPEN_STATES])


def _days(later: Any, earlier: Any, dialect: str) -> Any:
    """Whole days from ``earlier`` to ``later`` (dates), in SQL."""
    if dialect == "postgresql":
        return later - earlier  # date - date is an integer number of days
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


@lru_cache(maxsize=4)
def platform_columns(dialect: str) -> tuple[Any, ...]:
    """The labelled scalar subqueries that compute the platform vector (``platform_values`` reads them), so a
    caller can put them in the statement it runs anyway: the whole vector costs no extra round trip. Built
    once per dialect with bound parameters (``platform_params``): building SQL expressions costs more CPU
    than running them."""
    user_id = bindparam("p_user", type_=Integer)
    day = bindparam("p_as_of", type_=InstallmentRow.due_on.type)
    year_ago = bindparam("p_year_ago", type_=InstallmentRow.due_on.type)
    mine = select(LoanRow.id).where(LoanRow.borrower_id == user_id)
    open_loans = mine.where(_open(LoanRow.state))
    due_before = (
        InstallmentRow.loan_id.in_(mine),
        InstallmentRow.active.is_(True),
        InstallmentRow.due_on < day,
    )
    late = _days(func.coalesce(InstallmentRow.paid_on, day), InstallmentRow.due_on, dialect)
    recent = select(func.count(ApplicationRow.id)).where(
        ApplicationRow.user_id == user_id,
        ApplicationRow.created_at >= bindparam("p_since_30d", type_=ApplicationRow.created_at.type),
        ApplicationRow.public_id != func.coalesce(bindparam("p_application", type_=String), ""),
    )

    def scalar(query: Any, label: str) -> Any:
        return query.scalar_subquery().label(label)

    return (
        scalar(
            select(func.coalesce(func.sum(LoanRow.principal_outstanding_fen), 0)).where(
                LoanRow.borrower_id == user_id, _open(LoanRow.state)
            ),
            "p_exposure_fen",
        ),
        scalar(
            select(func.coalesce(func.max(LoanRow.dpd), 0)).where(
                LoanRow.borrower_id == user_id, _open(LoanRow.state)
            ),
            "p_loan_dpd",
        ),
        scalar(
            select(func.count(LoanRow.id)).where(LoanRow.borrower_id == user_id, LoanRow.state == "settled"),
            "p_repaid",
        ),
        scalar(
            select(func.max(_days(day, InstallmentRow.due_on, dialect))).where(
                InstallmentRow.loan_id.in_(open_loans),
                InstallmentRow.active.is_(True),
                InstallmentRow.due_on < day,
                InstallmentRow.paid_on.is_(None),
            ),
            "p_late_now",
        ),
        scalar(select(func.max(late)).where(*due_before, InstallmentRow.due_on >= year_ago), "p_late_12m"),
        scalar(select(func.count(InstallmentRow.id)).where(*due_before), "p_due"),
        scalar(
            select(func.count(InstallmentRow.id)).where(
                *due_before,
                InstallmentRow.paid_on.is_not(None),
                InstallmentRow.paid_on <= InstallmentRow.due_on,
            ),
            "p_on_time",
        ),
        scalar(recent, "p_recent"),
        scalar(
            select(func.count(ComplaintRow.id)).where(
                ComplaintRow.user_id == user_id,
                ComplaintRow.received_at >= bindparam("p_since_year", type_=ComplaintRow.received_at.type),
            ),
            "p_complaints",
        ),
        scalar(
            select(func.count(LoanEventRow.id))
            .join(LoanRow, LoanRow.id == LoanEventRow.loan_id)
            .where(LoanRow.borrower_id == user_id, LoanEventRow.kind == "hardship-extension"),
            "p_hardship",
        ),
        _blocklisted(user_id).label("p_blocklisted"),
    )


def platform_params(user_id: int, as_of: date, application_id: str | None) -> dict[str, Any]:
    """The values of ``platform_columns``' parameters (``application_id``: left out of the recent count)."""
    return {
        "p_user": user_id,
        "p_as_of": as_of,
        "p_year_ago": as_of - YEAR,
        "p_since_30d": _start_of(as_of - timedelta(days=30)),
        "p_since_year": _start_of(as_of - YEAR),
        "p_application": application_id,
    }


def platform_values(row: Any) -> dict[str, Any]:
    """The catalogue's ``platform`` values from a row holding ``platform_columns`` (money as text in CNY)."""
    worst_now = max(int(row.p_loan_dpd or 0), int(row.p_late_now or 0))
    worst_12m = max(0, int(row.p_late_12m or 0), worst_now)
    due, on_time = int(row.p_due or 0), int(row.p_on_time or 0)
    return {
        "exposure_outstanding": f"{Decimal(int(row.p_exposure_fen or 0)) / 100:.2f}",
        "worst_dpd_now": worst_now,
        "worst_dpd_12m": worst_12m,
        "loans_repaid": int(row.p_repaid or 0),
        "on_time_ratio": None if due == 0 else str(round(Decimal(on_time) / Decimal(due), 4)),
        "applications_last_30d": int(row.p_recent or 0),
        "complaints_12m": int(row.p_complaints or 0),
        "hardship_plans": int(row.p_hardship or 0),
        "blocklisted": bool(row.p_blocklisted),
    }


def platform_features(
    session: Session, *, user_id: int, as_of: date, application_id: str | None = None
) -> dict[str, Any]:
    """The catalogue's ``platform`` values for ``user_id`` on ``as_of`` (money as text in CNY), in one
    statement."""
    dialect = session.get_bind().dialect.name
    params = platform_params(user_id, as_of, application_id)
    return platform_values(session.execute(select(*platform_columns(dialect)), params).one())
