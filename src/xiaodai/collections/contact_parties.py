"""Who hears the contact and what it says (pure): third parties, shared lines, limited-content voicemails,
amounts above the lawful cost cap, and the message screen.

Whether a text carries debt details has ONE test: the message screen's ``THIRD_PARTY_DEBT_DISCLOSURE``
category (``data/screen_terms.json``, tokenised: English whole words, Chinese terms with exclusions).

- CN third parties (互联网金融逾期债务催收自律公约 2018; GB/T 45251-2025; PIPL): never a contact whose details
  came from the device address book; only when the debtor is unreachable (失联); only to obtain contact
  details or pass on a message — no debt details, no demand for payment; stop at the first refusal; a
  spouse or relative may be asked to pay only when shown to be liable (``debt_related_evidence``).
- US third parties (12 CFR 1006.10, 1006.6(d)): location information only, once per person, never saying
  that the consumer owes a debt; the spouse is a consumer (1006.6(a)); the consumer's attorney is not a third
  party (1006.6(d)(1)(i)).
- Shared household lines: a voicemail or text there may carry only limited content; debt details there are a
  disclosure to whoever else answers (THIRD_PARTY_DISCLOSURE_RISK).
- US limited-content message (1006.2(j)): a voicemail with no debt details is not a communication, so it
  needs no debt-collector disclosure (it still counts toward 7-in-7: ``contact_frequency``).
- CN: demanding more than the lawful amount (the part pricing flags as above the cost cap) is blocked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from xiaodai.collections.contact_facts import Attempt, ContactCase, PriorContact, ThirdParty
from xiaodai.collections.content_screen import ScreenContext, normalise, screen_message

if TYPE_CHECKING:
    from xiaodai.collections.contact_policy import Profile

DISCLOSURE: Final = "THIRD_PARTY_DEBT_DISCLOSURE"
DEMAND: Final = "THIRD_PARTY_COLLECTION_DEMAND"
OBLIGOR_TARGETS: Final = frozenset({"borrower", "consumer", "co_borrower", "guarantor"})
NOT_COLLECTION_PURPOSES: Final = frozenset(
    {"hardship_offer", "plan_confirmation", "complaint_update", "payment_receipt"}
)
_CNY: Final = re.compile(
    r"(?:[¥￥]|\b(?:cny|rmb))\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?(万)?\s?(?:元|块)"
)
_WORD_CACHE: dict[str, re.Pattern[str]] = {}


@dataclass(frozen=True)
class Parties:
    source: list[str]  # the contact's source is unlawful
    blocked: list[str]  # third-party, shared-line, cost-cap and content reasons
    notes: list[str]  # reasons an allowed attempt carries


def _profile_name(profile: Profile) -> str:
    return profile.name if profile.name in ("CN", "US_RegF") else ("US_RegF" if profile.us else "CN")


@lru_cache(maxsize=8192)
def _screen(message: str, profile_name: str, context: ScreenContext) -> tuple[str, ...]:
    """Message screening is pure, so a campaign's repeated template texts are screened once."""
    return tuple(screen_message(message, profile=profile_name, context=context).reasons)


def _as_heard_by_a_third_party(profile: Profile, case: ContactCase, attempt: Attempt) -> tuple[str, ...]:
    if not attempt.message:
        return ()
    context = ScreenContext(channel=attempt.channel, target_type="other_third_party")
    return _screen(attempt.message, _profile_name(profile), context)


def _mentions(terms: Sequence[str], text: str) -> bool:
    """Chinese terms as written; English terms as whole words."""
    for term in terms:
        if term.isascii():
            rx = _WORD_CACHE.get(term)
            if rx is None:
                rx = _WORD_CACHE[term] = re.compile(r"\b" + re.escape(term) + r"\b")
            if rx.search(text):
                return True
        elif term in text:
            return True
    return False


def _refused(
    profile: Profile,
    contact: ThirdParty | None,
    history: Sequence[PriorContact],
    attempt: Attempt,
    as_of: datetime,
) -> bool:
    if contact is not None:
        # a refusal with a time is on file from that time (as a cease or an opt-out is); without one, the flag
        if contact.refused_at is not None:
            if contact.refused_at <= as_of:
                return True
        elif contact.refused_contact:
            return True
    terms = profile.section("third_party").get("refusal_note_terms", ())
    if attempt.contact_id is None:  # history is matched by the contact's id
        return False
    for c in history:
        if c.contact_id != attempt.contact_id or c.at > as_of:
            continue
        if c.outcome == "refused" or (c.note and _mentions(terms, normalise(c.note))):
            return True
    return False


def _unreachable(profile: Profile, case: ContactCase, as_of: datetime) -> bool:
    lost = case.flags.debtor_unreachable
    if lost is None or (lost.since is not None and lost.since > as_of):
        return False
    return lost.status not in profile.section("third_party").get("reachable_statuses", ())


def _is_spouse(attempt: Attempt, contact: ThirdParty | None) -> bool:
    return attempt.target_type == "spouse" or (
        contact is not None and (contact.type == "spouse" or contact.relationship == "spouse")
    )


def _third_party(
    profile: Profile,
    case: ContactCase,
    history: Sequence[PriorContact],
    attempt: Attempt,
    *,
    as_of: datetime,
    heard: tuple[str, ...],
) -> tuple[str, list[str], list[str]]:
    """(the target the message screen should assume, blocked reasons, allowed notes)."""
    target = attempt.target_type
    if target in OBLIGOR_TARGETS or target in ("attorney", "public"):
        return target, [], []  # obligors; the attorney (not a third party); public: PUBLIC_POSTING decides
    rules = profile.section("third_party")
    contact = case.contact(attempt.contact_id)
    if profile.us and rules.get("spouse_is_consumer") and _is_spouse(attempt, contact):
        return "spouse", [], ["ALLOWED_SPOUSE_IS_CONSUMER"]
    out: list[str] = []
    if rules.get("stop_on_refusal") and _refused(profile, contact, history, attempt, as_of):
        out.append("THIRD_PARTY_REFUSED")
    if profile.us:
        if case.flags.consumer_location_known:
            out.append("THIRD_PARTY_NOT_PERMITTED")  # 1006.10: location information is the only purpose
        spoken = set(rules.get("communication_outcomes", ()))
        if rules.get("location_once_per_person") and any(
            c.contact_id == attempt.contact_id and c.at <= as_of and c.outcome in spoken
            for c in history
            if attempt.contact_id is not None
        ):
            out.append("THIRD_PARTY_REPEAT_LOCATION")  # 1006.10(c)
        return target, out, ["ALLOWED_LOCATION_INQUIRY"]
    if contact is not None and contact.debt_related_evidence:
        return "co_borrower", out, []  # shown to be liable for the debt: an obligor
    demand = (
        attempt.purpose in rules.get("demand_purposes", ())
        or attempt.demand_amount_cny is not None
        or DEMAND in heard
    )
    family = _is_spouse(attempt, contact) or (
        contact is not None and contact.relationship in rules.get("family_relationships", ())
    )
    if rules.get("family_needs_debt_related_evidence") and family and (demand or DISCLOSURE in heard):
        out.append("THIRD_PARTY_NOT_DEBT_RELATED")
    if demand:
        out.append(DEMAND)
    if rules.get("requires_debtor_unreachable") and not _unreachable(profile, case, as_of):
        out.append("THIRD_PARTY_DEBTOR_REACHABLE")
    return target, out, ["ALLOWED_THIRD_PARTY_LOCATION"]


def _cny_amounts(message: str | None) -> list[Decimal]:
    if not message:
        return []
    out = []
    for m in _CNY.finditer(normalise(message)):
        digits = (m.group(1) or m.group(2)).replace(",", "")
        value = Decimal(digits)
        out.append(value * 10000 if m.group(3) else value)
    return out


def _excess_cost(profile: Profile, case: ContactCase, attempt: Attempt) -> list[str]:
    """CN: a demand above the lawful amount (what is due minus the part above the cost cap)."""
    above = case.debt.amount_above_legal_cost_cap_cny
    if not profile.raw.get("excess_cost_rule") or above is None or above <= 0:
        return []
    if attempt.purpose in NOT_COLLECTION_PURPOSES:
        return []
    due = case.debt.amount_due_cny
    lawful = None if due is None else due - above
    demanded = attempt.demand_amount_cny
    if demanded is not None:
        return ["EXCESS_COST_COLLECTION"] if lawful is None or demanded > lawful else []
    principal = case.debt.principal_cny  # the loan's size is a fact, not a demand
    if lawful is not None and any(a > lawful and a != principal for a in _cny_amounts(attempt.message)):
        return ["EXCESS_COST_COLLECTION"]
    if attempt.purpose in profile.section("third_party").get("demand_purposes", ()):
        return ["EXCESS_COST_COLLECTION"]  # the booked debt, its above-cap part included
    return []


def judge_parties(
    profile: Profile, case: ContactCase, history: Sequence[PriorContact], attempt: Attempt, as_of: datetime
) -> Parties:
    if attempt.to_borrower and attempt.message is None:  # the common case: a call to the debtor
        limited = (
            attempt.purpose == "limited_content_message"
            and attempt.action != "answer_inbound"
            and attempt.channel in profile.listed("limited_content_channels")
        )
        return Parties(
            [], _excess_cost(profile, case, attempt), ["ALLOWED_LIMITED_CONTENT"] if limited else []
        )
    source: list[str] = []
    if not attempt.to_borrower:
        contact = case.contact(attempt.contact_id)
        unlawful = profile.section("third_party").get("unlawful_sources", ())
        if contact is not None and contact.source in unlawful:
            source.append("CONTACT_SOURCE_UNLAWFUL")
    # how the text reads to someone other than the debtor: needed for third parties and for media that
    # others may hear (skipped otherwise: a campaign's SMS to the borrower's own mobile is screened once)
    phone = case.phone(attempt.phone_id)
    needed = (
        attempt.target_type not in OBLIGOR_TARGETS
        or attempt.channel in profile.listed("limited_content_channels")
        or (phone is not None and phone.shared and attempt.channel in profile.listed("shared_line_channels"))
    )
    heard = _as_heard_by_a_third_party(profile, case, attempt) if needed else ()
    screen_target, blocked, notes = _third_party(profile, case, history, attempt, as_of=as_of, heard=heard)
    debt_details = DISCLOSURE in heard
    purpose = None if attempt.purpose == "limited_content_message" else attempt.purpose
    if attempt.to_borrower and attempt.action != "answer_inbound":
        limited = attempt.channel in profile.listed("limited_content_channels") and (
            (attempt.message is not None and not debt_details)
            or (attempt.message is None and attempt.purpose == "limited_content_message")
        )
        if limited:
            notes = ["ALLOWED_LIMITED_CONTENT"]
            purpose = "limited_content_message"
        if (
            phone is not None
            and phone.shared
            and debt_details
            and attempt.channel in profile.listed("shared_line_channels")
        ):
            blocked.append("THIRD_PARTY_DISCLOSURE_RISK")
    blocked += _excess_cost(profile, case, attempt)
    if attempt.message:
        context = ScreenContext(
            channel=attempt.channel,
            target_type=screen_target,
            collector_role=case.collector_role,
            first_communication_done=case.first_communication_done,
            time_barred=case.debt.time_barred,
            contract_fees=case.contract_fees,
            purpose=purpose,
        )
        blocked += [r for r in _screen(attempt.message, _profile_name(profile), context) if r not in blocked]
    return Parties(source, blocked, notes)
