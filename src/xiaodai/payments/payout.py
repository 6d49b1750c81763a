"""Disbursement through the payment channel (代付), like debits: one payout per loan, idempotent.

A signed loan (an application's offer or a credit line's drawdown) is paid out to the borrower's default
bound card, or, without one, to the account reference they gave (``account:<borrower id>``). The channel
answers at once (``succeeded`` / ``failed``) or times out (``pending``: the outcome comes later by the
signed callback, ``payments.service.handle_callback``). The ledger posts only a settled payout:

- ``succeeded``: ``servicing.disburse`` posts the disbursement entry and the loan becomes ``active``. The
  entry is dated the day the money reached the borrower: the loan's start date when the channel settled it
  at once; for a late payout (settled after the start date by a callback, the status query or the
  settlement file) the loan is first re-dated (``redate``: interest never runs before the money arrived);
- ``failed``: nothing is posted; the loan is ``cancelled`` (its instalments are owed by no one) and a
  credit line's limit is free again; the reason code is kept and shown;
- ``pending``: the loan stays ``signed``; a drawdown reserves its amount on the line meanwhile.

A repeated call for the same loan answers the row it has; the channel is asked again only if its first
answer was ``pending`` (a channel is idempotent per reference, so asking again moves nothing twice).
A payout still pending ``QUERY_AFTER`` after it was sent (its callback never came) is settled by the
channel's status query (``query_pending``: the scheduled job ``payout_query``, ``xiaodai debit payouts
--query``, the staff jobs page). The caller commits once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import DisclosureRow, InstallmentRow, LoanRow
from xiaodai.db.tables.payments import DisbursementRow, PaymentCardRow
from xiaodai.money.daycount import DayCount
from xiaodai.money.money import Money
from xiaodai.payments.channel import DebitStatus, PayoutChannel, PayoutRequest
from xiaodai.payments.reconcile import DebitRecord
from xiaodai.payments.settlement_file import SettlementLine
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.fees import FeeSchedule, UpfrontTiming
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service as servicing
from xiaodai.servicing.loans import installments

# policy: how long a pending payout's callback is awaited before the channel is asked (代付查询)
QUERY_AFTER = timedelta(minutes=30)

_default: dict[str, PayoutChannel] = {}


def default_channel() -> PayoutChannel:
    """The simulated channel (seeded by ``XIAODAI_SANDBOX_SEED``) for callers that do not pass the app's;
    one per process, so its late callbacks can be produced."""
    if "sandbox" not in _default:
        from xiaodai.payments.sandbox_channel import SandboxChannel

        text = os.environ.get("XIAODAI_SANDBOX_SEED", "0")
        _default["sandbox"] = SandboxChannel(seed=int(text) if text.isdigit() else 0)
    return _default["sandbox"]


def payout_ref(loan_id: int) -> str:
    return f"payout:{loan_id}"


def is_payout_ref(ref: str) -> bool:
    return ref.startswith("payout:")


# what a payout's view shows, by column name (journey.loan_reads selects these in the loan detail's statement)
PAYOUT_FIELDS = (
    "channel_ref",
    "status",
    "reason",
    "destination",
    "amount_fen",
    "business_date",
    "settled_on",
)


def disbursement_view(row: DisbursementRow | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A payout as shown: from its row, or from its ``PAYOUT_FIELDS`` selected by name."""
    if row is None:
        return None
    f = row if isinstance(row, Mapping) else {name: getattr(row, name) for name in PAYOUT_FIELDS}
    return {
        "channel_ref": f["channel_ref"],
        "status": f["status"],
        "reason": f["reason"],
        "destination": f["destination"],
        "amount": Money.from_minor(f["amount_fen"]).to_json(),
        "sent_on": f["business_date"].isoformat(),
        "settled_on": f["settled_on"].isoformat() if f["settled_on"] else None,
    }


def of_loan(session: Session, loan_id: int) -> DisbursementRow | None:
    return session.execute(
        select(DisbursementRow).where(DisbursementRow.loan_id == loan_id)
    ).scalar_one_or_none()


def _destination(session: Session, borrower_id: int) -> tuple[str, str, int | None]:
    """(what the channel is told, what is shown, the card id) for the borrower's payout."""
    card = session.execute(
        select(PaymentCardRow).where(
            PaymentCardRow.borrower_id == borrower_id,
            PaymentCardRow.is_default,
            PaymentCardRow.status == "bound",
        )
    ).scalar_one_or_none()
    if card is None:
        account = f"account:{borrower_id}"
        return account, account, None
    from xiaodai.payments.service import card_number

    return card_number(card), card.masked, card.id


def disburse(session: Session, *, loan: LoanRow, channel: PayoutChannel, on: date) -> DisbursementRow:
    """Pay the signed ``loan`` out (its principal less any fee kept back) and settle what the channel
    answers. Idempotent per loan."""
    row = of_loan(session, loan.id)
    if row is not None and row.status != DebitStatus.PENDING.value:
        return row
    if row is None:
        if loan.borrower_id is None:
            raise ValueError(f"loan {loan.id} has no borrower to pay out to")
        destination, shown, card_id = _destination(session, loan.borrower_id)
        row = DisbursementRow(
            loan_id=loan.id,
            channel_ref=payout_ref(loan.id),
            card_id=card_id,
            destination=shown[:32],
            amount_fen=loan.principal_fen - loan.upfront_fee_fen,
            status=DebitStatus.PENDING.value,
            business_date=on,
        )
        session.add(row)
        session.flush()  # the unique reference is claimed before the channel is asked
    else:
        destination, _, _ = _destination(session, loan.borrower_id or 0)
    answer = channel.pay_out(PayoutRequest(row.channel_ref, destination, row.amount_fen, on))
    row.reason = answer.reason
    if answer.status.final:
        settle(session, row, answer.status, on=on)
    return row


def settle(session: Session, row: DisbursementRow, status: DebitStatus, *, on: date) -> None:
    """A pending payout's final outcome: post the disbursement, or cancel the loan. Nothing else moves."""
    row.status = status.value
    row.settled_on = on
    loan = session.get(LoanRow, row.loan_id)
    assert loan is not None
    if status is DebitStatus.SUCCEEDED:
        if on > loan.start_on:
            redate(session, loan, on)
        result = servicing.disburse(
            session, loan_id=loan.id, on=loan.start_on, idempotency_key=f"disburse:{loan.id}"
        )
        row.entry_id = int(result["entry_id"])
        row.reason = None
    else:
        servicing.cancel(session, loan_id=loan.id, on=on)
        owed = select(InstallmentRow).where(InstallmentRow.loan_id == loan.id)
        for inst in session.execute(owed).scalars():
            inst.active = False
    session.flush()


def _periodic_daycount(session: Session, loan_id: int) -> DayCount | None:
    """The daily plan's day count, as signed (its key-facts statement's ``daily_plan``), else None."""
    text = session.execute(
        select(DisclosureRow.canonical_json).where(DisclosureRow.loan_id == loan_id)
    ).scalar_one_or_none()
    plan = json.loads(text).get("daily_plan") if text else None
    return DayCount.parse(plan["daycount"]) if plan else None


def signed_terms(session: Session, loan: LoanRow, *, start_on: date) -> LoanTerms:
    """The loan's signed terms (principal, rate, method, term, fees, day counts) from ``start_on``; an odd
    first period keeps its length."""
    first_due = loan.first_due_on + (start_on - loan.start_on) if loan.first_due_on else None
    return LoanTerms(
        principal=Decimal(loan.principal_fen) / 100,
        term=loan.term,
        method=Method.parse(loan.method),
        annual_rate=Decimal(loan.annual_rate),
        start_on=start_on,
        fees=FeeSchedule(
            upfront=Decimal(loan.upfront_fee_fen) / 100,
            upfront_timing=UpfrontTiming(loan.upfront_fee_timing),
            monthly_fixed=Decimal(loan.monthly_fee_fen) / 100,
            monthly_rate_on_principal=Decimal(loan.flat_fee_rate),
        ),
        first_due_on=first_due,
        odd_period_daycount=DayCount.parse(loan.odd_period_daycount),
        periodic_daycount=_periodic_daycount(session, loan.id),
        currency=loan.currency,
    )


def redate(session: Session, loan: LoanRow, on: date) -> None:
    """A payout settled on ``on``, after the loan's start date: the loan starts on ``on``.

    The rule (docs/domains/payments.md, "A late payout"): interest never runs for days before the money
    reached the borrower — the annual rate is the IRR on the money actually received (PBOC announcement
    2021 No. 3) and interest is owed only for the time the money is used (民法典 Art. 677). The schedule is
    priced again with the signed terms from the settlement date: a monthly schedule keeps every amount and
    moves its dates (same cash flows, one period apart as signed: the signed annual rate stays exact); the
    daily plan keeps its signed daily rate on each period's actual days; no period's interest or fee is
    ever more than signed. The signed key-facts statement is kept as signed; the loan's start, schedule,
    APR and cooling-off window move. Nothing is posted here: the instalments are unbilled and the loan was
    never active (the disbursement is posted next, on ``on``)."""
    shift = on - loan.start_on
    quote = build_quote(signed_terms(session, loan, start_on=on), cap_book=default_cap_book())
    rows = sorted(installments(session, loan.id, lock=True), key=lambda r: r.period)
    if len(rows) != len(quote.schedule.rows) or any(r.billed or r.paid_principal_fen for r in rows):
        raise ValueError(f"loan {loan.id}: its schedule has moved since signing, it cannot be re-dated")
    previous = on
    for row, new in zip(rows, quote.schedule.rows, strict=True):
        row.start_on, row.due_on = previous, new.due_on
        if servicing.fen(new.principal) != row.principal_fen:
            raise ValueError(f"loan {loan.id}: re-priced principal of period {row.period} differs")
        # never more than signed for any period (a daily-plan period that became a day longer)
        row.interest_fen = min(row.interest_fen, servicing.fen(new.interest))
        row.fee_fen = min(row.fee_fen, servicing.fen(new.fee))
        previous = new.due_on
    loan.start_on = on
    loan.first_due_on = quote.schedule.rows[0].due_on if loan.first_due_on else None
    loan.apr_percent = str(min(Decimal(loan.apr_percent), quote.apr_percent))
    if loan.cooling_off_until is not None:
        loan.cooling_off_until += shift
    session.flush()


def redated_view(row: DisbursementRow | None, loan: LoanRow) -> dict[str, Any] | None:
    """What the loan page says of a late payout: signed (sent) on, paid out on, days moved."""
    if row is None:
        return None
    return redated_of(row.status, row.business_date, row.settled_on, loan.start_on)


def redated_of(status: str, sent_on: date, settled_on: date | None, start_on: date) -> dict[str, Any] | None:
    """A payout that succeeded after the day it was sent, with the loan now starting on that day (``redate``):
    signed (sent) on, paid out on, days moved; None otherwise."""
    if settled_on is None or status != DebitStatus.SUCCEEDED.value:
        return None
    if settled_on <= sent_on or start_on != settled_on:
        return None
    return {
        "signed_on": sent_on.isoformat(),
        "paid_out_on": settled_on.isoformat(),
        "days": (settled_on - sent_on).days,
    }


def apply_outcome(session: Session, *, ref: str, status: DebitStatus, settled_fen: int, on: date) -> str:
    """A callback's outcome for a payout: ``applied``, ``duplicate`` (the outcome we have), ``conflict`` (a
    different final outcome or amount than the one we have: kept, surfaced) or ``unknown_ref``."""
    row = session.execute(
        select(DisbursementRow).where(DisbursementRow.channel_ref == ref).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return "unknown_ref"
    if status is DebitStatus.PARTIAL or (status is DebitStatus.SUCCEEDED and settled_fen != row.amount_fen):
        return "conflict"  # a payout moves the whole amount or nothing: anything else is for operations
    if row.status != DebitStatus.PENDING.value:
        return "duplicate" if row.status == status.value else "conflict"
    settle(session, row, status, on=on)
    return "applied"


def pending(session: Session) -> list[dict[str, Any]]:
    """Payouts still waiting for the channel's outcome (operations)."""
    rows = session.execute(
        select(DisbursementRow)
        .where(DisbursementRow.status == DebitStatus.PENDING.value)
        .order_by(DisbursementRow.id)
    ).scalars()
    return [{"loan_id": r.loan_id, **(disbursement_view(r) or {})} for r in rows]


# ---------------------------------------------------------------- reconciliation (the settlement file)


def record(row: DisbursementRow) -> DebitRecord:
    """What our books say of a payout, for ``reconcile.match``: the amount paid out once the disbursement
    is posted (0 while pending, after a failure, or when the posting never happened)."""
    posted = row.amount_fen if row.status == DebitStatus.SUCCEEDED.value and row.entry_id is not None else 0
    return DebitRecord(row.channel_ref, posted, row.status == DebitStatus.PENDING.value, payout=True)


def records(
    session: Session, on: date, refs: Sequence[str], *, of_day: bool = True
) -> dict[str, DisbursementRow]:
    """Payouts sent on ``on`` (unless ``of_day`` is False: a debits-only file) and any other the file
    names."""
    named = [ref for ref in refs if is_payout_ref(ref)]
    where = DisbursementRow.channel_ref.in_(named)
    query = select(DisbursementRow).where((DisbursementRow.business_date == on) | where if of_day else where)
    return {r.channel_ref: r for r in session.execute(query).scalars()}


def confirm(session: Session, *, ref: str, line: SettlementLine, on: date) -> str:
    """A pending payout the settlement file settles: money left (whatever the amount: the loan was paid
    out; a different amount then stands as an amount mismatch with its suspense) or it did not."""
    row = session.execute(
        select(DisbursementRow).where(DisbursementRow.channel_ref == ref).with_for_update()
    ).scalar_one_or_none()
    if row is None or row.status != DebitStatus.PENDING.value:
        return "unknown_ref" if row is None else "duplicate"
    settle(session, row, DebitStatus.SUCCEEDED if line.amount_fen > 0 else DebitStatus.FAILED, on=on)
    return "applied"


# ---------------------------------------------------------------- the status query (no callback came)


def query_pending(
    session: Session,
    *,
    channel: PayoutChannel,
    on: date,
    as_of: datetime,
    older_than: timedelta = QUERY_AFTER,
) -> dict[str, Any]:
    """Ask the channel about every payout still pending ``older_than`` after it was sent (by the wall
    clock, ``as_of``; or sent on a business date before ``on``) and settle it by the answer: a final
    outcome as its callback would (``apply_outcome``: a different amount is a ``conflict`` for
    operations), ``pending`` waits, and a payout the channel never received is sent again under the same
    reference (the channel moves it at most once). Idempotent: a settled payout is not asked again. ``on``
    is the business date the outcome is booked on."""
    cutoff = as_of.astimezone(UTC)
    if session.get_bind().dialect.name == "sqlite":  # stored naive, in UTC (CURRENT_TIMESTAMP)
        cutoff = cutoff.replace(tzinfo=None)
    rows = list(
        session.execute(
            select(DisbursementRow)
            .where(
                DisbursementRow.status == DebitStatus.PENDING.value,
                (DisbursementRow.updated_at <= cutoff - older_than) | (DisbursementRow.business_date < on),
            )
            .order_by(DisbursementRow.id)
            # a query already asking about a payout (the job and the staff button at once) holds it: the
            # other skips it instead of asking the channel twice (PostgreSQL; SQLite has one writer at a time)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    counts = {"succeeded": 0, "failed": 0, "pending": 0, "resent": 0, "conflict": 0}
    results = []
    for row in rows:
        answer = channel.query_payout(row.channel_ref)
        if answer is None:
            loan = session.get(LoanRow, row.loan_id)
            assert loan is not None
            disburse(session, loan=loan, channel=channel, on=on)  # the same reference: moved at most once
            outcome = "resent"
        elif not answer.status.final:
            outcome = "pending"
        else:
            applied = apply_outcome(
                session, ref=row.channel_ref, status=answer.status, settled_fen=answer.settled_fen, on=on
            )
            outcome = "conflict" if applied == "conflict" else answer.status.value
        counts[outcome] += 1
        results.append(
            {"loan_id": row.loan_id, "channel_ref": row.channel_ref, "answer": outcome, "status": row.status}
        )
    return {
        "date": on.isoformat(),
        "older_than_minutes": int(older_than.total_seconds() // 60),
        "asked": len(rows),
        "counts": counts,
        "payouts": results,
    }
