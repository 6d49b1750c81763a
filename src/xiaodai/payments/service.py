"""Payments shell: bind and unbind cards, run the day's auto-debit batch, take callbacks (debits' and
payouts', ``payments.payout``), reconcile.

Money a debit moved is booked only through ``servicing.service.repay`` with the attempt's ``channel_ref``
as idempotency key, so a debit is posted once however often its outcome arrives (synchronous answer,
callback, settlement file, replays). A timed-out debit stays ``pending`` and books nothing until the
callback or the settlement file gives its outcome. The caller commits once.

The channel is called inside the caller's transaction: if that transaction then fails, the channel has
moved money we have no row for, and the next reconciliation reports it as missing on our side (suspense).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanRow, PostingRow, UserRow
from xiaodai.db.tables.payments import (
    DebitAttemptRow,
    DebitInFlightRow,
    DisbursementRow,
    PaymentCallbackRow,
    PaymentCardRow,
)
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import JournalEntry, entry
from xiaodai.payments.card import check_card, masked
from xiaodai.payments.channel import (
    CallbackError,
    DebitRequest,
    DebitStatus,
    PaymentChannel,
    parse_callback,
    verify_signature,
)
from xiaodai.payments.debit_policy import RetryPolicy
from xiaodai.payments.reconcile import BREAKS, DebitRecord, Kind, Outcome, cash_sign, match
from xiaodai.payments.settlement_file import SettlementLine
from xiaodai.privacy.crypto import KeyRing, aad, blind_index, decrypt, encrypt
from xiaodai.servicing import service as servicing
from xiaodai.servicing.errors import ServicingError

OPEN_STATES = ("active", "overdue")


class PaymentError(ServicingError):
    """Refused card or debit operation (4xx); ``reasons`` are stable codes."""

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)


class CardNotFoundError(PaymentError):
    status = 404


class CardInUseError(PaymentError):
    status = 409


class SignatureError(PaymentError):
    status = 401


def _where(borrower_id: int) -> bytes:
    return aad("payment_cards", borrower_id, "number")


def card_view(row: PaymentCardRow) -> dict[str, Any]:
    return {
        "card_id": row.id,
        "borrower_id": row.borrower_id,
        "masked": row.masked,
        "bank": row.bank,
        "status": row.status,
        "default": row.is_default,
    }


def card_number(row: PaymentCardRow, ring: KeyRing | None = None) -> str:
    """The card's number, decrypted (for the channel only: never shown, never logged)."""
    from xiaodai.privacy.keys import current_ring

    return decrypt(ring or current_ring(), row.number_enc, _where(row.borrower_id))


def start_binding(
    session: Session, *, channel: PaymentChannel, ring: KeyRing, borrower_id: int, number: str
) -> dict[str, Any]:
    """Validate the number, store it encrypted (``pending``) and ask the channel to send a code."""
    if session.get(UserRow, borrower_id) is None:
        raise PaymentError(f"borrower {borrower_id} does not exist", ["BORROWER_UNKNOWN"])
    verdict = check_card(number)
    if not verdict.ok:
        raise PaymentError(f"card refused: {', '.join(verdict.reasons)}", verdict.reasons)
    bidx = blind_index(ring, "bank_card", verdict.number)
    already = session.execute(
        select(PaymentCardRow.id).where(
            PaymentCardRow.borrower_id == borrower_id,
            PaymentCardRow.number_bidx == bidx,
            PaymentCardRow.status == "bound",
        )
    ).first()
    if already is not None:
        raise PaymentError(f"card is already bound (card {already[0]})", ["CARD_ALREADY_BOUND"])
    verify_ref = channel.send_verification(card_number=verdict.number, phone_hint=str(borrower_id))
    row = PaymentCardRow(
        borrower_id=borrower_id,
        number_enc=encrypt(ring, verdict.number, _where(borrower_id)),
        number_bidx=bidx,
        masked=masked(verdict.number),
        bank=verdict.bank or "",
        status="pending",
        is_default=False,
        verify_ref=verify_ref,
    )
    session.add(row)
    session.flush()
    return {**card_view(row), "verify_ref": verify_ref}


def _card(session: Session, card_id: int, *, lock: bool = False) -> PaymentCardRow:
    query = select(PaymentCardRow).where(PaymentCardRow.id == card_id)
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise CardNotFoundError(f"card {card_id} does not exist", ["CARD_UNKNOWN"])
    return row


def confirm_binding(session: Session, *, channel: PaymentChannel, card_id: int, code: str) -> dict[str, Any]:
    """The verification step: the code the card holder received. The first bound card becomes default."""
    row = _card(session, card_id, lock=True)
    if row.status != "pending" or row.verify_ref is None:
        raise PaymentError(f"card {card_id} is {row.status}: nothing to verify", ["CARD_NOT_PENDING"])
    if not channel.confirm_verification(verify_ref=row.verify_ref, code=code):
        raise PaymentError("the verification code is wrong", ["CARD_CODE_WRONG"])
    row.status = "bound"
    row.verify_ref = None
    has_default = session.execute(
        select(PaymentCardRow.id).where(
            PaymentCardRow.borrower_id == row.borrower_id, PaymentCardRow.is_default
        )
    ).first()
    row.is_default = has_default is None
    session.flush()
    return card_view(row)


def set_default(session: Session, *, card_id: int) -> dict[str, Any]:
    row = _card(session, card_id, lock=True)
    if row.status != "bound":
        raise PaymentError(
            f"card {card_id} is {row.status}: only a bound card can be default", ["CARD_NOT_BOUND"]
        )
    for other in session.execute(
        select(PaymentCardRow).where(PaymentCardRow.borrower_id == row.borrower_id, PaymentCardRow.is_default)
    ).scalars():
        other.is_default = False
    session.flush()  # the old default goes first: one default per borrower (unique index)
    row.is_default = True
    session.flush()
    return card_view(row)


def unbind(session: Session, *, card_id: int) -> dict[str, Any]:
    """Refused while a debit or a payout on the card waits for its outcome (CARD_DEBIT_IN_FLIGHT)."""
    row = _card(session, card_id, lock=True)
    if row.status == "unbound":
        raise PaymentError(f"card {card_id} is already unbound", ["CARD_NOT_BOUND"])
    in_flight = (
        session.execute(  # the debits in flight on the card (debit_in_flight by card)
            select(func.count()).where(DebitInFlightRow.card_id == card_id)
        ).scalar_one()
        + session.execute(  # a payout to the card waiting for its outcome holds it too
            select(func.count()).where(
                DisbursementRow.card_id == card_id, DisbursementRow.status == "pending"
            )
        ).scalar_one()
    )
    if in_flight:
        raise CardInUseError(
            f"card {card_id} has {in_flight} debit(s) in flight: it cannot be unbound until they settle",
            ["CARD_DEBIT_IN_FLIGHT"],
        )
    row.status = "unbound"
    row.is_default = False
    session.flush()
    return card_view(row)


def list_cards(session: Session, *, borrower_id: int | None = None) -> list[dict[str, Any]]:
    query = select(PaymentCardRow).order_by(PaymentCardRow.id)
    if borrower_id is not None:
        query = query.where(PaymentCardRow.borrower_id == borrower_id)
    return [card_view(r) for r in session.execute(query).scalars()]


# ---------------------------------------------------------------- debits


def older_pending_debits(session: Session, *, today: date) -> list[tuple[str, date, int]]:
    """(channel_ref, business_date, amount_fen) of the debits still in flight from days before ``today``, in
    attempt order (the staff list). Read through ``debit_in_flight``'s date index: never the whole
    history of attempts."""
    return [
        (str(r), d, int(a))
        for r, d, a in session.execute(
            select(DebitAttemptRow.channel_ref, DebitAttemptRow.business_date, DebitAttemptRow.amount_fen)
            .join(DebitInFlightRow, DebitInFlightRow.attempt_id == DebitAttemptRow.id)
            .where(DebitInFlightRow.business_date < today)
            .order_by(DebitAttemptRow.id)
        )
    ]


def channel_ref(installment_id: int, attempt: int) -> str:
    return f"debit:{installment_id}:{attempt}"


def _book(
    session: Session, attempt: DebitAttemptRow, status: DebitStatus, settled_fen: int, on: date
) -> None:
    """Record a final outcome on a pending attempt; book the money that moved (once, by its key). The attempt
    is no longer in flight."""
    attempt.status = status.value
    session.execute(delete(DebitInFlightRow).where(DebitInFlightRow.attempt_id == attempt.id))
    attempt.settled_fen = settled_fen
    if status.moved_money:
        result = servicing.repay(
            session,
            loan_id=attempt.loan_id,
            amount_fen=settled_fen,
            on=max(on, attempt.business_date),
            idempotency_key=attempt.channel_ref,
            dated_by_platform=True,
        )
        attempt.entry_id = int(result["entry_id"])
        attempt.posted_fen = settled_fen
    session.flush()


def apply_outcome(session: Session, *, ref: str, status: DebitStatus, settled_fen: int, on: date) -> str:
    """``applied`` (a pending attempt got its outcome), ``duplicate`` (the outcome we have), ``conflict``
    (a different final outcome than the one we have: kept, surfaced), ``unknown_ref``."""
    attempt = session.execute(
        select(DebitAttemptRow).where(DebitAttemptRow.channel_ref == ref).with_for_update()
    ).scalar_one_or_none()
    if attempt is None:
        return "unknown_ref"
    if attempt.status != DebitStatus.PENDING.value:
        same = attempt.status == status.value and attempt.settled_fen == settled_fen
        return "duplicate" if same else "conflict"
    _book(session, attempt, status, settled_fen, on)
    return "applied"


@dataclass(frozen=True, slots=True)
class DueInstalment:
    installment_id: int
    loan_id: int
    due_on: date
    remaining_fen: int
    card_id: int
    card_enc: str
    borrower_id: int


def due_instalments(session: Session, on: date) -> list[DueInstalment]:
    """Instalments due by ``on``, not fully paid, of open loans whose borrower has a default card."""
    remaining = (
        InstallmentRow.principal_fen
        + InstallmentRow.interest_fen
        + InstallmentRow.fee_fen
        - InstallmentRow.paid_principal_fen
        - InstallmentRow.paid_interest_fen
        - InstallmentRow.paid_fee_fen
    )
    rows = session.execute(
        select(
            InstallmentRow.id,
            InstallmentRow.loan_id,
            InstallmentRow.due_on,
            remaining,
            PaymentCardRow.id,
            PaymentCardRow.number_enc,
            PaymentCardRow.borrower_id,
        )
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .join(PaymentCardRow, (PaymentCardRow.borrower_id == LoanRow.borrower_id) & PaymentCardRow.is_default)
        .where(
            InstallmentRow.active,
            InstallmentRow.due_on <= on,
            remaining > 0,
            LoanRow.state.in_(OPEN_STATES),
            PaymentCardRow.status == "bound",
        )
        .order_by(InstallmentRow.loan_id, InstallmentRow.period)
    ).all()
    return [DueInstalment(*r) for r in rows]


def run_debits(
    session: Session, *, channel: PaymentChannel, ring: KeyRing, on: date, policy: RetryPolicy
) -> dict[str, Any]:
    """The day's auto-debit batch. Idempotent: an (instalment, attempt) is debited at most once (unique
    ``channel_ref``); an instalment with a debit in flight is skipped."""
    counts = {s.value: 0 for s in DebitStatus} | {"skipped_in_flight": 0, "already_done": 0}
    debits: list[dict[str, Any]] = []
    due = due_instalments(session, on)
    if not due:
        return {"date": on.isoformat(), "counts": counts, "debits": debits}
    existing = {
        (r.installment_id, r.attempt): r.status
        for r in session.execute(
            select(DebitAttemptRow).where(DebitAttemptRow.installment_id.in_([d.installment_id for d in due]))
        ).scalars()
    }
    pending = {inst for (inst, _), status in existing.items() if status == DebitStatus.PENDING.value}
    for item in due:
        attempt = policy.attempt_on(item.due_on, on)
        if attempt is None:
            continue
        if (item.installment_id, attempt) in existing:
            counts["already_done"] += 1
            continue
        if item.installment_id in pending:
            counts["skipped_in_flight"] += 1
            continue
        ref = channel_ref(item.installment_id, attempt)
        row = DebitAttemptRow(
            channel_ref=ref,
            loan_id=item.loan_id,
            installment_id=item.installment_id,
            attempt=attempt,
            card_id=item.card_id,
            business_date=on,
            amount_fen=item.remaining_fen,
            settled_fen=0,
            posted_fen=0,
            status=DebitStatus.PENDING.value,
        )
        session.add(row)
        session.flush()  # the unique reference is claimed before the channel is asked
        session.add(DebitInFlightRow(card_id=row.card_id, attempt_id=row.id, business_date=on))
        session.flush()
        number = decrypt(ring, item.card_enc, _where(item.borrower_id))
        answer = channel.debit(DebitRequest(ref, number, item.remaining_fen, on))
        row.reason = answer.reason
        if answer.status.final:
            _book(session, row, answer.status, answer.settled_fen, on)
        counts[answer.status.value] += 1
        debits.append(
            {
                "channel_ref": ref,
                "loan_id": item.loan_id,
                "amount_fen": item.remaining_fen,
                "status": row.status,
                "settled_fen": row.settled_fen,
                "reason": row.reason,
            }
        )
    return {"date": on.isoformat(), "counts": counts, "debits": debits}


def handle_callback(
    session: Session, *, secret: bytes, body: bytes, signature: str, on: date
) -> dict[str, Any]:
    """Verify (HMAC), then apply once: a replayed event answers what it did the first time."""
    if not verify_signature(secret, body, signature):
        raise SignatureError("callback signature does not verify", ["CALLBACK_SIGNATURE"])
    try:
        callback = parse_callback(body)
    except CallbackError as exc:
        raise PaymentError(str(exc), ["CALLBACK_MALFORMED"]) from None
    seen = session.execute(
        select(PaymentCallbackRow).where(PaymentCallbackRow.event_id == callback.event_id)
    ).scalar_one_or_none()
    if seen is not None:
        return {"event_id": callback.event_id, "outcome": seen.outcome, "replayed": True}
    from xiaodai.payments import payout

    apply = payout.apply_outcome if payout.is_payout_ref(callback.channel_ref) else apply_outcome
    outcome = apply(
        session, ref=callback.channel_ref, status=callback.status, settled_fen=callback.settled_fen, on=on
    )
    session.add(
        PaymentCallbackRow(
            event_id=callback.event_id,
            channel_ref=callback.channel_ref,
            status=callback.status.value,
            settled_fen=callback.settled_fen,
            outcome=outcome,
            received_on=on,
        )
    )
    session.flush()
    return {"event_id": callback.event_id, "outcome": outcome, "replayed": False}


# ---------------------------------------------------------------- reconciliation


def _records(session: Session, on: date, refs: Sequence[str]) -> dict[str, DebitAttemptRow]:
    query = select(DebitAttemptRow).where(
        (DebitAttemptRow.business_date == on) | DebitAttemptRow.channel_ref.in_(list(refs))
    )
    return {r.channel_ref: r for r in session.execute(query).scalars()}


def _record(row: DebitAttemptRow | DisbursementRow) -> DebitRecord:
    if isinstance(row, DisbursementRow):
        from xiaodai.payments import payout

        return payout.record(row)
    return DebitRecord(row.channel_ref, row.posted_fen, row.status == DebitStatus.PENDING.value)


def suspense_held(session: Session, ref: str, *, payout: bool = False) -> tuple[int, int]:
    """(fen the suspense account holds for ``ref``, entries posted for it): a debit's as a credit, a
    payout's as a debit (``reconcile.cash_sign``), so that it compares with ``Outcome.suspense_fen``."""
    prefix = f"suspense:{ref}:"
    total, count = session.execute(
        select(
            func.coalesce(func.sum(PostingRow.amount_fen), 0), func.count(func.distinct(JournalEntryRow.id))
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(
            JournalEntryRow.idempotency_key.startswith(prefix, autoescape=True),
            PostingRow.account == Account.PAYMENT_SUSPENSE.value,
        )
    ).one()
    return -cash_sign(payout) * int(total), int(count)


def suspense_entry(on: date, outcome: Outcome, delta: int, count: int) -> JournalEntry:
    """The entry that moves ``outcome``'s suspense by ``delta`` (its ``count + 1``-th for the reference)."""
    cash = cash_sign(outcome.payout) * delta
    memo = {"channel_ref": outcome.channel_ref, "break": outcome.kind.value}
    if outcome.payout:
        memo["direction"] = "payout"
    return entry(
        on,
        "suspense",
        f"suspense:{outcome.channel_ref}:{count + 1}",
        [(Account.CASH, cash), (Account.PAYMENT_SUSPENSE, -cash)],
        memo=json.dumps(memo),
    )


def reconcile(
    session: Session, *, lines: Sequence[SettlementLine], on: date, payouts_of_day: bool = True
) -> dict[str, Any]:
    """Match the day's settlement lines against our debits and payouts (the day's, unless the file reports
    debits only: ``settlement_file.reports_payouts``); book confirmed outcomes of timed-out ones (a payout:
    ``payout.confirm``); move the suspense account to what the breaks need (by difference, so a replayed
    file posts nothing)."""
    from xiaodai.payments import payout

    refs = [line.channel_ref for line in lines]
    records: dict[str, DebitAttemptRow | DisbursementRow] = {
        **_records(session, on, refs),
        **payout.records(session, on, refs, of_day=payouts_of_day),
    }
    confirmed: list[str] = []
    for outcome in match(lines, [_record(r) for r in records.values()]):
        if outcome.kind is Kind.CONFIRM and outcome.line is not None:
            line = outcome.line
            if outcome.payout:
                payout.confirm(session, ref=outcome.channel_ref, line=line, on=on)
            else:
                apply_outcome(
                    session, ref=outcome.channel_ref, status=line.status, settled_fen=line.amount_fen, on=on
                )
            confirmed.append(outcome.channel_ref)
    outcomes = match(lines, [_record(r) for r in records.values()])
    suspense_posted = 0
    for outcome in outcomes:
        want = outcome.suspense_fen
        held, count = suspense_held(session, outcome.channel_ref, payout=outcome.payout)
        delta = want - held
        if delta:
            ledger.post(session, suspense_entry(on, outcome, delta, count))
            suspense_posted += delta
    unmatched_callbacks = [
        {
            "event_id": r.event_id,
            "channel_ref": r.channel_ref,
            "outcome": r.outcome,
            "settled_fen": r.settled_fen,
        }
        for r in session.execute(
            select(PaymentCallbackRow)
            .where(PaymentCallbackRow.outcome.in_(("unknown_ref", "conflict")))
            .order_by(PaymentCallbackRow.id)
        ).scalars()
    ]
    return report(on, outcomes, confirmed, suspense_posted, unmatched_callbacks)


def _break(outcome: Outcome) -> dict[str, Any]:
    return {
        "kind": outcome.kind.value,
        "channel_ref": outcome.channel_ref,
        "ours_fen": outcome.ours_fen,
        "theirs_fen": outcome.theirs_fen,
        "suspense_fen": outcome.suspense_fen,
        "direction": "payout" if outcome.payout else "debit",
    }


def report(
    on: date,
    outcomes: Sequence[Outcome],
    confirmed: Sequence[str],
    suspense_posted: int,
    unmatched_callbacks: list[dict[str, Any]],
) -> dict[str, Any]:
    counts = {k.value: 0 for k in Kind if k is not Kind.CONFIRM}
    for o in outcomes:
        counts[o.kind.value] += 1
    return {
        "date": on.isoformat(),
        "counts": counts,
        "confirmed": list(confirmed),
        "breaks": [_break(o) for o in outcomes if o.kind in BREAKS],
        "suspense_posted_fen": suspense_posted,
        "callbacks_unmatched": unmatched_callbacks,
    }
