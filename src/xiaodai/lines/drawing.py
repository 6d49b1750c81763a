"""Drawing on a line (a loan through the journey's pricing, KFS, signing and disbursement) and repaying a
drawdown any amount any day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    CreditLineRow,
    DrawdownRow,
    LoanRow,
    UserRow,
)
from xiaodai.journey import service as journey
from xiaodai.lines import daily_interest
from xiaodai.lines.daily_schedule import align_daily_interest
from xiaodai.lines.limit import (
    DRAW_MESSAGES,
    LineError,
    LinePolicy,
    LineState,
    available_fen,
    check_draw,
    default_policy,
)
from xiaodai.lines.plans import price_plan
from xiaodai.lines.store import PLANS, outstanding_fen, own_line, reserved_fen, yuan
from xiaodai.lines.views import drawdown_json
from xiaodai.money.dates import add_months
from xiaodai.payments.channel import PayoutChannel
from xiaodai.pricing.disclosure import snapshot
from xiaodai.servicing import service as servicing
from xiaodai.servicing.accrual import prorated_fen
from xiaodai.servicing.commands import Result
from xiaodai.servicing.lifecycle import LoanState
from xiaodai.servicing.loans import installments
from xiaodai.servicing.prepayment import PrepayMode

# ---------------------------------------------------------------- drawing


@dataclass(frozen=True, slots=True)
class DrawRequest:
    amount_fen: int
    plan: str = "instalment"  # instalment | daily
    term: int | None = None  # months, for the instalment plan


def _priced_draw(
    session: Session, line: CreditLineRow, request: DrawRequest, today: date, policy: LinePolicy
) -> journey.PricedOffer:
    if request.plan not in PLANS:
        raise LineError(f"plan must be one of {', '.join(PLANS)}", "DRAW_BAD_PLAN")
    if request.plan == "instalment" and request.term is None:
        raise LineError("an instalment drawdown needs a term", "DRAW_BAD_TERM")
    term = request.term if request.plan == "instalment" else None
    # a drawdown whose payout is pending reserves its amount: the limit is not drawn twice meanwhile
    outstanding = outstanding_fen(session, line.id) + reserved_fen(session, line.id)
    verdict = check_draw(
        state=LineState(line.state),
        expires_on=line.expires_on,
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        amount_fen=request.amount_fen,
        term=term,
        on=today,
        policy=policy,
    )
    if not verdict.allowed:
        detail = DRAW_MESSAGES[verdict.reason]
        if verdict.reason == "DRAW_ABOVE_AVAILABLE":
            detail += f" ({yuan(available_fen(line.limit_fen, outstanding))})"
        elif verdict.reason == "DRAW_BAD_TERM":
            detail += f" ({policy.min_term}-{policy.max_term} months)"
        elif verdict.reason == "DRAW_BELOW_MINIMUM":
            detail += f" ({yuan(policy.min_draw_fen)})"
        raise LineError(detail, verdict.reason)
    rate = Decimal(line.annual_rate)
    extra: dict[str, Any] = {
        "line": {"line_id": line.id, "limit": yuan(line.limit_fen), "plan": request.plan},
    }
    if request.plan == "daily":
        extra["daily_plan"] = {
            "daily_rate_percent": str(daily_interest.daily_rate_percent(rate)),
            "daycount": daily_interest.DAYCOUNT.value,
            "repay_any_day": True,
            "prepayment_fee": "0.00",
            "latest_repayment_on": add_months(today, policy.daily_plan_months).isoformat(),
        }
    return price_plan(
        amount_fen=request.amount_fen,
        plan=request.plan,
        term=request.term,
        annual_rate=rate,
        today=today,
        policy=policy,
        kfs_extra=extra,
    )


def quote_draw(
    session: Session, *, user: UserRow, request: DrawRequest, today: date, policy: LinePolicy | None = None
) -> dict[str, Any]:
    """The key-facts statement of a drawdown (APR first) and the SHA-256 to sign it with."""
    line = own_line(session, user)
    priced = _priced_draw(session, line, request, today, policy or default_policy())
    return {"kfs": priced.kfs, "sha256": snapshot(priced.kfs).sha256}


def draw(
    session: Session,
    *,
    user: UserRow,
    request: DrawRequest,
    seen_sha256: str,
    ip: str,
    lang: str,
    today: date,
    key: str,
    policy: LinePolicy | None = None,
    channel: PayoutChannel | None = None,
    signed_at: datetime | None = None,
) -> dict[str, Any]:
    """Sign the drawdown's KFS as shown and pay it out through the payment channel (``payments.payout``): a
    loan on the line, ``active`` once the payout settles, ``signed`` while it is pending (its amount
    reserved on the line), ``cancelled`` if it failed (the limit free again). Idempotent by ``key``."""
    chosen = policy or default_policy()
    scoped = f"u{user.id}:{key}"[:140]
    done = session.execute(
        select(DrawdownRow).where(DrawdownRow.idempotency_key == scoped)
    ).scalar_one_or_none()
    if done is not None:
        return {**drawdown_json(session, done), "replayed": True}
    line = own_line(session, user, lock=True)
    priced = _priced_draw(session, line, request, today, chosen)
    result = journey.sign_and_disburse(
        session,
        user=user,
        priced=priced,
        seen_sha256=seen_sha256,
        ip=ip,
        lang=lang,
        today=today,
        line_id=line.id,
        channel=channel,
        signed_at=signed_at,
    )
    row = DrawdownRow(
        line_id=line.id,
        loan_id=int(result["loan_id"]),
        plan=request.plan,
        principal_fen=request.amount_fen,
        term=priced.terms.term,
        drawn_on=today,
        idempotency_key=scoped,
    )
    session.add(row)
    session.flush()
    return {**drawdown_json(session, row), "sha256": result["sha256"], "replayed": False}


def repay_drawdown(
    session: Session, *, user: UserRow, loan_id: int, amount_fen: int, on: date, key: str
) -> Result:
    """Repay any amount on any day (随借随还): what is due first; above that the principal is reduced
    (interest only for the days used, no prepayment fee); the payoff amount settles the drawdown."""
    loan = journey.own_loan(session, user, loan_id)
    if loan.line_id is None:
        raise LineError("this loan was not drawn on a credit line", "LINE_NOT_DRAWDOWN")
    if amount_fen <= 0:
        raise LineError("the amount must be positive", "LINE_BAD_AMOUNT")
    if LoanState(loan.state) not in (LoanState.ACTIVE, LoanState.OVERDUE):
        return journey.repay(session, user=user, loan_id=loan_id, amount_fen=amount_fen, on=on, key=key)
    payoff = journey.payoff_fen(session, loan_id=loan_id, on=on)
    if amount_fen <= owed_today_fen(session, loan, on) or amount_fen >= payoff:
        return journey.repay(session, user=user, loan_id=loan_id, amount_fen=amount_fen, on=on, key=key)
    result = servicing.prepay(
        session,
        loan_id=loan_id,
        on=on,
        idempotency_key=f"u{user.id}:{key}",
        amount_fen=amount_fen,
        mode=PrepayMode.LOWER_INSTALMENT,
        dated_by_platform=True,
    )
    plan = session.execute(select(DrawdownRow.plan).where(DrawdownRow.loan_id == loan_id)).scalar_one()
    if plan == "daily":  # the later periods back on their actual days at the daily rate
        align_daily_interest(session, loan)
    return result


def owed_today_fen(session: Session, loan: LoanRow, on: date) -> int:
    """What is due on ``on``: every instalment due by then, penalties, and the running period's interest for
    the days used (servicing's partial prepayment takes only more than this)."""
    rows = installments(session, loan.id)
    due = loan.penalties_outstanding_fen + sum(
        r.principal_fen
        - r.paid_principal_fen
        + r.interest_fen
        - r.paid_interest_fen
        + r.fee_fen
        - r.paid_fee_fen
        for r in rows
        if r.billed or r.due_on <= on
    )
    running = [r for r in rows if not r.billed and r.due_on > on]
    if running and running[0].start_on < on:
        first = running[0]
        due += prorated_fen(
            first.interest_fen, (on - first.start_on).days, (first.due_on - first.start_on).days
        )
    return due
