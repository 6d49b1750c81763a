"""The demo borrower's credit line, lived through the real services (a day hook of ``demo.world``).

Two months before the business date the demo borrower applies (the ``demo-line`` story: approved, the
offer not signed as a loan), binds their bank card through the sandbox channel's verification step and is
granted a line from that decision. Three days later they draw on instalments (3,000 over 6 months), a month
before today on the daily-interest 随借随还 plan (2,000), both paid out to the bound card through the payment
channel; they pay each instalment on its due date and repay part of the daily drawdown's principal after
twelve days. The reminder run (T−3, T−1, T0 through the contact policy) has been scheduled for the last
week, so the inbox holds what was sent; "due this month" has the daily drawdown's interest due today and
the instalment due in three days.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import DrawdownRow, InstallmentRow, PersonalDataRow, UserRow
from xiaodai.demo.cast import DEMO_BORROWER, Story
from xiaodai.demo.world import Book, at
from xiaodai.lines import service as lines
from xiaodai.money.dates import add_months

KEY = "demo-line"
REMINDER_DAYS = 7  # the reminder job has run on the last week's business dates


def line_application(today: date) -> Story:
    """The application the line is granted from (approved, not signed as a loan)."""
    return Story(
        KEY,
        DEMO_BORROWER,
        add_months(today, -2),
        Decimal(20000),
        12,
        grades=("A",),
        sign=False,
        tags=("line",),
    )


def _bind_card(session: Session, user: UserRow) -> None:
    """The card number on the borrower's file, bound through the sandbox's verification code."""
    from xiaodai.payments import service as payments
    from xiaodai.payments.sandbox_channel import SandboxChannel
    from xiaodai.privacy.keys import current_ring
    from xiaodai.privacy.store import read_fields

    ring = current_ring()
    number = str(read_fields(ring, session.get(PersonalDataRow, user.id))["bank_card"])
    channel = SandboxChannel()
    started = payments.start_binding(session, channel=channel, ring=ring, borrower_id=user.id, number=number)
    payments.confirm_binding(
        session, channel=channel, card_id=started["card_id"], code=channel.code_for(started["verify_ref"])
    )


def _draw(
    session: Session, book: Book, user: UserRow, day: date, *, request: lines.DrawRequest, key: str
) -> None:
    """Draw as the borrower does (the KFS shown, then signed); the loan is in the book under ``key``."""
    quote = lines.quote_draw(session, user=user, request=request, today=day)
    drawn = lines.draw(
        session,
        user=user,
        request=request,
        seen_sha256=quote["sha256"],
        ip="203.0.113.7",
        lang=user.lang,
        today=day,
        key=key,
        signed_at=at(day, 20, 15),
    )
    book.loans[key] = int(drawn["loan_id"])


def _repay_due(session: Session, user: UserRow, line_id: int, day: date) -> None:
    """Each instalment of the line's instalment drawdowns, paid on its due date."""
    due = session.execute(
        select(InstallmentRow)
        .join(DrawdownRow, DrawdownRow.loan_id == InstallmentRow.loan_id)
        .where(
            DrawdownRow.line_id == line_id,
            DrawdownRow.plan == "instalment",
            InstallmentRow.active,
            InstallmentRow.due_on == day,
        )
    ).scalars()
    for row in due:
        amount = row.principal_fen + row.interest_fen + row.fee_fen
        lines.repay_drawdown(
            session, user=user, loan_id=row.loan_id, amount_fen=amount, on=day, key=f"demo-line:{row.id}"
        )


def line_story(session: Session, day: date, book: Book) -> None:
    today = book.today
    granted_on = add_months(today, -2)
    daily_on = add_months(today, -1)
    if day < granted_on:
        return
    user = book.user(session, DEMO_BORROWER)
    if day == granted_on and book.outcomes.get(KEY) == "approve":
        _bind_card(session, user)
        lines.grant_line(
            session, user=user, application_id=book.applications[KEY], on=day, actor="demo:line-story"
        )
    line = lines.open_line_of(session, user.id)
    if line is None:
        return  # the application was not approved: no line in this world
    if day == granted_on + timedelta(days=3):
        _draw(
            session,
            book,
            user,
            day,
            request=lines.DrawRequest(300_000, "instalment", 6),
            key="demo-line:instalment",
        )
    if day == daily_on:
        _draw(session, book, user, day, request=lines.DrawRequest(200_000, "daily"), key="demo-line:daily")
    if day < today:
        _repay_due(session, user, line.id, day)
    if day == daily_on + timedelta(days=12) and day < today:
        daily = session.execute(
            select(DrawdownRow.loan_id).where(DrawdownRow.line_id == line.id, DrawdownRow.plan == "daily")
        ).scalar_one()
        lines.repay_drawdown(
            session, user=user, loan_id=daily, amount_fen=80_000, on=day, key="demo-line:part"
        )
    if day > today - timedelta(days=REMINDER_DAYS):
        from xiaodai.notify import service as notify

        notify.run_reminders(session, day=day, as_of=at(day, 10))
