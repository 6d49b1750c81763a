"""The daily-interest plan's schedule kept exact after a part repayment (shell).

A daily-plan drawdown is priced and created with each period's interest = the daily rate × the period's
actual days on the balance (``pricing.schedule.LoanTerms.periodic_daycount``). A part repayment goes through
servicing's prepayment (interest for the days used, then principal, no fee), which re-amortises the rest:
the running period from the repayment date by its actual days, but the later periods at annual / 12. This
puts every unbilled period of the drawdown back on its actual days at the daily rate, on the balance after
the repayment. Interest is recognised when an instalment is billed (``servicing.billing``), so changing an
unbilled instalment moves nothing in the ledger.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from xiaodai.db.tables import LoanRow
from xiaodai.lines import daily_interest
from xiaodai.servicing.loans import installments


def align_daily_interest(session: Session, loan: LoanRow) -> int:
    """Each unbilled period's interest by its actual days at the daily rate; returns how many changed."""
    rate = Decimal(loan.annual_rate)
    balance = loan.principal_outstanding_fen
    changed = 0
    rows = sorted((r for r in installments(session, loan.id, lock=True) if r.active), key=lambda r: r.due_on)
    for row in rows:
        if row.billed:
            balance -= row.principal_fen - row.paid_principal_fen
            continue
        want = daily_interest.interest_fen(balance, rate, (row.due_on - row.start_on).days)
        if row.interest_fen != want:
            row.interest_fen = want
            changed += 1
        balance -= row.principal_fen
    session.flush()
    return changed
