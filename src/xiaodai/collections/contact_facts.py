"""What the contact-policy engine judges, as typed values (pure).

The engine (``contact_policy.evaluate``) takes a ``ContactCase`` (the borrower's contact points, the people
around them, the debt, the flags on file), the ``PriorContact`` history, the ``Attempt`` being judged and
the moment ``as_of``. JSON documents (the staff API body, a case's stored context, a conformance scenario)
are translated into these values at the edge (``contact_document``); the engine never reads a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

# Who counts as "the borrower" for the engine: US Regulation F calls the obligor "the consumer".
BORROWER_TARGETS = frozenset({"borrower", "consumer"})


@dataclass(frozen=True, slots=True)
class Phone:
    id: str
    type: str | None = None  # mobile | work | landline
    owner: str | None = None  # borrower | consumer | consumer_workplace | household
    shared_household: bool = False  # a line other people answer
    status: str | None = None
    source: str | None = None

    @property
    def shared(self) -> bool:
        return self.shared_household or self.owner == "household"

    @property
    def workplace(self) -> bool:
        return self.type == "work" or self.owner == "consumer_workplace"


@dataclass(frozen=True, slots=True)
class Email:
    id: str
    address_type: str | None = None  # personal | employer_provided
    source: str | None = None  # consumer_provided | skip_trace
    consumer_consented: bool = False
    consumer_emailed_from_it: bool = False


@dataclass(frozen=True, slots=True)
class ThirdParty:
    """A person other than the borrower (emergency contact, spouse, employer, …)."""

    id: str
    type: str | None = None  # emergency_contact | spouse | employer | other_third_party
    relationship: str | None = None
    source: str | None = None  # borrower_provided_at_application | device_address_book
    refused_contact: bool = False
    refused_at: datetime | None = None
    debt_related_evidence: str | None = None  # CN: why this person is liable for the debt (共同债务, 担保…)


@dataclass(frozen=True, slots=True)
class Debt:
    id: str | None = None
    days_past_due: int | None = None
    principal_cny: Decimal | None = None
    amount_due_cny: Decimal | None = None
    amount_above_legal_cost_cap_cny: Decimal | None = None  # the part of the demand above the cap (pricing)
    balance_usd: Decimal | None = None
    creditor: str | None = None
    time_barred: bool = False


@dataclass(frozen=True, slots=True)
class CeaseRequest:
    form: str | None = None  # written | electronic | oral
    received_at: datetime | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class Dispute:
    form: str | None = None
    received_at: datetime | None = None
    subject: str | None = None
    within_validation_period: bool | None = None
    verification_sent_at: datetime | None = None
    verification_completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AttorneyRepresentation:
    attorney: str | None = None
    notified_at: datetime | None = None
    name_and_address_known: bool | None = None
    attorney_failed_to_respond: bool = False
    attorney_consented_direct_contact: bool = False


@dataclass(frozen=True, slots=True)
class OptOut:
    channel: str  # a channel name, or "*" for every medium
    address_id: str = "*"  # a phone or e-mail id, or "*" for every address of that medium
    form: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AgreedHours:
    """Hours the debtor agreed to be contacted outside the default window (local time; may cross midnight)."""

    start: time
    end: time | None  # None: until midnight ("24:00")
    initiated_by: str | None = None
    evidence: str | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unreachable:
    status: str | None = None
    basis: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallConsent:
    """US 1006.14(b)(3)(i): the person's prior consent to be called, given directly to the collector."""

    given_at: datetime
    given_directly_to_collector: bool | None = None
    for_window: str | None = None


@dataclass(frozen=True, slots=True)
class Hardship:
    declared: bool = False
    plan_active: bool = False


@dataclass(frozen=True, slots=True)
class Flags:
    cease_request: CeaseRequest | None = None
    dispute: Dispute | None = None
    hardship: Hardship = Hardship()
    represented_by_attorney: AttorneyRepresentation | None = None
    employer_prohibits_contact: bool = False
    opted_out: tuple[OptOut, ...] = ()
    debtor_agreed_contact_hours: AgreedHours | None = None
    debtor_unreachable: Unreachable | None = None
    consumer_location_known: bool | None = None
    prior_consent_to_call: CallConsent | None = None
    complaint_hold: bool = False  # house policy (CN): a complaint under investigation


@dataclass(frozen=True, slots=True)
class ContactCase:
    """Everything the engine knows about the borrower and the debt."""

    timezone: str | None = None
    candidate_timezones: tuple[str, ...] = ()
    location_states: tuple[str, ...] = ()  # US state codes from the location evidence
    location_area_codes: tuple[str, ...] = ()  # US telephone area codes from the location evidence
    phones: tuple[Phone, ...] = ()
    emails: tuple[Email, ...] = ()
    contacts: tuple[ThirdParty, ...] = ()
    debt: Debt = Debt()
    flags: Flags = Flags()
    collector_role: str | None = None  # third_party_debt_collector | creditor
    first_communication_done: bool = False
    contract_fees: tuple[str, ...] = ()

    def phone(self, phone_id: str | None) -> Phone | None:
        return next((p for p in self.phones if p.id == phone_id), None)

    def email(self, email_id: str | None) -> Email | None:
        return next((e for e in self.emails if e.id == email_id), None)

    def contact(self, contact_id: str | None) -> ThirdParty | None:
        return next((c for c in self.contacts if c.id == contact_id), None)


# The engine's older name for the case, kept for callers that say ``Context``.
Context = ContactCase


@dataclass(frozen=True, slots=True)
class Attempt:
    action: str  # contact | answer_inbound
    channel: str
    target_type: str = "borrower"
    contact_id: str | None = None
    phone_id: str | None = None
    email_id: str | None = None
    message: str | None = None
    purpose: str | None = None
    initiated_by: str | None = None
    visibility: str | None = None  # private_direct_message | public_comment
    demand_amount_cny: Decimal | None = None
    target_name: str | None = None

    @property
    def to_borrower(self) -> bool:
        return self.target_type in BORROWER_TARGETS


@dataclass(frozen=True, slots=True)
class PriorContact:
    at: datetime
    target: str
    channel: str
    phone_id: str | None
    contact_id: str | None
    initiated_by: str
    outcome: str
    note: str | None = field(default=None)

    @property
    def to_borrower(self) -> bool:
        return self.target in BORROWER_TARGETS
