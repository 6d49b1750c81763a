"""Credit lines (shell): grant from a decision, draw (a loan through the journey's pricing, KFS, signing and
disbursement), repay, freeze/unfreeze/close, periodic review, increase offers, re-decision.

Each drawdown is an ordinary loan with ``loans.line_id`` set; its principal moves the line's off-balance-
sheet commitment in the same journal entry (``ledger.journal.with_commitment``). Limit changes post the
commitment's change themselves, one entry per line event. ``check_commitments`` re-derives every line's
undrawn commitment from the journal and compares it with limit − outstanding principal.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    ApplicationRow,
    CreditLineEventRow,
    CreditLineRow,
    DecisionRow,
    DisclosureRow,
    DrawdownRow,
    InstallmentRow,
    LineNoticeRow,
    LoanRow,
    PostingRow,
    UserRow,
)
from xiaodai.journey import service as journey
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.lines import daily_interest
from xiaodai.lines.limit import (
    DRAW_MESSAGES,
    ChangeKind,
    LimitChange,
    LineError,
    LinePolicy,
    LineState,
    available_fen,
    change_limit,
    change_state,
    check_draw,
    default_policy,
    grant,
)
from xiaodai.lines.review_policy import ReviewAction, ReviewFacts, review
from xiaodai.money.dates import add_months
from xiaodai.money.money import Money
from xiaodai.pricing.disclosure import snapshot
from xiaodai.servicing import service as servicing
from xiaodai.servicing.accrual import prorated_fen
from xiaodai.servicing.commands import Result
from xiaodai.servicing.lifecycle import LoanState
from xiaodai.servicing.loans import installments
from xiaodai.servicing.prepayment import PrepayMode
from xiaodai.underwriting.policy import default_policy as credit_policy

OFFER_DAYS = 30  # an increase offer lapses after this many days
PLANS = ("instalment", "daily")


class LineNotFoundError(LineError):
    status = 404

    def __init__(self, message: str = "credit line not found") -> None:
        super().__init__(message, "LINE_NOT_FOUND")


def _yuan(fen: int) -> str:
    return Money.from_minor(fen).to_json()


# ---------------------------------------------------------------- reading


def outstanding_fen(session: Session, line_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(LoanRow.principal_outstanding_fen), 0)).where(
            LoanRow.line_id == line_id
        )
    ).scalar_one()
    return int(total)


def open_line_of(session: Session, user_id: int, *, lock: bool = False) -> CreditLineRow | None:
    query = (
        select(CreditLineRow)
        .where(CreditLineRow.borrower_id == user_id, CreditLineRow.state != LineState.CLOSED.value)
        .order_by(CreditLineRow.id.desc())
    )
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalars().first()


def _line(session: Session, line_id: int, *, lock: bool = True) -> CreditLineRow:
    query = select(CreditLineRow).where(CreditLineRow.id == line_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise LineNotFoundError(f"credit line {line_id} does not exist")
    return row


def _own_line(session: Session, user: UserRow, *, lock: bool = False) -> CreditLineRow:
    row = open_line_of(session, user.id, lock=lock)
    if row is None:
        raise LineNotFoundError("you have no open credit line")
    return row


# ---------------------------------------------------------------- changes


def _record(
    session: Session,
    line: CreditLineRow,
    change: LimitChange,
    *,
    on: date,
    actor: str,
    policy: LinePolicy,
    outstanding: int,
    notice_limit_fen: int | None = None,
) -> CreditLineEventRow:
    """Apply ``change`` to the line, append its event, post the commitment's change and write the notice."""
    event = CreditLineEventRow(
        line_id=line.id,
        kind=change.kind.value,
        old_limit_fen=change.old_limit_fen,
        new_limit_fen=change.new_limit_fen,
        old_state=change.old_state.value,
        new_state=change.new_state.value,
        reason=change.reason,
        business_date=on,
        actor=actor[:64],
        policy_version=policy.version,
    )
    session.add(event)
    session.flush()
    # the undrawn commitment is limit − outstanding principal; a closed line commits nothing
    was = 0 if change.old_state is LineState.CLOSED else change.old_limit_fen - outstanding
    now = 0 if change.new_state is LineState.CLOSED else change.new_limit_fen - outstanding
    if change.kind is ChangeKind.GRANT:
        was = 0
    if now != was:
        event.entry_id = ledger.post(
            session,
            entry(
                on,
                f"line-{change.kind.value}",
                f"line-event:{event.id}",
                [(Account.COMMITMENT_UNDRAWN, now - was), (Account.COMMITMENT_CONTRA, was - now)],
            ),
        )
    line.limit_fen = change.new_limit_fen
    line.state = change.new_state.value
    session.add(
        LineNoticeRow(
            line_id=line.id,
            user_id=line.borrower_id,
            event_id=event.id,
            kind=change.kind.value,
            reason=change.reason,
            old_limit_fen=change.old_limit_fen,
            new_limit_fen=change.new_limit_fen if notice_limit_fen is None else notice_limit_fen,
            state=change.new_state.value,
            business_date=on,
        )
    )
    session.flush()
    _send_notice(session, line, change, event, on=on, notice_limit_fen=notice_limit_fen)
    return event


# the changes the borrower is told of through the notice channels (notify/data/notice_policy.json kinds); a
# decrease and a freeze are legal notices (no opt-out), an increase offer is marketing (opt-out honoured)
_NOTICE_KINDS = {
    ChangeKind.INCREASE: "limit_increase",
    ChangeKind.DECREASE: "limit_decrease",
    ChangeKind.FREEZE: "limit_freeze",
    ChangeKind.INCREASE_OFFERED: "limit_increase_offer",
}


def _send_notice(
    session: Session,
    line: CreditLineRow,
    change: LimitChange,
    event: CreditLineEventRow,
    *,
    on: date,
    notice_limit_fen: int | None,
) -> None:
    """Queue the change's notice for the borrower's channels (SMS, e-mail, app inbox): the notify service
    judges each channel by the contact policy when it drains its queue (``xiaodai notify run``)."""
    kind = _NOTICE_KINDS.get(change.kind)
    if kind is None:
        return
    from xiaodai.notify import enqueue_notice

    new_limit = change.new_limit_fen if notice_limit_fen is None else notice_limit_fen
    enqueue_notice(
        session,
        line.borrower_id,
        kind,
        {
            "old_limit": _yuan(change.old_limit_fen),
            "new_limit": _yuan(new_limit),
            "reason": change.reason,
        },
        business_date=on,
        dedupe_key=f"line-event:{event.id}",
    )


def _decision_of(session: Session, *, user: UserRow, application_id: str) -> DecisionRow:
    app = session.execute(
        select(ApplicationRow).where(ApplicationRow.public_id == application_id)
    ).scalar_one_or_none()
    if app is None or app.user_id != user.id or app.decision_id is None:
        raise LineNotFoundError("application not found")
    decision = session.get(DecisionRow, app.decision_id)
    if decision is None or decision.outcome != "approve":
        raise LineError(
            "the application was not approved: no line can be granted from it", "LINE_NOT_APPROVED"
        )
    if app.loan_id is not None:
        raise LineError("this application's offer was signed as a loan", "LINE_OFFER_USED")
    return decision


def _grade_terms(decision: DecisionRow) -> tuple[str, int, Decimal, int]:
    """(grade, grade maximum limit in fen, annual rate, offered limit in fen) of an approving decision."""
    result = json.loads(decision.result_json)
    offer = result.get("offer")
    if not offer or not decision.grade:
        raise LineError("the decision has no offer", "LINE_NOT_APPROVED")
    grade = next((g for g in credit_policy().grades if g.grade == decision.grade), None)
    if grade is None or grade.annual_rate is None:
        raise LineError(f"grade {decision.grade} has no price", "LINE_NOT_APPROVED")
    limit_fen = int(Decimal(offer["credit_limit"]) * 100)
    return grade.grade, int(grade.max_limit * 100), Decimal(offer["annual_rate"]), limit_fen


def grant_line(
    session: Session,
    *,
    user: UserRow,
    application_id: str,
    on: date,
    actor: str,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    """Grant a line from the borrower's approved application: the decision's limit (≤ the grade's and
    30,000), the grade's price, expiry after the policy's months. One open line per borrower."""
    chosen = policy or default_policy()
    if user.kind != "borrower":
        raise LineError("only borrowers hold credit lines", "LINE_NOT_BORROWER")
    if open_line_of(session, user.id, lock=True) is not None:
        raise LineError("this borrower already has an open credit line", "LINE_EXISTS")
    decision = _decision_of(session, user=user, application_id=application_id)
    grade, grade_max, rate, limit = _grade_terms(decision)
    change = grant(limit, grade_max_fen=grade_max, policy=chosen)
    line = CreditLineRow(
        borrower_id=user.id,
        state=LineState.ACTIVE.value,
        limit_fen=0,
        grade=grade,
        grade_max_fen=grade_max,
        annual_rate=str(rate),
        decision_id=decision.id,
        granted_on=on,
        expires_on=chosen.expiry(on),
        policy_version=chosen.version,
    )
    session.add(line)
    session.flush()
    _record(session, line, change, on=on, actor=actor, policy=chosen, outstanding=0)
    return line_view(session, user=user, today=on)


def set_state(
    session: Session,
    *,
    line_id: int,
    to: LineState,
    reason: str,
    on: date,
    actor: str,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    """Freeze, unfreeze or close a line (staff, or a review); the borrower is told the reason."""
    chosen = policy or default_policy()
    if not reason or not reason.replace("_", "").isalnum() or not reason.isupper() or len(reason) > 40:
        raise LineError("a reason code is UPPER_SNAKE_CASE, at most 40 characters", "LINE_BAD_REASON")
    line = _line(session, line_id)
    outstanding = outstanding_fen(session, line.id)
    change = change_state(
        state=LineState(line.state),
        to=to,
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        reason=reason,
    )
    _record(session, line, change, on=on, actor=actor, policy=chosen, outstanding=outstanding)
    return summary(session, line, today=on)


def set_limit(
    session: Session,
    *,
    line_id: int,
    new_limit_fen: int,
    reason: str,
    on: date,
    actor: str,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    chosen = policy or default_policy()
    line = _line(session, line_id)
    outstanding = outstanding_fen(session, line.id)
    change = change_limit(
        state=LineState(line.state),
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        new_limit_fen=min(new_limit_fen, line.grade_max_fen),
        reason=reason,
        policy=chosen,
    )
    if change.new_limit_fen != change.old_limit_fen:
        _record(session, line, change, on=on, actor=actor, policy=chosen, outstanding=outstanding)
    return summary(session, line, today=on)


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
    outstanding = outstanding_fen(session, line.id)
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
            detail += f" ({_yuan(available_fen(line.limit_fen, outstanding))})"
        elif verdict.reason == "DRAW_BAD_TERM":
            detail += f" ({policy.min_term}-{policy.max_term} months)"
        elif verdict.reason == "DRAW_BELOW_MINIMUM":
            detail += f" ({_yuan(policy.min_draw_fen)})"
        raise LineError(detail, verdict.reason)
    rate = Decimal(line.annual_rate)
    extra: dict[str, Any] = {
        "line": {"line_id": line.id, "limit": _yuan(line.limit_fen), "plan": request.plan},
    }
    if request.plan == "daily":
        extra["daily_plan"] = {
            "daily_rate_percent": str(daily_interest.daily_rate_percent(rate)),
            "daycount": daily_interest.DAYCOUNT.value,
            "repay_any_day": True,
            "prepayment_fee": "0.00",
            "latest_repayment_on": add_months(today, policy.daily_plan_months).isoformat(),
        }
    return journey.price_offer(
        amount=Decimal(request.amount_fen) / 100,
        term=policy.daily_plan_months if request.plan == "daily" else int(request.term or 0),
        method="interest-first" if request.plan == "daily" else "equal-installment",
        annual_rate=rate,
        product_name="standard",
        today=today,
        kfs_extra=extra,
    )


def quote_draw(
    session: Session, *, user: UserRow, request: DrawRequest, today: date, policy: LinePolicy | None = None
) -> dict[str, Any]:
    """The key-facts statement of a drawdown (APR first) and the SHA-256 to sign it with."""
    line = _own_line(session, user)
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
) -> dict[str, Any]:
    """Sign the drawdown's KFS as shown and disburse it: a loan on the line. Idempotent by ``key``."""
    chosen = policy or default_policy()
    scoped = f"u{user.id}:{key}"[:140]
    done = session.execute(
        select(DrawdownRow).where(DrawdownRow.idempotency_key == scoped)
    ).scalar_one_or_none()
    if done is not None:
        return {**_drawdown_json(session, done), "replayed": True}
    line = _own_line(session, user, lock=True)
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
    return {**_drawdown_json(session, row), "sha256": result["sha256"], "replayed": False}


def _drawdown_json(session: Session, row: DrawdownRow) -> dict[str, Any]:
    loan = session.get(LoanRow, row.loan_id)
    assert loan is not None
    return {
        "drawdown_id": row.id,
        "line_id": row.line_id,
        "loan_id": row.loan_id,
        "plan": row.plan,
        "principal": _yuan(row.principal_fen),
        "term": row.term,
        "drawn_on": row.drawn_on.isoformat(),
        "state": loan.state,
        "principal_outstanding": _yuan(loan.principal_outstanding_fen),
        "apr_percent": loan.apr_percent,
    }


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
    return servicing.prepay(
        session,
        loan_id=loan_id,
        on=on,
        idempotency_key=f"u{user.id}:{key}",
        amount_fen=amount_fen,
        mode=PrepayMode.LOWER_INSTALMENT,
        dated_by_platform=True,
    )


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


# ---------------------------------------------------------------- views


def _rate_json(annual_rate: Decimal) -> dict[str, str]:
    """APR first (pricing's IRR on a representative 12-month draw), the daily rate second."""
    priced = journey.price_offer(
        amount=Decimal(1000),
        term=12,
        method="equal-installment",
        annual_rate=annual_rate,
        product_name="standard",
        today=date(2026, 1, 1),
    )
    return {
        "apr_percent": str(priced.kfs["headline"]["apr_percent"]),
        "daily_rate_percent": str(daily_interest.daily_rate_percent(annual_rate)),
        "annual_rate": str(annual_rate),
    }


def summary(session: Session, line: CreditLineRow, *, today: date) -> dict[str, Any]:
    outstanding = outstanding_fen(session, line.id)
    return {
        "line_id": line.id,
        "borrower_id": line.borrower_id,
        "state": line.state,
        "limit": _yuan(line.limit_fen),
        "outstanding_principal": _yuan(outstanding),
        "available": _yuan(available_fen(line.limit_fen, outstanding) if line.state != "closed" else 0),
        "can_draw": line.state == LineState.ACTIVE.value and today <= line.expires_on,
        "grade": line.grade,
        "rate": _rate_json(Decimal(line.annual_rate)),
        "granted_on": line.granted_on.isoformat(),
        "expires_on": line.expires_on.isoformat(),
        "policy_version": line.policy_version,
        "increase_offer": (
            {
                "limit": _yuan(line.offered_limit_fen),
                "reason": line.offer_reason,
                "expires_on": line.offer_expires_on.isoformat() if line.offer_expires_on else None,
            }
            if line.offered_limit_fen is not None and line.offer_expires_on and today <= line.offer_expires_on
            else None
        ),
    }


def _dues(session: Session, line_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(InstallmentRow, LoanRow.id)
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(LoanRow.line_id == line_id, InstallmentRow.active.is_(True))
        .order_by(InstallmentRow.due_on, LoanRow.id)
    ).all()
    dues = []
    for row, loan_id in rows:
        left = (
            row.principal_fen
            - row.paid_principal_fen
            + row.interest_fen
            - row.paid_interest_fen
            + row.fee_fen
            - row.paid_fee_fen
        )
        if left > 0:
            dues.append({"loan_id": loan_id, "period": row.period, "due_on": row.due_on, "amount_fen": left})
    return dues


def line_view(session: Session, *, user: UserRow, today: date) -> dict[str, Any]:
    """My line: limit, available, rate (APR first), next due, drawdowns, due this month, notices."""
    line = _own_line(session, user)
    view = summary(session, line, today=today)
    dues = _dues(session, line.id)
    upcoming = [d for d in dues if d["due_on"] >= today] or dues
    view["next_due"] = (
        {"due_on": upcoming[0]["due_on"].isoformat(), "amount": _yuan(upcoming[0]["amount_fen"])}
        if upcoming
        else None
    )
    month_end = add_months(today.replace(day=1), 1) - timedelta(days=1)
    this_month = [d for d in dues if d["due_on"] <= month_end]  # overdue ones too: they are due now
    view["due_this_month"] = {
        "through": month_end.isoformat(),
        "total": _yuan(sum(d["amount_fen"] for d in this_month)),
        "items": [
            {
                "loan_id": d["loan_id"],
                "period": d["period"],
                "due_on": d["due_on"].isoformat(),
                "amount": _yuan(d["amount_fen"]),
                "overdue": d["due_on"] < today,
            }
            for d in this_month
        ],
    }
    drawdowns = session.execute(
        select(DrawdownRow).where(DrawdownRow.line_id == line.id).order_by(DrawdownRow.id)
    ).scalars()
    view["drawdowns"] = [_drawdown_json(session, d) for d in drawdowns]
    view["notices"] = notices(session, line_id=line.id)
    return view


def notices(session: Session, *, line_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(LineNoticeRow).where(LineNoticeRow.line_id == line_id).order_by(LineNoticeRow.id.desc())
    ).scalars()
    return [
        {
            "kind": n.kind,
            "reason": n.reason,
            "old_limit": _yuan(n.old_limit_fen),
            "new_limit": _yuan(n.new_limit_fen),
            "state": n.state,
            "on": n.business_date.isoformat(),
        }
        for n in rows
    ]


def line_of_borrower(session: Session, *, borrower_id: int, today: date) -> dict[str, Any]:
    """Staff: a borrower's open line (or their latest)."""
    row = (
        session.execute(
            select(CreditLineRow)
            .where(CreditLineRow.borrower_id == borrower_id)
            .order_by(CreditLineRow.id.desc())
        )
        .scalars()
        .first()
    )
    if row is None:
        raise LineNotFoundError("this borrower has no credit line")
    view = summary(session, row, today=today)
    view["events"] = [
        {
            "kind": e.kind,
            "old_limit": _yuan(e.old_limit_fen),
            "new_limit": _yuan(e.new_limit_fen),
            "state": e.new_state,
            "reason": e.reason,
            "on": e.business_date.isoformat(),
            "actor": e.actor,
        }
        for e in session.execute(
            select(CreditLineEventRow)
            .where(CreditLineEventRow.line_id == row.id)
            .order_by(CreditLineEventRow.id)
        ).scalars()
    ]
    return view


# ---------------------------------------------------------------- review, offers, re-decision


def review_facts(session: Session, line: CreditLineRow, *, on: date, bureau: dict[str, int]) -> ReviewFacts:
    outstanding = outstanding_fen(session, line.id)
    loans = session.execute(select(LoanRow.dpd).where(LoanRow.line_id == line.id)).scalars().all()
    since = add_months(on, -6)
    rows = session.execute(
        select(InstallmentRow.due_on, InstallmentRow.paid_on, InstallmentRow.billed)
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(LoanRow.line_id == line.id, InstallmentRow.active.is_(True), InstallmentRow.due_on <= on)
    ).all()
    on_time = sum(1 for due_on, paid_on, _ in rows if paid_on is not None and paid_on <= due_on)
    late = [
        ((paid_on or on) - due_on).days
        for due_on, paid_on, _ in rows
        if due_on >= since and (paid_on or on) > due_on
    ]
    months = (on.year - line.granted_on.year) * 12 + on.month - line.granted_on.month
    return ReviewFacts(
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        grade_max_fen=line.grade_max_fen,
        months_on_book=months - (1 if on.day < line.granted_on.day else 0),
        on_time_instalments=on_time,
        current_dpd=max(loans, default=0),
        max_dpd_6m=max(late, default=0),
        bureau_overdue_accounts_now=int(bureau.get("overdue_accounts_now", 0)),
        bureau_max_overdue_months=int(bureau.get("max_overdue_months", 0)),
    )


def fresh_bureau(session: Session, line: CreditLineRow, *, on: date, actor: str) -> dict[str, int]:
    """A fresh credit report under the borrower's credit_check consent (one pull per line and day)."""
    from xiaodai.features.assemble import credit_report

    _, report = credit_report(
        session,
        user_id=line.borrower_id,
        application_id=f"line-review:{line.id}:{on.isoformat()}",
        as_of=on,
        actor=actor,
    )
    return {
        "overdue_accounts_now": report.overdue_accounts_now,
        "max_overdue_months": report.max_overdue_months,
    }


def review_line(
    session: Session,
    *,
    line_id: int,
    on: date,
    actor: str,
    bureau: dict[str, int] | None = None,
    policy: LinePolicy | None = None,
) -> dict[str, Any]:
    """Periodic review: behaviour on the line + fresh bureau data → offer an increase, decrease, freeze, or
    keep. Every outcome but "keep" is a line event with a notice; an increase is an offer the borrower
    accepts (``accept_increase``)."""
    chosen = policy or default_policy()
    line = _line(session, line_id)
    if LineState(line.state) is not LineState.ACTIVE:
        raise LineError(f"a {line.state} line is not reviewed", "LINE_NOT_ACTIVE")
    data = bureau if bureau is not None else fresh_bureau(session, line, on=on, actor=actor)
    facts = review_facts(session, line, on=on, bureau=data)
    verdict = review(facts, chosen)
    line.reviewed_on = on
    if verdict.action is ReviewAction.FREEZE:
        set_state(session, line_id=line.id, to=LineState.FROZEN, reason=verdict.reason, on=on, actor=actor)
    elif verdict.action is ReviewAction.DECREASE:
        change = change_limit(
            state=LineState(line.state),
            limit_fen=line.limit_fen,
            outstanding_fen=facts.outstanding_fen,
            new_limit_fen=verdict.new_limit_fen,
            reason=verdict.reason,
            policy=chosen,
            kind=ChangeKind.DECREASE,
        )
        _record(session, line, change, on=on, actor=actor, policy=chosen, outstanding=facts.outstanding_fen)
    elif verdict.action is ReviewAction.OFFER_INCREASE:
        line.offered_limit_fen = verdict.new_limit_fen
        line.offer_reason = verdict.reason
        line.offer_expires_on = on + timedelta(days=OFFER_DAYS)
        offer = LimitChange(
            ChangeKind.INCREASE_OFFERED,
            line.limit_fen,
            line.limit_fen,  # the limit moves only when the borrower accepts
            verdict.reason,
            LineState.ACTIVE,
            LineState.ACTIVE,
        )
        _record(
            session,
            line,
            offer,
            on=on,
            actor=actor,
            policy=chosen,
            outstanding=facts.outstanding_fen,
            notice_limit_fen=verdict.new_limit_fen,  # the notice states the offered limit
        )
    return {
        "line_id": line.id,
        "action": verdict.action.value,
        "reason": verdict.reason,
        "new_limit": _yuan(verdict.new_limit_fen),
        "policy_version": verdict.policy_version,
        "facts": {
            "months_on_book": facts.months_on_book,
            "on_time_instalments": facts.on_time_instalments,
            "current_dpd": facts.current_dpd,
            "max_dpd_6m": facts.max_dpd_6m,
            "utilisation": str(round(facts.utilisation, 4)),
            "bureau_overdue_accounts_now": facts.bureau_overdue_accounts_now,
            "bureau_max_overdue_months": facts.bureau_max_overdue_months,
        },
    }


REVIEW_EVERY_DAYS = 90  # an active line is reviewed when its last review (or grant) is this old


def review_due(session: Session, *, on: date, actor: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Review every active line whose last review (or grant) is ``REVIEW_EVERY_DAYS`` old or more, oldest
    first, at most ``limit`` (for a scheduled job: each run takes the next batch)."""
    cutoff = on - timedelta(days=REVIEW_EVERY_DAYS)
    last = func.coalesce(CreditLineRow.reviewed_on, CreditLineRow.granted_on)
    due = (
        session.execute(
            select(CreditLineRow.id)
            .where(CreditLineRow.state == LineState.ACTIVE.value, last <= cutoff)
            .order_by(last, CreditLineRow.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return [review_line(session, line_id=line_id, on=on, actor=actor) for line_id in due]


def accept_increase(
    session: Session, *, user: UserRow, on: date, policy: LinePolicy | None = None
) -> dict[str, Any]:
    chosen = policy or default_policy()
    line = _own_line(session, user, lock=True)
    if line.offered_limit_fen is None or line.offer_expires_on is None or on > line.offer_expires_on:
        raise LineError("there is no increase offer to accept", "LINE_NO_OFFER")
    if LineState(line.state) is not LineState.ACTIVE:
        raise LineError("the line is not active", "LINE_NOT_ACTIVE")
    outstanding = outstanding_fen(session, line.id)
    change = change_limit(
        state=LineState.ACTIVE,
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        new_limit_fen=line.offered_limit_fen,
        reason="LINE_INCREASE_ACCEPTED",
        policy=chosen,
        kind=ChangeKind.INCREASE,
    )
    line.offered_limit_fen = line.offer_reason = line.offer_expires_on = None
    _record(session, line, change, on=on, actor=f"user:{user.id}", policy=chosen, outstanding=outstanding)
    return line_view(session, user=user, today=on)


def redecide(
    session: Session, *, user: UserRow, application_id: str, on: date, policy: LinePolicy | None = None
) -> dict[str, Any]:
    """Re-decision on request: the borrower's new application (decided by the decision service) sets the
    line's limit, grade and price for future drawdowns; a decline leaves the line as it is, with a notice."""
    chosen = policy or default_policy()
    line = _own_line(session, user, lock=True)
    app = session.execute(
        select(ApplicationRow).where(ApplicationRow.public_id == application_id)
    ).scalar_one_or_none()
    if app is None or app.user_id != user.id or app.decision_id is None:
        raise LineNotFoundError("application not found")
    if app.loan_id is not None:
        raise LineError("this application's offer was signed as a loan", "LINE_OFFER_USED")
    decision = session.get(DecisionRow, app.decision_id)
    assert decision is not None
    outstanding = outstanding_fen(session, line.id)
    if decision.outcome != "approve":
        keep = LimitChange(
            ChangeKind.REDECISION,
            line.limit_fen,
            line.limit_fen,
            "LINE_REDECISION_NO_CHANGE",
            LineState(line.state),
            LineState(line.state),
        )
        _record(session, line, keep, on=on, actor=f"user:{user.id}", policy=chosen, outstanding=outstanding)
        return line_view(session, user=user, today=on)
    grade, grade_max, rate, limit = _grade_terms(decision)
    line.grade, line.grade_max_fen, line.annual_rate, line.decision_id = (
        grade,
        grade_max,
        str(rate),
        decision.id,
    )
    line.expires_on = max(line.expires_on, chosen.expiry(on))
    change = change_limit(
        state=LineState(line.state),
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding,
        new_limit_fen=min(limit, grade_max),
        reason="LINE_REDECISION",
        policy=chosen,
        kind=ChangeKind.REDECISION,
    )
    _record(session, line, change, on=on, actor=f"user:{user.id}", policy=chosen, outstanding=outstanding)
    return line_view(session, user=user, today=on)


# ---------------------------------------------------------------- ledger check


def check_commitments(session: Session) -> list[ledger.Difference]:
    """Every line's undrawn commitment, re-derived from the journal (its events' entries and its
    drawdowns' memo legs), against limit − outstanding principal; the memo accounts net to zero."""
    problems: list[ledger.Difference] = []
    memo = session.execute(
        select(func.coalesce(func.sum(PostingRow.amount_fen), 0)).where(
            PostingRow.account.in_([Account.COMMITMENT_UNDRAWN.value, Account.COMMITMENT_CONTRA.value])
        )
    ).scalar_one()
    if memo:
        problems.append(ledger.Difference(None, "memo accounts do not net to zero", 0, int(memo)))
    derived: dict[int, int] = defaultdict(int)
    for line_id, total in session.execute(
        select(CreditLineEventRow.line_id, func.sum(PostingRow.amount_fen))
        .join(PostingRow, PostingRow.entry_id == CreditLineEventRow.entry_id)
        .where(PostingRow.account == Account.COMMITMENT_UNDRAWN.value)
        .group_by(CreditLineEventRow.line_id)
    ).all():
        derived[int(line_id)] += int(total)
    for drawn_on_line, moved in session.execute(
        select(LoanRow.line_id, func.sum(PostingRow.amount_fen))
        .join(PostingRow, PostingRow.loan_id == LoanRow.id)
        .where(PostingRow.account == Account.COMMITMENT_UNDRAWN.value, LoanRow.line_id.is_not(None))
        .group_by(LoanRow.line_id)
    ).all():
        derived[int(drawn_on_line or 0)] += int(moved)
    outstanding = {
        int(line_id or 0): int(total or 0)
        for line_id, total in session.execute(
            select(LoanRow.line_id, func.sum(LoanRow.principal_outstanding_fen))
            .where(LoanRow.line_id.is_not(None))
            .group_by(LoanRow.line_id)
        ).all()
    }
    for line in session.execute(select(CreditLineRow)).scalars():
        used = int(outstanding.get(line.id, 0) or 0)
        want = 0 if line.state == LineState.CLOSED.value else line.limit_fen - used
        if derived.get(line.id, 0) != want:
            problems.append(
                ledger.Difference(None, f"line {line.id} undrawn commitment", want, derived.get(line.id, 0))
            )
        if want < 0:
            problems.append(ledger.Difference(None, f"line {line.id} available negative", want, want))
    return problems


def disclosure_of(session: Session, *, user: UserRow, loan_id: int) -> dict[str, Any]:
    journey.own_loan(session, user, loan_id)
    row = session.execute(select(DisclosureRow).where(DisclosureRow.loan_id == loan_id)).scalar_one()
    document: dict[str, Any] = json.loads(row.canonical_json)
    return document
