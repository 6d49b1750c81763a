"""The JSON form of a collection case and of a contact attempt, translated into the engine's typed values.

The staff API body, the CLI's stdin, the web form and a stored case context all use the field names of the
conduct scenario format (SCENARIO_FORMAT.md, suites ``contact``/``message``): ``borrower``, ``contacts``,
``debt``, ``flags``, ``collector_role``, ``first_communication_done`` for the case; ``action``, ``channel``,
``target``, ``phone_id``… for the attempt. Absent or ``null`` means "not known / not applicable". A value
outside a closed vocabulary, a time without its UTC offset, or a wrong type raises ``ContactDocumentError``
naming the field (a 4xx / ``decision: error``), never a silent default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xiaodai.collections.contact_facts import (
    AgreedHours,
    Attempt,
    AttorneyRepresentation,
    CallConsent,
    CeaseRequest,
    ContactCase,
    Debt,
    Dispute,
    Email,
    Flags,
    Hardship,
    OptOut,
    Phone,
    PriorContact,
    ThirdParty,
    Unreachable,
)

ACTIONS = ("contact", "answer_inbound")
CHANNELS = (
    "call",
    "sms",
    "app_push",
    "email",
    "letter",
    "voicemail",
    "visit",
    "social_media",
    "public_notice",
    "ai_voice",
    "voice",
    "im",
    "wechat",
)
TARGETS = (
    "borrower",
    "consumer",
    "emergency_contact",
    "spouse",
    "employer",
    "other_third_party",
    "attorney",
    "public",
    "co_borrower",
    "guarantor",
)
VISIBILITY = ("private_direct_message", "public_comment")
OUTCOMES = (
    "connected_conversation",
    "no_answer",
    "busy_signal",
    "number_not_in_service",
    "voicemail_limited_content",
    "voicemail",
    "delivered",
    "undeliverable",
    "refused",
)
INITIATORS = ("agent", "ai_voice", "borrower", "consumer", "debtor", "collector", "system")
PHONE_TYPES = ("mobile", "work", "landline")
PHONE_OWNERS = ("borrower", "consumer", "consumer_workplace", "household")
EMAIL_TYPES = ("personal", "employer_provided")
CONTACT_TYPES = ("emergency_contact", "spouse", "employer", "other_third_party", "attorney")
COLLECTOR_ROLES = ("third_party_debt_collector", "creditor")
FORMS = ("written", "electronic", "email", "letter", "oral", "in_app", "sms")
# SCENARIO_FORMAT.md leaves a request's ``form`` open: common spellings are read as the form they name,
# and a form this list does not know is "not known" (None), which the holds treat protectively (a cease or
# dispute of unknown form is honoured), never an error.
FORM_ALIASES = {
    "app": "in_app",
    "in-app": "in_app",
    "web": "electronic",
    "web_form": "electronic",
    "online": "electronic",
    "portal": "electronic",
    "text": "sms",
    "text_message": "sms",
    "e-mail": "email",
    "mail": "letter",
    "fax": "written",
    "in_writing": "written",
    "phone": "oral",
    "call": "oral",
    "telephone": "oral",
    "hotline": "oral",
    "verbal": "oral",
    "in_person": "oral",
}


def request_form(reader: _Reader, key: str = "form") -> str | None:
    """The form of a cease or dispute request, in the closed list above, or None when not known."""
    value = reader.text(key)
    if value is None:
        return None
    spelled = value.strip().lower().replace(" ", "_")
    form = FORM_ALIASES.get(spelled, spelled)
    return form if form in FORMS else None


class ContactDocumentError(ValueError):
    """A field of a case or attempt document is missing, of the wrong type, or outside its vocabulary."""


class _Reader:
    """Typed access to one JSON object; every error names the field's full path."""

    def __init__(self, raw: Any, path: str) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ContactDocumentError(f"{path or 'document'}: expected an object, got {type(raw).__name__}")
        self.raw: Mapping[str, Any] = raw
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def text(self, key: str, known: Sequence[str] | None = None, *, default: str | None = None) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ContactDocumentError(f"{self.at(key)}: expected a string, got {value!r}")
        value = str(value)
        if known is not None and value not in known:
            raise ContactDocumentError(f"{self.at(key)}: unknown value {value!r} (known: {', '.join(known)})")
        return value

    def flag(self, key: str) -> bool:
        value = self.raw.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ContactDocumentError(f"{self.at(key)}: expected true or false, got {value!r}")
        return value

    def maybe_flag(self, key: str) -> bool | None:
        return None if self.raw.get(key) is None else self.flag(key)

    def moment(self, key: str) -> datetime | None:
        return parse_moment(self.raw.get(key), self.at(key))

    def amount(self, key: str) -> Decimal | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ContactDocumentError(f"{self.at(key)}: expected a number, got {value!r}")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ContactDocumentError(f"{self.at(key)}: {value!r} is not a number") from None

    def items(self, key: str) -> list[_Reader]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ContactDocumentError(f"{self.at(key)}: expected a list")
        return [_Reader(item, f"{self.at(key)}[{i}]") for i, item in enumerate(value)]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ContactDocumentError(f"{self.at(key)}: expected a list of strings")
        return tuple(value)

    def child(self, key: str) -> _Reader | None:
        value = self.raw.get(key)
        if value is None or value is False:
            return None
        if value is True:
            return _Reader({}, self.at(key))
        return _Reader(value, self.at(key))


def parse_moment(value: Any, field: str) -> datetime | None:
    """An ISO-8601 date-time WITH its UTC offset (a bare local time is ambiguous across zones)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ContactDocumentError(f"{field}: {value!r} is not an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        raise ContactDocumentError(f"{field}: {value!r} needs its UTC offset")
    return moment


def _clock(value: Any, field: str) -> time | None:
    """``HH:MM`` local clock time; ``24:00`` (end of the day) is ``None``."""
    if value in ("24:00", "24:00:00"):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ContactDocumentError(f"{field}: {value!r} is not a clock time HH:MM") from None


# ------------------------------------------------------------------------------------------------- case


def _phones(borrower: _Reader) -> tuple[Phone, ...]:
    return tuple(
        Phone(
            id=str(p.text("id") or ""),
            type=p.text("type", PHONE_TYPES),
            owner=p.text("owner", PHONE_OWNERS),
            shared_household=p.flag("shared_household"),
            status=p.text("status"),
            source=p.text("source"),
        )
        for p in borrower.items("phones")
    )


def _emails(borrower: _Reader) -> tuple[Email, ...]:
    return tuple(
        Email(
            id=str(e.text("id") or ""),
            address_type=e.text("address_type", EMAIL_TYPES),
            source=e.text("source"),
            consumer_consented=e.flag("consumer_consented"),
            consumer_emailed_from_it=e.flag("consumer_emailed_from_it"),
        )
        for e in borrower.items("emails")
    )


def _contacts(doc: _Reader) -> tuple[ThirdParty, ...]:
    out = []
    for c in doc.items("contacts"):
        evidence = c.get("debt_related_evidence")
        out.append(
            ThirdParty(
                id=str(c.text("id") or ""),
                type=c.text("type", CONTACT_TYPES),
                relationship=c.text("relationship"),
                source=c.text("source"),
                refused_contact=c.flag("refused_contact"),
                refused_at=c.moment("refused_at"),
                debt_related_evidence=None if evidence in (None, False, "") else str(evidence),
            )
        )
    return tuple(out)


def _debt(doc: _Reader) -> Debt:
    d = doc.child("debt") or _Reader({}, doc.at("debt"))
    dpd = d.get("days_past_due")
    if isinstance(dpd, float) and dpd.is_integer():
        dpd = int(dpd)
    if dpd is not None and (isinstance(dpd, bool) or not isinstance(dpd, int)):
        raise ContactDocumentError(f"{d.at('days_past_due')}: expected a whole number of days")
    return Debt(
        id=d.text("id"),
        days_past_due=dpd,
        principal_cny=d.amount("principal_cny"),
        amount_due_cny=d.amount("amount_due_cny"),
        amount_above_legal_cost_cap_cny=d.amount("amount_above_legal_cost_cap_cny"),
        balance_usd=d.amount("balance_usd"),
        creditor=d.text("creditor"),
        time_barred=d.flag("time_barred"),
    )


def _opt_outs(flags: _Reader) -> tuple[OptOut, ...]:
    out = []
    for o in flags.items("opted_out"):
        channel = o.text("channel", (*CHANNELS, "*", "all"))
        address = o.text("phone_id") or o.text("email_id") or "*"
        out.append(
            OptOut(
                channel="*" if channel in (None, "all") else channel,
                address_id=address,
                form=o.text("form"),
                at=o.moment("at"),
            )
        )
    return tuple(out)


def _hardship(flags: _Reader) -> Hardship:
    raw = flags.get("hardship")
    if raw is None or raw is False:
        return Hardship()
    if raw is True:
        return Hardship(declared=True)
    h = _Reader(raw, flags.at("hardship"))
    return Hardship(declared=True, plan_active=h.flag("plan_active"))


def _flags(doc: _Reader) -> Flags:
    f = doc.child("flags") or _Reader({}, doc.at("flags"))
    cease = f.child("cease_request")
    dispute = f.child("dispute")
    attorney = f.child("represented_by_attorney")
    agreed = f.child("debtor_agreed_contact_hours")
    unreachable = f.child("debtor_unreachable")
    consent = f.child("prior_consent_to_call")
    agreed_hours = None
    if agreed is not None:
        if agreed.get("from") is None:
            raise ContactDocumentError(f"{agreed.at('from')}: required (the agreed window's start)")
        start = _clock(agreed.get("from"), agreed.at("from")) or time(0)
        agreed_hours = AgreedHours(
            start=start,
            end=_clock(agreed.get("to", "24:00"), agreed.at("to")),
            initiated_by=agreed.text("initiated_by"),
            evidence=None if agreed.get("evidence") in (None, "", False) else str(agreed.get("evidence")),
            recorded_at=agreed.moment("recorded_at"),
        )
    call_consent = None
    if consent is not None:
        given_at = consent.moment("given_at")
        if given_at is None:
            raise ContactDocumentError(f"{consent.at('given_at')}: required (when the consent was given)")
        window = consent.get("for_window")
        call_consent = CallConsent(
            given_at=given_at,
            given_directly_to_collector=consent.maybe_flag("given_directly_to_collector"),
            for_window=None if window is None else str(window),
        )
    return Flags(
        cease_request=None
        if cease is None
        else CeaseRequest(request_form(cease), cease.moment("received_at"), cease.text("scope")),
        dispute=None
        if dispute is None
        else Dispute(
            form=request_form(dispute),
            received_at=dispute.moment("received_at"),
            subject=dispute.text("subject"),
            within_validation_period=dispute.maybe_flag("within_validation_period"),
            verification_sent_at=dispute.moment("verification_sent_at"),
            verification_completed_at=dispute.moment("verification_completed_at"),
        ),
        hardship=_hardship(f),
        represented_by_attorney=None
        if attorney is None
        else AttorneyRepresentation(
            attorney=attorney.text("attorney") or attorney.text("name"),
            notified_at=attorney.moment("notified_at"),
            name_and_address_known=attorney.maybe_flag("name_and_address_known"),
            attorney_failed_to_respond=attorney.flag("attorney_failed_to_respond"),
            attorney_consented_direct_contact=attorney.flag("attorney_consented_direct_contact"),
        ),
        employer_prohibits_contact=f.flag("employer_prohibits_contact"),
        opted_out=_opt_outs(f),
        debtor_agreed_contact_hours=agreed_hours,
        debtor_unreachable=None
        if unreachable is None
        else Unreachable(unreachable.text("status"), unreachable.text("basis"), unreachable.moment("since")),
        consumer_location_known=f.maybe_flag("consumer_location_known"),
        prior_consent_to_call=call_consent,
        complaint_hold=f.get("complaint_hold") not in (None, False),
    )


def _location(borrower: _Reader) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(US states, US area codes) the location evidence points to; other clues are kept out of the rules."""
    evidence = borrower.child("location_evidence")
    if evidence is None:
        return (), ()
    states = []
    for key in ("mailing_address_state", "state", "residence_state"):
        value = evidence.text(key)
        if value:
            states.append(value.upper())
    codes = []
    for key in ("phone_area_code", "area_code"):
        value = evidence.text(key)
        if value is None:
            continue
        if not (len(value) == 3 and value.isdigit()):
            raise ContactDocumentError(f"{evidence.at(key)}: expected a 3-digit area code, got {value!r}")
        codes.append(value)
    return tuple(states), tuple(codes)


def _zone(name: str | None, field: str) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ContactDocumentError(f"{field}: unknown IANA time zone {name!r}") from None
    return name


def parse_case(raw: Any, path: str = "") -> ContactCase:
    """A case document (``given`` minus ``now_local`` and ``prior_contacts``) as a ``ContactCase``."""
    doc = _Reader(raw, path)
    borrower = doc.child("borrower") or _Reader({}, doc.at("borrower"))
    candidates = borrower.strings("candidate_timezones")
    for i, name in enumerate(candidates):
        _zone(name, f"{borrower.at('candidate_timezones')}[{i}]")
    states, area_codes = _location(borrower)
    return ContactCase(
        timezone=_zone(borrower.text("timezone"), borrower.at("timezone")),
        candidate_timezones=candidates,
        location_states=states,
        location_area_codes=area_codes,
        phones=_phones(borrower),
        emails=_emails(borrower),
        contacts=_contacts(doc),
        debt=_debt(doc),
        flags=_flags(doc),
        collector_role=doc.text("collector_role", COLLECTOR_ROLES),
        first_communication_done=doc.flag("first_communication_done"),
        contract_fees=doc.strings("contract_fees"),
    )


# ---------------------------------------------------------------------------------------------- attempt


def parse_attempt(raw: Any, path: str = "") -> Attempt:
    """An attempt document (the scenario's ``when``, the staff API body) as an ``Attempt``."""
    doc = _Reader(raw, path)
    target = doc.child("target") or _Reader({"type": "borrower"}, doc.at("target"))
    message = doc.get("message")
    if message is not None and not isinstance(message, str):
        raise ContactDocumentError(f"{doc.at('message')}: expected text")
    return Attempt(
        action=doc.text("action", ACTIONS, default="contact") or "contact",
        channel=doc.text("channel", CHANNELS, default="call") or "call",
        target_type=target.text("type", TARGETS, default="borrower") or "borrower",
        contact_id=target.text("contact_id"),
        phone_id=doc.text("phone_id"),
        email_id=doc.text("email_id"),
        message=message or None,
        purpose=doc.text("purpose"),
        initiated_by=doc.text("initiated_by", INITIATORS),
        visibility=doc.text("visibility", VISIBILITY),
        demand_amount_cny=doc.amount("demand_amount_cny"),
        target_name=target.text("name"),
    )


def parse_prior_contact(raw: Any, path: str) -> PriorContact:
    doc = _Reader(raw, path)
    at = doc.moment("at")
    if at is None:
        raise ContactDocumentError(f"{doc.at('at')}: required (when the contact happened)")
    return PriorContact(
        at=at,
        target=doc.text("target", default="borrower") or "borrower",
        channel=doc.text("channel", CHANNELS, default="call") or "call",
        phone_id=doc.text("phone_id"),
        contact_id=doc.text("contact_id"),
        initiated_by=doc.text("initiated_by", INITIATORS, default="agent") or "agent",
        outcome=doc.text("outcome", OUTCOMES, default="") or "",
        note=doc.text("note"),
    )
