"""Builders for the contact-rule tests: typed cases, attempts and prior contacts in a few words."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.collections.contact_facts import (
    Attempt,
    ContactCase,
    Debt,
    Email,
    Flags,
    Phone,
    PriorContact,
    ThirdParty,
)
from xiaodai.collections.contact_policy import Verdict, evaluate, load_profile

CN = load_profile("CN")
US = load_profile("US_RegF")
SH = ZoneInfo("Asia/Shanghai")
CHI = ZoneInfo("America/Chicago")
DC = "ABC Lending Services, a debt collector."
STOP = " Reply STOP to opt out."


def us_case(**changes: Any) -> ContactCase:
    flags = changes.pop("flags", {})
    base = ContactCase(
        timezone="America/Chicago",
        candidate_timezones=("America/Chicago",),
        phones=(
            Phone("P1", "mobile", "consumer"),
            Phone("P2", "mobile", "consumer"),
            Phone("W1", "work", "consumer_workplace"),
            Phone("H1", "landline", "household", shared_household=True),
        ),
        emails=(Email("E1", "personal", "consumer_provided"),),
        contacts=(
            ThirdParty("N1", "other_third_party", "neighbor"),
            ThirdParty("S1", "spouse", "spouse"),
            ThirdParty("L1", "attorney", "attorney"),
        ),
        debt=Debt("US-1", 60, balance_usd=None, creditor="ABC Lending"),
        flags=Flags(**{"consumer_location_known": True, **flags}),
        collector_role="third_party_debt_collector",
        first_communication_done=True,
    )
    return replace(base, **changes)


def cn_case(**changes: Any) -> ContactCase:
    flags = changes.pop("flags", {})
    base = ContactCase(
        timezone="Asia/Shanghai",
        phones=(
            Phone("M1", "mobile", "borrower"),
            Phone("H1", "landline", "household", shared_household=True),
        ),
        contacts=(
            ThirdParty("E1", "emergency_contact", "friend", "borrower_provided_at_application"),
            ThirdParty("A1", "other_third_party", "colleague", "device_address_book"),
            ThirdParty("S1", "spouse", "spouse", "borrower_provided_at_application"),
        ),
        debt=Debt("CN-1", 12),
        flags=Flags(**flags),
    )
    return replace(base, **changes)


def call(phone: str = "P1", **kw: Any) -> Attempt:
    return Attempt("contact", kw.pop("channel", "call"), phone_id=phone, **kw)


def to(target: str, contact_id: str | None = None, channel: str = "call", **kw: Any) -> Attempt:
    return Attempt("contact", channel, target_type=target, contact_id=contact_id, **kw)


def prior(
    at: datetime, outcome: str = "no_answer", *, phone: str | None = "P1", target: str = "consumer", **kw: Any
) -> PriorContact:
    return PriorContact(
        at,
        target,
        kw.pop("channel", "call"),
        phone,
        kw.pop("contact_id", None),
        kw.pop("initiated_by", "agent"),
        outcome,
        kw.pop("note", None),
    )


def us(
    case: ContactCase, attempt: Attempt, at: datetime, history: list[PriorContact] | None = None
) -> Verdict:
    return evaluate(US, case, history or [], attempt, at)


def cn(
    case: ContactCase, attempt: Attempt, at: datetime, history: list[PriorContact] | None = None
) -> Verdict:
    return evaluate(CN, case, history or [], attempt, at)
