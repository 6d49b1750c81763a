"""Journey services used by the API and the web pages. Every function checks ownership: a borrower only
ever sees and acts on their own applications and loans (a foreign id is reported as not found)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, bindparam, select, text
from sqlalchemy.orm import Session

from xiaodai import json_text
from xiaodai.db.inserts import execute_compiled, insert_id, insert_loaded, queue_loaded, write_queued
from xiaodai.db.tables import (
    ApplicationRow,
    ConsentRow,
    DecisionRow,
    DisclosureRow,
    LoanRow,
    UserRow,
)
from xiaodai.journey import loan_reads
from xiaodai.journey.lender import lender_name
from xiaodai.journey.payment_rail import RAIL
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.money.daycount import DayCount
from xiaodai.money.money import Money, MoneyError
from xiaodai.payments import payout
from xiaodai.payments.channel import PayoutChannel
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.disclosure import DisclosureTerms, build_kfs, permits_charge, snapshot
from xiaodai.pricing.products import Product, ProductLimitError, default_products
from xiaodai.pricing.quote import CapExceededError, build_quote
from xiaodai.pricing.schedule import LoanTerms, Method, TermsError
from xiaodai.servicing import service as servicing
from xiaodai.servicing.accrual import capped_penalty_rate
from xiaodai.servicing.commands import Result, run_once
from xiaodai.servicing.errors import LoanNotFoundError, ServicingError
from xiaodai.servicing.lifecycle import LoanState, transition
from xiaodai.servicing.loans import installments, lock_loan
from xiaodai.servicing.repayment import PayoffExceededError
from xiaodai.underwriting import service as underwriting

CONSENT_VERSION = {
    "credit_check": "credit-check-2026.11",
    "terms": "loan-terms-2026.11",
    "ecosystem_data": "ecosystem-data-2026.12",  # optional: ecosystem signals recorded with the decision
}
COOLING_OFF_DAYS = 7


class JourneyError(ValueError):
    status = 400


class NotFoundError(JourneyError):
    status = 404


@dataclass(frozen=True, slots=True)
class OfferRequest:
    amount: Decimal | None = None
    term: int | None = None
    method: str | None = None
    product: str | None = None  # a product of the catalogue (pricing/data/products.json); default standard


DEFAULT_PRODUCT = "standard"
OFFERED_PRODUCTS = ("standard", "everyday")  # what a borrower may choose ("open" is for analysis only)
APPLICATION_CHANNELS = ("web", "api")  # where an application came in (kept in its payload_json)


def offered_product(name: str | None) -> Product:
    chosen = name or DEFAULT_PRODUCT
    if chosen not in OFFERED_PRODUCTS:
        raise JourneyError(f"unknown product {chosen!r}: {', '.join(OFFERED_PRODUCTS)}")
    return default_products()[chosen]


def _now() -> datetime:
    return datetime.now(tz=UTC)


def record_consent(session: Session, *, user: UserRow, kind: str, at: datetime | None = None) -> None:
    insert_id(
        session,
        ConsentRow,
        {
            "user_id": user.id,
            "kind": kind,
            "text_version": CONSENT_VERSION[kind],
            "granted_at": at or _now(),
            "withdrawn_at": None,
        },
    )


# built once: the application a borrower's idempotency key already made
_BY_IDEMPOTENCY_KEY = select(ApplicationRow.public_id).where(
    ApplicationRow.idempotency_key == bindparam("key", type_=String)
)
# PostgreSQL, one round trip: that look-up, and the credit-check consent recorded only when the key made no
# application yet (what the look-up and then ``record_consent`` do in two statements); then also the id
# the new application takes, so its row is queued (``db.inserts.queue_loaded``) and written with the
# transaction's last statement (the audit chain's, at commit) instead of in a statement of its own
_NEW_APPLICATION_CONSENT = text("""
    WITH existing AS (SELECT public_id FROM applications WHERE idempotency_key = :key),
    consent AS (
        INSERT INTO consents (user_id, kind, text_version, granted_at, withdrawn_at)
        SELECT :user_id, 'credit_check', :text_version, :granted_at, NULL
        WHERE NOT EXISTS (SELECT 1 FROM existing)
        RETURNING id
    )
    SELECT (SELECT public_id FROM existing) AS existing, (SELECT id FROM consent) AS consent_id,
        (SELECT nextval('applications_id_seq') FROM consent) AS next_id
""").bindparams(
    bindparam("key", type_=String),
    bindparam("user_id", type_=BigInteger),
    bindparam("text_version", type_=String),
    bindparam("granted_at", type_=DateTime(timezone=True)),
)


def submit_application(
    session: Session,
    *,
    user: UserRow,
    payload: dict[str, Any],
    idempotency_key: str,
    credit_check_consent: bool,
    today: date,
    submitted_at: datetime | None = None,
    channel: str = "web",
) -> dict[str, Any]:
    """Record the application (idempotent by key) and decide it with the active model.
    ``submitted_at``: when it was received (default now; the demo seed applies on past business dates).
    ``channel``: where it came in (``APPLICATION_CHANNELS``; the borrower pages' default "web", the API
    says "api"), kept with the application for the portfolio's concentration by channel."""
    if user.kind != "borrower":
        raise JourneyError("only borrowers apply")
    if channel not in APPLICATION_CHANNELS:
        raise JourneyError(f"unknown application channel {channel!r}")
    session.flush()
    write_queued(session)  # an earlier application of this transaction, queued: the key's claim reads it
    connection = session.connection()
    key = f"{user.id}:{idempotency_key}"
    next_id: int | None = None  # PostgreSQL: the id the application takes (its row is then queued)
    if credit_check_consent and connection.dialect.name == "postgresql":
        claimed = execute_compiled(
            connection,
            _NEW_APPLICATION_CONSENT,
            {
                "key": key,
                "user_id": user.id,
                "text_version": CONSENT_VERSION["credit_check"],
                "granted_at": submitted_at or _now(),
            },
        ).one()
        if claimed.existing is not None:
            return application_view(session, user=user, public_id=claimed.existing)
        next_id = int(claimed.next_id)
    else:
        existing = connection.execute(_BY_IDEMPOTENCY_KEY, {"key": key}).scalar_one_or_none()
        if existing is not None:
            return application_view(session, user=user, public_id=existing)
        if not credit_check_consent:
            raise JourneyError(
                "consent to the credit check is required (it is recorded separately from the terms)"
            )
        record_consent(session, user=user, kind="credit_check", at=submitted_at)
    public_id = uuid.uuid4().hex
    application_json = {
        "application_id": public_id,
        "as_of": today.isoformat(),
        "applicant": dict(payload.get("applicant", {})),
        "features": dict(payload.get("features", {})),
        "request": dict(payload.get("request", {})),
    }
    # platform and bureau values are looked up for this user (never taken from the payload); the
    # application's own row is not among them (it is left out of the count of recent applications), so it
    # is written once, with its decision
    result = underwriting.decide_and_record(
        session, application_json=application_json, user_id=user.id, new_application=True
    )
    values: dict[str, Any] = {
        "public_id": public_id,
        "user_id": user.id,
        "idempotency_key": key,
        "payload_json": json.dumps({**application_json, "channel": channel}, ensure_ascii=False),
        "decision_id": int(result["decision_id"]),
        "outcome": str(result["outcome"]),
        "loan_id": None,
    }
    if submitted_at is not None:
        values["created_at"] = submitted_at
    if next_id is not None:  # written with the decision, the pull and the audit events, at commit
        row = queue_loaded(session, ApplicationRow, {"id": next_id, **values})
    else:
        row = insert_loaded(
            session,
            ApplicationRow,
            values,
            server_defaults=() if submitted_at is not None else ("created_at",),
        )
    # the applicant reads what the application page shows: reasons recomputed for a person (catalogue
    # labels, positive factors when approved), from the decision row this session holds
    return _view_of(session, row)


def _own_application(session: Session, user: UserRow, public_id: str) -> ApplicationRow:
    row = session.execute(
        select(ApplicationRow).where(ApplicationRow.public_id == public_id)
    ).scalar_one_or_none()
    if row is None or row.user_id != user.id:
        raise NotFoundError("application not found")
    return row


def application_view(session: Session, *, user: UserRow, public_id: str) -> dict[str, Any]:
    return _view_of(session, _own_application(session, user, public_id))


def _view_of(session: Session, row: ApplicationRow) -> dict[str, Any]:
    decision = session.get(DecisionRow, row.decision_id) if row.decision_id else None
    result = json_text.parsed(decision.result_json) if decision else {}
    explained = underwriting.applicant_explanation(session, decision) if decision else {}
    reasons = explained.get("reasons", [])
    positive = explained.get("positive", [])
    offer = result.get("offer")
    reviewed = decision is not None and decision.outcome == "refer" and row.outcome != "refer"
    if reviewed:  # an underwriter decided the referral: their verdict and reasons are what the borrower reads
        from xiaodai.underwriting.referrals import review_of

        review = review_of(session, row.public_id)
        reasons = review["reasons"] if review else []
        if row.outcome != "approve":
            offer, positive = None, []
    return {
        "application_id": row.public_id,
        "outcome": row.outcome,
        "reasons": reasons,
        "positive_factors": positive,
        "offer": offer,
        "grade": result.get("grade"),
        "loan_id": row.loan_id,
        "reviewed": reviewed,
    }


def _terms_for(
    session: Session, user: UserRow, public_id: str, request: OfferRequest, today: date
) -> tuple[LoanTerms, DisclosureTerms, dict[str, Any], str]:
    view = application_view(session, user=user, public_id=public_id)
    offer = view["offer"]
    if view["outcome"] != "approve" or not offer:
        raise JourneyError("this application has no offer")
    if view["loan_id"]:
        raise JourneyError("this offer was already signed")
    if _taken_as_line(session, user, public_id):
        raise JourneyError("this offer was taken as a credit line: draw on the line instead")
    limit = Decimal(offer["credit_limit"])
    amount = request.amount if request.amount is not None else Decimal(offer["principal"])
    term = request.term if request.term is not None else int(offer["term"])
    low, high = offer["allowed_terms"]["min"], offer["allowed_terms"]["max"]
    if not Decimal(500) <= amount <= limit:
        raise JourneyError(f"amount must be between 500.00 and your limit {limit:.2f}")
    if not low <= term <= high:
        raise JourneyError(f"term must be between {low} and {high} months")
    priced = price_offer(
        amount=amount,
        term=term,
        method=request.method or "equal-installment",
        annual_rate=Decimal(offer["annual_rate"]),
        product_name=request.product,
        today=today,
    )
    return priced.terms, priced.disclosure, priced.kfs, priced.product


def _taken_as_line(session: Session, user: UserRow, public_id: str) -> bool:
    """Whether the application's decision granted a credit line (its offer is then drawn on, not signed)."""
    from xiaodai.db.tables import CreditLineRow

    decision_id = _own_application(session, user, public_id).decision_id
    found = session.execute(select(CreditLineRow.id).where(CreditLineRow.decision_id == decision_id)).first()
    return found is not None


@dataclass(frozen=True, slots=True)
class PricedOffer:
    """An offer priced for a product: the loan terms, the disclosure terms and the KFS built from them."""

    terms: LoanTerms
    disclosure: DisclosureTerms
    kfs: dict[str, Any]
    product: str


def price_offer(
    *,
    amount: Decimal,
    term: int,
    method: str,
    annual_rate: Decimal,
    product_name: str | None,
    today: date,
    kfs_extra: dict[str, Any] | None = None,
    periodic_daycount: DayCount | None = None,
) -> PricedOffer:
    """Price an amount and term at ``annual_rate`` for an offered product and build its key-facts
    statement (an application's offer, a credit line's drawdown). ``kfs_extra``: sections a caller adds to
    the statement (they are part of what is signed). ``periodic_daycount``: interest-first by each period's
    actual days at the daily rate (a credit line's daily-interest plan)."""
    product = offered_product(product_name)
    try:
        chosen = Method.parse(method)
        principal = Money.of(amount).amount
        product.check(principal=principal, term=term, method=chosen)
        terms = LoanTerms(
            principal=principal,
            term=term,
            method=chosen,
            annual_rate=annual_rate,
            start_on=today,
            fees=product.fees_for(principal),
            periodic_daycount=periodic_daycount,
        )
    except (TermsError, ValueError, MoneyError, ProductLimitError) as exc:
        raise JourneyError(str(exc)) from exc
    if chosen is Method.FLAT_FEE:
        raise JourneyError("the flat-fee method is not offered")
    book = default_cap_book()
    config = servicing.ServicingConfig(penalty_annual_rate=product.penalty_annual_rate)
    try:
        quote = build_quote(terms, cap=book.profile(config.cap_profile or "cn-consumer-24"), cap_book=book)
    except CapExceededError as refused:
        raise JourneyError(
            f"with the fees of product {product.name!r} this offer's annual rate would exceed the cap "
            f"({refused.verdict.reason.value})"
        ) from refused
    penalty = capped_penalty_rate(
        config.penalty_annual_rate,
        loan_apr_percent=quote.apr_percent,
        cap_limit_percent=quote.cap.limit_percent if quote.cap else None,
    )
    disclosure = DisclosureTerms(
        penalty_annual_rate=penalty.annual_rate,
        penalty_reason=penalty.reason,
        cooling_off_days=COOLING_OFF_DAYS,
        lender_name=lender_name("zh"),
        lender_name_en=lender_name("en"),
    )
    kfs = build_kfs(quote, disclosure)
    if kfs_extra:
        kfs = {**kfs, **kfs_extra}
    return PricedOffer(terms, disclosure, kfs, product.name)


def offer_kfs(
    session: Session, *, user: UserRow, public_id: str, request: OfferRequest, today: date
) -> dict[str, Any]:
    _, _, kfs, _ = _terms_for(session, user, public_id, request, today)
    return {"kfs": kfs, "sha256": snapshot(kfs).sha256}


def sign_offer(
    session: Session,
    *,
    user: UserRow,
    public_id: str,
    request: OfferRequest,
    seen_sha256: str,
    ip: str,
    lang: str,
    today: date,
    signed_at: datetime | None = None,
    channel: PayoutChannel | None = None,
) -> dict[str, Any]:
    """Freeze exactly the KFS the borrower saw, create the loan and pay it out through the channel.
    ``signed_at``: when the borrower signed (default now; the demo seed signs on past business dates)."""
    terms, disclosure, kfs, product = _terms_for(session, user, public_id, request, today)
    application = _own_application(session, user, public_id)
    return sign_and_disburse(
        session,
        user=user,
        priced=PricedOffer(terms, disclosure, kfs, product),
        seen_sha256=seen_sha256,
        ip=ip,
        lang=lang,
        today=today,
        signed_at=signed_at,
        before_disbursal=lambda loan: setattr(application, "loan_id", loan.id),
        channel=channel,
    )


def sign_and_disburse(
    session: Session,
    *,
    user: UserRow,
    priced: PricedOffer,
    seen_sha256: str,
    ip: str,
    lang: str,
    today: date,
    signed_at: datetime | None = None,
    line_id: int | None = None,
    before_disbursal: Callable[[LoanRow], None] | None = None,
    channel: PayoutChannel | None = None,
) -> dict[str, Any]:
    """Sign exactly the KFS the borrower saw (its SHA-256), create the loan with its schedule and disclosure
    snapshot, and pay it out through the payment channel (``payments.payout``: the ledger posts only a
    settled payout; a timed-out one leaves the loan ``signed``, a failed one ``cancelled``). ``line_id``: the
    credit line it is drawn on. ``channel``: the app's (default: the process's simulated channel)."""
    terms, disclosure, kfs, product = priced.terms, priced.disclosure, priced.kfs, priced.product
    frozen = snapshot(kfs)
    if frozen.sha256 != seen_sha256:
        raise JourneyError(
            "the key-facts statement changed since it was shown: review it again before signing"
        )
    record_consent(session, user=user, kind="terms", at=signed_at)
    config = servicing.ServicingConfig(penalty_annual_rate=disclosure.penalty_annual_rate)
    loan = servicing.create_loan(
        session, terms=terms, product=product, config=config, cap_book=default_cap_book()
    )
    loan.borrower_id = user.id
    loan.line_id = line_id
    loan.cooling_off_until = today + timedelta(days=disclosure.cooling_off_days)
    session.add(
        DisclosureRow(
            loan_id=loan.id,
            user_id=user.id,
            canonical_json=frozen.canonical,
            sha256=frozen.sha256,
            lang=lang,
            signed_at=signed_at or _now(),
            signed_ip=ip,
        )
    )
    if before_disbursal is not None:
        before_disbursal(loan)
    session.flush()
    sent = payout.disburse(session, loan=loan, channel=channel or payout.default_channel(), on=today)
    return {
        "loan_id": loan.id,
        "sha256": frozen.sha256,
        "state": loan.state,
        "cooling_off_until": loan.cooling_off_until.isoformat(),
        "disbursement": payout.disbursement_view(sent),
    }


def own_loan(session: Session, user: UserRow, loan_id: int) -> LoanRow:
    loan = session.get(LoanRow, loan_id)
    if loan is None or loan.borrower_id != user.id:
        raise NotFoundError("loan not found")
    return loan


def disclosure_for(session: Session, loan_id: int) -> DisclosureRow:
    row = session.execute(select(DisclosureRow).where(DisclosureRow.loan_id == loan_id)).scalar_one_or_none()
    if row is None:
        raise NotFoundError("this loan has no disclosure snapshot")
    return row


CLAUSE = {"principal": "S1", "interest": "S1"}


def loan_detail(session: Session, *, user: UserRow, loan_id: int, today: date) -> dict[str, Any]:
    """The loan with its schedule and a bill breakdown (one statement: ``journey.loan_reads``)."""
    return loan_reads.loan_detail(session, user=user, loan_id=loan_id, today=today)


def my_loans(session: Session, *, user: UserRow) -> list[dict[str, Any]]:
    """The user's loans, oldest first (one statement: ``journey.loan_reads``)."""
    return loan_reads.my_loans(session, user=user)


class OverpaymentRefusedError(JourneyError):
    """A repayment above what settles the loan today: refused, with the payoff amount to pay instead."""

    def __init__(self, payoff_fen: int) -> None:
        payoff = Money.from_minor(payoff_fen).to_json()
        super().__init__(
            f"the amount is more than the {payoff} that settles this loan today: pay at most {payoff}"
        )
        self.payoff_fen = payoff_fen


def payoff_fen(session: Session, *, loan_id: int, on: date) -> int:
    """What settles the loan on ``on`` (0 when it is not open)."""
    loan = session.get(LoanRow, loan_id)
    if loan is None or LoanState(loan.state) not in (LoanState.ACTIVE, LoanState.OVERDUE):
        return 0
    return servicing.prepay_quote(session, loan_id=loan_id, on=on).total_fen


def repay(session: Session, *, user: UserRow, loan_id: int, amount_fen: int, on: date, key: str) -> Result:
    """A borrower's repayment (``repay_as`` with the borrower's id)."""
    return repay_as(session, user_id=user.id, loan_id=loan_id, amount_fen=amount_fen, on=on, key=key)


def repay_as(session: Session, *, user_id: int, loan_id: int, amount_fen: int, on: date, key: str) -> Result:
    """A borrower's repayment. More than the payoff amount is refused (policy: no silent overpayment; the
    borrower pays off instead), so the schedule, the payoff quote and the statement never disagree; exactly
    the payoff settles the loan. Ownership, "is this a retry?", the lock and the payoff are decided on the
    locked loan in one go (``servicing.repayment.repay``): another borrower's loan is not found and nothing
    is claimed; a retry replays the first answer. Only the borrower's id is needed (the API's hot path
    passes the id of a remembered token, with no user row built)."""
    reference = f"repay:u{user_id}:{key}"
    with repay_refusals():
        return servicing.repay(  # a borrower's payment is dated by the platform (the business date)
            session,
            loan_id=loan_id,
            amount_fen=amount_fen,
            on=on,
            idempotency_key=f"u{user_id}:{key}",
            dated_by_platform=True,
            borrower_id=user_id,
            within_payoff=True,
            collect=lambda: RAIL.collect(
                reference=reference, amount_fen=amount_fen, account=f"borrower:{user_id}"
            ),
        )


@contextlib.contextmanager
def repay_refusals() -> Iterator[None]:
    """A borrower's repayment refused by servicing, as the borrower is told: another borrower's loan (or
    none) not found, more than the payoff ``OverpaymentRefusedError`` (``repay_as``; ``api.loop_repay``)."""
    try:
        yield
    except LoanNotFoundError:
        raise NotFoundError("loan not found") from None
    except PayoffExceededError as refused:
        raise OverpaymentRefusedError(refused.payoff_fen) from None


def cancel_in_cooling_off(session: Session, *, user: UserRow, loan_id: int, on: date, key: str) -> Result:
    """Within the cooling-off window: repay the principal received only; a fee kept back is refunded."""
    loan = own_loan(session, user, loan_id)

    def action() -> Result:
        locked = lock_loan(session, loan_id)
        if locked.cooling_off_until is None or on > locked.cooling_off_until:
            raise ServicingError("the cooling-off window has ended: use prepayment instead")
        if locked.paid_total_fen or locked.interest_outstanding_fen or locked.penalties_outstanding_fen:
            raise ServicingError("payments were already made on this loan: use prepayment instead")
        net = locked.principal_fen - locked.upfront_fee_fen
        legs = [
            (Account.CASH, net),
            (Account.FEE_INCOME, locked.upfront_fee_fen),
            (Account.LOAN_PRINCIPAL, -locked.principal_outstanding_fen),
        ]
        entry_id = ledger.post(
            session,
            entry(on, "cooling-off-cancellation", f"cooling-off:{locked.id}", legs, loan_id=locked.id),
            loan=locked,
        )
        locked.paid_total_fen += net
        for row in installments(session, locked.id, lock=True):  # nothing more is owed on any of them
            row.active = False
        locked.state = transition(LoanState(locked.state), LoanState.SETTLED).value
        locked.closed_on = on
        return {
            "loan_id": locked.id,
            "entry_id": entry_id,
            "repaid": Money.from_minor(net).to_json(),
            "state": locked.state,
        }

    return run_once(
        session,
        key=f"u{user.id}:{key}",
        command="cooling-off-cancel",
        request={"loan_id": loan.id},  # ``on`` is the business date: a retry after midnight replays
        action=action,
    )


def check_charge(
    session: Session, *, loan_id: int, charge_type: str, amount: Decimal, period: int | None = None
) -> dict[str, Any]:
    """Whether the loan's disclosure snapshot allows a charge; servicing refuses any charge it does not."""
    kfs = json.loads(disclosure_for(session, loan_id).canonical_json)
    verdict = permits_charge(kfs, charge_type=charge_type, amount=amount, period=period)
    return {"allowed": verdict.allowed, "reason": verdict.reason, "clause": verdict.clause}
