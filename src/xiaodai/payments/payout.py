"""Disbursement through the payment channel (代付), like debits: one payout per loan, idempotent.

A signed loan (an application's offer or a credit line's drawdown) is paid out to the borrower's default
bound card, or, without one, to the account reference they gave (``account:<borrower id>``). The channel
answers at once (``succeeded`` / ``failed``) or times out (``pending``: the outcome comes later by the
signed callback, ``payments.service.handle_callback``). The ledger posts only a settled payout:

- ``succeeded``: ``servicing.disburse`` posts the disbursement entry (dated the loan's start date, the date
  its schedule and key-facts statement run from; ``settled_on`` records when the channel confirmed it) and
  the loan becomes ``active``;
- ``failed``: nothing is posted; the loan is ``cancelled`` (its instalments are owed by no one) and a
  credit line's limit is free again; the reason code is kept and shown;
- ``pending``: the loan stays ``signed``; a drawdown reserves its amount on the line meanwhile.

A repeated call for the same loan answers the row it has; the channel is asked again only if its first
answer was ``pending`` (a channel is idempotent per reference, so asking again moves nothing twice).
The caller commits once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.db.tables.payments import DisbursementRow, PaymentCardRow
from xiaodai.money.money import Money
from xiaodai.payments.channel import DebitStatus, PayoutChannel, PayoutRequest
from xiaodai.payments.reconcile import DebitRecord
from xiaodai.payments.settlement_file import SettlementLine
from xiaodai.servicing import service as servicing

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


def records(session: Session, on: date, refs: Sequence[str]) -> dict[str, DisbursementRow]:
    """Payouts sent on ``on`` and any other the file names."""
    named = [ref for ref in refs if is_payout_ref(ref)]
    query = select(DisbursementRow).where(
        (DisbursementRow.business_date == on) | DisbursementRow.channel_ref.in_(named)
    )
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
