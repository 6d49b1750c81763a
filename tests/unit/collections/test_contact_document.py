"""Case and attempt documents: every field of SCENARIO_FORMAT.md read into typed values; anything not
understood names its field."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

import pytest

from xiaodai.collections.contact_document import (
    ContactDocumentError,
    parse_attempt,
    parse_case,
    parse_prior_contact,
)

GIVEN: dict[str, Any] = {
    "borrower": {
        "timezone": "America/New_York",
        "candidate_timezones": ["America/New_York", "America/Los_Angeles"],
        "location_evidence": {"phone_area_code": "212", "mailing_address_state": "ca"},
        "phones": [{"id": "H1", "type": "landline", "owner": "household", "shared_household": True}],
        "emails": [{"id": "E2", "address_type": "employer_provided", "source": "skip_trace"}],
    },
    "contacts": [
        {"id": "A1", "type": "other_third_party", "source": "device_address_book", "refused_contact": True}
    ],
    "debt": {
        "id": "L",
        "days_past_due": 3,
        "amount_due_cny": 1234.56,
        "amount_above_legal_cost_cap_cny": "100",
    },
    "collector_role": "creditor",
    "flags": {
        "cease_request": {"form": "written", "received_at": "2026-04-03T12:00:00-05:00"},
        "dispute": {"form": "written", "within_validation_period": True, "verification_sent_at": None},
        "hardship": {"plan_active": True},
        "represented_by_attorney": {"attorney": "Kim", "attorney_consented_direct_contact": True},
        "opted_out": [
            {"channel": "call", "phone_id": "*", "form": "oral", "at": "2026-04-06T10:03:00-05:00"}
        ],
        "debtor_agreed_contact_hours": {"from": "22:00", "to": "24:00", "initiated_by": "borrower"},
        "debtor_unreachable": {"status": "unreachable", "since": "2026-03-01T00:00:00+08:00"},
        "prior_consent_to_call": {
            "given_at": "2026-04-06T10:00:00-05:00",
            "given_directly_to_collector": True,
        },
        "consumer_location_known": False,
    },
}


def test_every_field_of_the_format_is_read() -> None:
    case = parse_case(GIVEN, "given")
    assert case.location_states == ("CA",)
    assert case.location_area_codes == ("212",)
    household = case.phone("H1")
    assert household is not None
    assert household.shared
    assert case.debt.amount_due_cny == Decimal("1234.56")
    assert case.debt.amount_above_legal_cost_cap_cny == Decimal("100")
    flags = case.flags
    assert flags.hardship.plan_active
    assert flags.consumer_location_known is False
    assert flags.debtor_agreed_contact_hours is not None
    assert flags.debtor_agreed_contact_hours.start == time(22)
    assert flags.debtor_agreed_contact_hours.end is None
    assert flags.opted_out[0].address_id == "*"
    assert flags.represented_by_attorney
    assert flags.represented_by_attorney.attorney_consented_direct_contact
    assert case.contacts[0].refused_contact
    attempt = parse_attempt(
        {
            "action": "contact",
            "channel": "social_media",
            "target": {"type": "borrower", "name": "John"},
            "visibility": "private_direct_message",
            "demand_amount_cny": "1134.56",
        },
        "when",
    )
    assert attempt.visibility == "private_direct_message"
    assert attempt.demand_amount_cny == Decimal("1134.56")


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"channel": "carrier_pigeon"}, "when.channel"),
        ({"action": "sue"}, "when.action"),
        ({"target": {"type": "landlord"}}, "when.target.type"),
        ({"visibility": "friends_only"}, "when.visibility"),
        ({"demand_amount_cny": "lots"}, "when.demand_amount_cny"),
    ],
)
def test_an_attempt_outside_the_vocabulary_names_its_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(ContactDocumentError, match=field.replace(".", r"\.")):
        parse_attempt(document, "when")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"borrower": {"timezone": "Mars/Olympus"}}, "given.borrower.timezone"),
        ({"borrower": {"phones": [{"id": "X", "owner": "landlord"}]}}, "given.borrower.phones[0].owner"),
        (
            {"flags": {"cease_request": {"received_at": "2026-04-03T12:00:00"}}},
            "given.flags.cease_request.received_at",
        ),
        ({"flags": {"employer_prohibits_contact": "yes"}}, "given.flags.employer_prohibits_contact"),
        ({"collector_role": "bailiff"}, "given.collector_role"),
        (
            {"borrower": {"location_evidence": {"phone_area_code": "21"}}},
            "given.borrower.location_evidence.phone_area_code",
        ),
        (
            {"flags": {"prior_consent_to_call": {"for_window": "7d"}}},
            "given.flags.prior_consent_to_call.given_at",
        ),
    ],
)
def test_a_case_outside_the_vocabulary_names_its_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ContactDocumentError, match=re_escape(field)):
        parse_case(given, "given")


def test_a_prior_contact_needs_its_time_and_a_known_outcome() -> None:
    ok = parse_prior_contact({"at": "2026-04-06T10:00:00-05:00", "outcome": "busy_signal"}, "p[0]")
    assert ok.at == datetime.fromisoformat("2026-04-06T10:00:00-05:00")
    assert ok.outcome == "busy_signal"
    with pytest.raises(ContactDocumentError, match=r"p\[0\]\.outcome"):
        parse_prior_contact({"at": "2026-04-06T10:00:00-05:00", "outcome": "hung_up_angrily"}, "p[0]")
    with pytest.raises(ContactDocumentError, match=r"p\[0\]\.at"):
        parse_prior_contact({"outcome": "no_answer"}, "p[0]")


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


@pytest.mark.parametrize(
    ("form", "read_as"),
    [
        ("written", "written"),
        ("app", "in_app"),
        ("Web form", "electronic"),
        ("fax", "written"),
        ("hotline", "oral"),
        ("carrier pigeon", None),  # open in the format: not known, never an error
    ],
)
def test_a_request_form_is_open_common_spellings_are_read_unknown_is_not_known(
    form: str, read_as: str | None
) -> None:
    flags = {
        "cease_request": {"form": form, "received_at": "2026-04-03T12:00:00-05:00"},
        "dispute": {"form": form, "received_at": "2026-04-03T12:00:00-05:00"},
    }
    case = parse_case({"flags": flags}, "given")
    assert case.flags.cease_request is not None
    assert case.flags.dispute is not None
    assert case.flags.cease_request.form == read_as
    assert case.flags.dispute.form == read_as
