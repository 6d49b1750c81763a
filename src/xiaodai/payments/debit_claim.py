"""Step 1 of the debit batch: claim the day's due instalments — one ``INSERT … SELECT`` creates the
``pending`` attempts (attempt *n* of an instalment due on ``on − offset[n]``; unique ``channel_ref``; not
when the attempt exists or the instalment has a debit in flight), in (loan, period) order, committed
before the channel is asked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import CursorResult, Date, bindparam, text
from sqlalchemy.orm import Session

from xiaodai.payments.debit_policy import RetryPolicy

OPEN_STATES = ("active", "overdue")
REMAINING = (
    "(i.principal_fen + i.interest_fen + i.fee_fen - i.paid_principal_fen - i.paid_interest_fen"
    " - i.paid_fee_fen)"
)


def _attempt_case(policy: RetryPolicy, on: date) -> tuple[str, str, dict[str, date]]:
    dates = {f"d{n}": on - timedelta(days=offset) for n, offset in enumerate(policy.offsets_days)}
    case = "CASE i.due_on " + " ".join(f"WHEN :d{n} THEN {n}" for n in range(len(dates))) + " END"
    listed = ", ".join(f":{name}" for name in dates)
    return case, listed, dates


def _dated(sql: str, names: Iterable[str]) -> Any:
    return text(sql).bindparams(*(bindparam(n, type_=Date) for n in names))


def claim(session: Session, *, on: date, policy: RetryPolicy) -> dict[str, int]:
    """Create the day's ``pending`` attempts (set-based). Returns the counts ``claimed``,
    ``already_done`` (this attempt exists) and ``skipped_in_flight`` (another attempt is pending)."""
    case, listed, dates = _attempt_case(policy, on)
    due = f"""
        FROM installments i
        JOIN loans l ON l.id = i.loan_id
        JOIN payment_cards c ON c.borrower_id = l.borrower_id AND c.is_default
        WHERE i.active AND i.due_on IN ({listed}) AND {REMAINING} > 0
          AND l.state IN ('active', 'overdue') AND c.status = 'bound'
    """
    counted = session.execute(
        _dated(
            f"""SELECT
              COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                             AND d.attempt = {case}) THEN 1 ELSE 0 END), 0),
              COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM debit_attempts d
                                                 WHERE d.installment_id = i.id AND d.attempt = {case})
                                 AND EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                             AND d.status = 'pending') THEN 1 ELSE 0 END), 0)
            {due}""",
            dates,
        ),
        dates,
    ).one()
    inserted: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        _dated(
            f"""INSERT INTO debit_attempts (channel_ref, loan_id, installment_id, attempt, card_id,
                                            business_date, amount_fen, settled_fen, posted_fen, status)
            SELECT 'debit:' || CAST(i.id AS VARCHAR) || ':' || CAST({case} AS VARCHAR), i.loan_id, i.id,
                   {case}, c.id, :on, {REMAINING}, 0, 0, 'pending'
            {due}
              AND NOT EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                              AND (d.attempt = {case} OR d.status = 'pending'))
            ORDER BY i.loan_id, i.period
            ON CONFLICT (channel_ref) DO NOTHING""",
            [*dates, "on"],
        ),
        {**dates, "on": on},
    )
    return {
        "claimed": int(inserted.rowcount),
        "already_done": int(counted[0]),
        "skipped_in_flight": int(counted[1]),
    }
