"""The data_protection suite through the runner: the product's own policy, no default it would refuse."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from xiaodai.conformance.runner import run_document, run_scenario

ID_NUMBER = "11010519491231002X"
CARD = "6222020200112243445"  # 19 digits, Luhn-valid
MOBILE = "13812345678"
WHY = "borrower called disputing a failed repayment"
RECORD = {"account": "A-1", "name": "张三", "id_number": ID_NUMBER, "bank_card": CARD, "mobile": MOBILE}


def scenario(given: dict[str, Any], when: dict[str, Any]) -> dict[str, Any]:
    return {"id": "T", "profile": "CN", "suite": "data_protection", "given": given, "when": when}


def view(role: Any, assigned: list[str] | None, action: str = "view_profile", **when: Any) -> dict[str, Any]:
    viewer: dict[str, Any] = {"role": role}
    if assigned is not None:
        viewer["assigned_accounts"] = assigned
    given = {"viewer": viewer, "record": copy.deepcopy(RECORD)}
    return run_scenario(scenario(given, {"action": action, "account": "A-1", **when})).line


# --- view_profile ---


def test_view_profile_shows_the_product_masks_with_the_length_kept() -> None:
    line = view("collector", ["A-0", "A-1"])
    assert (line["decision"], line["reason"], line["reasons"]) == (
        "allow",
        "ALLOWED_MASKED",
        ["ALLOWED_MASKED"],
    )
    assert line["display"] == {
        "name": "张*",
        "id_number": "1101**********002X",
        "bank_card": "622202*********3445",
        "mobile": "138****5678",
    }
    assert len(line["display"]["id_number"]) == len(ID_NUMBER)
    assert len(line["display"]["bank_card"]) == len(CARD)


@pytest.mark.parametrize(
    ("role", "assigned", "reason"),
    [
        ("collector", ["A-2"], "ACCESS_NOT_ASSIGNED"),
        ("collector", None, "ACCESS_NOT_ASSIGNED"),  # no assignment shown: none
        ("collector", [], "ACCESS_NOT_ASSIGNED"),
        ("risk", None, "NEED_TO_KNOW"),
        ("risk_analyst", None, "NEED_TO_KNOW"),
        ("marketing", None, "NEED_TO_KNOW"),  # a role the product does not know sees no one
        (None, None, "NEED_TO_KNOW"),
    ],
)
def test_view_profile_refused(role: str | None, assigned: list[str] | None, reason: str) -> None:
    line = view(role, assigned)
    assert (line["decision"], line["reason"]) == ("block", reason)
    assert "display" not in line


@pytest.mark.parametrize("role", ["underwriter", "auditor", "complaint_officer", ["collector", "auditor"]])
def test_view_profile_for_roles_that_see_any_borrower_masked(role: Any) -> None:
    line = view(role, None)
    assert (line["decision"], line["reason"]) == ("allow", "ALLOWED_MASKED")
    assert MOBILE not in str(line["display"])


# --- view_unmasked ---


def test_unmasking_the_phone_of_an_assigned_account_with_a_real_reason() -> None:
    line = view("collector", ["A-1"], "view_unmasked", field="mobile", justification=WHY)
    assert (line["decision"], line["reason"]) == ("allow", "ALLOWED")
    assert line["display"]["mobile"] == MOBILE
    assert line["display"]["id_number"] == "1101**********002X"  # only what was asked for


@pytest.mark.parametrize("justification", [None, "", "xxxxxxxxxx", "test", "n/a", "1111111111", "核实"])
def test_no_default_justification_a_missing_or_placeholder_one_is_refused(justification: str | None) -> None:
    when = {} if justification is None else {"justification": justification}
    line = view("collector", ["A-1"], "view_unmasked", field="mobile", **when)
    assert (line["decision"], line["reason"]) == ("block", "JUSTIFICATION_REQUIRED")
    assert "display" not in line


@pytest.mark.parametrize(
    ("role", "assigned", "field", "reason"),
    [
        ("collector", ["A-1"], "id_number", "NEED_TO_KNOW"),
        ("collector", ["A-1"], "bank_card", "NEED_TO_KNOW"),
        ("collector", ["A-9"], "mobile", "ACCESS_NOT_ASSIGNED"),
        ("auditor", None, "mobile", "NEED_TO_KNOW"),
        ("complaint_officer", None, "id_number", "NEED_TO_KNOW"),
        ("underwriter", None, "email", "UNKNOWN_FIELD"),
    ],
)
def test_unmasking_refused_whatever_the_justification(
    role: str, assigned: list[str] | None, field: str, reason: str
) -> None:
    line = view(role, assigned, "view_unmasked", field=field, justification=WHY)
    assert (line["decision"], line["reason"]) == ("block", reason)


@pytest.mark.parametrize(("role", "field"), [("underwriter", "id_number"), ("underwriter", "bank_card")])
def test_underwriter_unmasks_identity_fields(role: str, field: str) -> None:
    line = view(
        role, None, "view_unmasked", field=field, justification="identity check for application review"
    )
    assert (line["decision"], line["display"][field]) == ("allow", RECORD[field])


def test_break_glass_still_needs_a_real_reason() -> None:
    glass = view("auditor", None, "view_unmasked", field="id_number", justification=WHY, break_glass=True)
    assert (glass["decision"], glass["reason"]) == ("allow", "BREAK_GLASS")
    empty = view("auditor", None, "view_unmasked", field="id_number", justification="test", break_glass=True)
    assert (empty["decision"], empty["reason"]) == ("block", "JUSTIFICATION_REQUIRED")


# --- write_log ---


@pytest.mark.parametrize(
    "line",
    [
        f"repay failed for {MOBILE}",
        f"kyc id={ID_NUMBER}",
        f"card {CARD} declined",
        "mail to li.si@example.com",
    ],
)
def test_a_log_line_with_raw_identifiers_is_refused_and_the_redacted_line_given(line: str) -> None:
    given = {"log_event": {"service": "repayments", "level": "INFO", "line": line}}
    out = run_scenario(scenario(given, {"action": "write_log"})).line
    assert (out["decision"], out["reason"]) == ("block", "LOG_PII_UNMASKED")
    for raw in (MOBILE, ID_NUMBER, CARD, "li.si@example.com"):
        assert raw not in out["written"]


def test_a_log_line_with_masked_values_is_written() -> None:
    line = "repay failed for 138****5678 card 622202*********3445 loan 123456"
    out = run_scenario(scenario({"log_event": {"line": line}}, {"action": "write_log"})).line
    assert (out["decision"], out["reason"], out["written"]) == ("allow", "ALLOWED", line)


# --- export_accounts_to_agency ---

AGENCY = {
    "id": "AG-9",
    "name": "某某",
    "on_whitelist": True,
    "entrustment_contract_id": "EC-1",
    "pia_id": "PIA-1",
}


def export(agency: dict[str, Any], fields: list[str], **given: Any) -> dict[str, Any]:
    when = {"action": "export_accounts_to_agency", "fields": fields}
    return run_scenario(scenario({"agency": agency, **given}, when)).line


@pytest.mark.parametrize(
    ("agency", "fields", "given", "reason"),
    [
        (AGENCY, ["name", "mobile", "amount_due", "days_past_due"], {}, "ALLOWED"),
        (AGENCY, ["name", "phone", "account"], {}, "ALLOWED"),  # the format's names for the product's fields
        ({**AGENCY, "on_whitelist": False}, ["name"], {}, "AGENCY_NOT_WHITELISTED"),
        ({**AGENCY, "entrustment_contract_id": None}, ["name"], {}, "ENTRUSTMENT_CONTRACT_MISSING"),
        ({**AGENCY, "pia_id": None}, ["name"], {}, "ENTRUSTMENT_CONTRACT_MISSING"),
        (AGENCY, ["name", "emergency_contacts"], {}, "EXPORT_FIELDS_EXCESSIVE"),
        (
            AGENCY,
            ["name", "emergency_contacts"],
            {"flags": {"debtor_unreachable": {"status": "失联"}}},
            "ALLOWED",
        ),
        (AGENCY, ["name", "id_number"], {}, "EXPORT_FIELDS_EXCESSIVE"),
        (AGENCY, ["name"], {"consents": {"agency_sharing": False}}, "CONSENT_WITHDRAWN"),
        (AGENCY, ["name"], {"consents": {"agency_sharing": "withdrawn"}}, "CONSENT_WITHDRAWN"),
    ],
)
def test_export_to_agency(
    agency: dict[str, Any], fields: list[str], given: dict[str, Any], reason: str
) -> None:
    line = export(agency, fields, **given)
    assert (line["decision"], line["reason"]) == ("allow" if reason == "ALLOWED" else "block", reason)


# --- request_permission ---


@pytest.mark.parametrize(
    ("permission", "flow", "purpose", "reason"),
    [
        ("READ_CONTACTS", "loan_application", "risk_control_and_collections", "CONTACTS_HARVEST"),
        ("READ_CALL_LOG", "loan_application", "anti-fraud", "CONTACTS_HARVEST"),
        ("CAMERA", "identity_verification", "photograph the ID card", "ALLOWED"),
        ("CAMERA", "identity_verification", None, "PERMISSION_PURPOSE_MISSING"),
        ("CAMERA", "repayment", "photograph the ID card", "PERMISSION_NOT_NECESSARY"),
        ("ACCESS_FINE_LOCATION", "loan_application", "anti-fraud", "PERMISSION_NOT_NECESSARY"),
    ],
)
def test_request_permission(permission: str, flow: str, purpose: str | None, reason: str) -> None:
    when = {"action": "request_permission", "permission": permission, "purpose": purpose}
    line = run_scenario(scenario({"app": {"platform": "android", "flow": flow}}, when)).line
    assert line["reason"] == reason
    assert line["decision"] == ("allow" if reason == "ALLOWED" else "block")


# --- what the product cannot take is an error line, not a guess ---


@pytest.mark.parametrize(
    ("given", "when", "reason"),
    [
        ({"viewer": {"role": "collector"}}, {"action": "view_unmasked"}, "missing required fact when.field"),
        ({}, {"action": "view_profile"}, "missing required fact given.viewer"),
        (
            {"viewer": {"role": "underwriter"}, "record": {"mobile": ["138"]}},
            {"action": "view_profile"},
            "given.record.mobile must be text, not list",
        ),
        (
            {"viewer": {"role": "underwriter"}, "record": {"account": "A-1"}},
            {"action": "view_profile", "account": "A-2"},
            "when.account 'A-2' is not the account of given.record ('A-1')",
        ),
        (
            {"agency": {**AGENCY, "on_whitelist": "yes"}},
            {"action": "export_accounts_to_agency"},
            "given.agency.on",
        ),
        ({}, {"action": "export_accounts_to_agency"}, "missing required fact given.agency"),
        (
            {"log_event": {"service": "x"}},
            {"action": "write_log"},
            "missing required fact given.log_event.line",
        ),
        (
            {"viewer": {"role": "underwriter", "assigned_accounts": "A-1"}},
            {"action": "view_profile"},
            "given.viewer",
        ),
    ],
)
def test_facts_the_product_cannot_take_are_error_lines(
    given: dict[str, Any], when: dict[str, Any], reason: str
) -> None:
    line = run_scenario(scenario(given, when)).line
    assert line["decision"] == "error"
    assert line["reason"].startswith(reason), line["reason"]


def test_an_expected_display_is_checked_field_by_field() -> None:
    given = {"viewer": {"role": "underwriter"}, "record": copy.deepcopy(RECORD)}
    right = {"decision": "allow", "display": {"id_number": "1101**********002X", "mobile": "138****5678"}}
    wrong = {"decision": "allow", "display": {"id_number": "110105********002X"}}
    for expect, passed in ((right, True), (wrong, False)):
        outcome = run_scenario({**scenario(given, {"action": "view_profile"}), "expect": expect})
        assert outcome.passed is passed


DEV_VOCABULARY = {"ALLOWED": "", "ALLOWED_MASKED": "", "NEED_TO_KNOW": "", "ENTRUSTMENT_CONTRACT_MISSING": ""}


def test_the_reason_is_given_in_the_files_vocabulary_and_the_products_code_kept() -> None:
    given = {"viewer": {"role": "collector", "assigned_accounts": ["A-1"]}, "record": copy.deepcopy(RECORD)}
    placeholder = scenario(
        given, {"action": "view_unmasked", "field": "mobile", "justification": "xxxxxxxxxx"}
    )
    withdrawn = scenario(
        {"agency": AGENCY, "consents": {"agency_sharing": False}},
        {"action": "export_accounts_to_agency", "fields": ["name"]},
    )
    excessive = scenario({"agency": AGENCY}, {"action": "export_accounts_to_agency", "fields": ["id_number"]})
    lines = [
        o.line
        for o in run_document(
            {"reason_codes": DEV_VOCABULARY, "scenarios": [placeholder, withdrawn, excessive]}
        )
    ]
    assert [(line["reason"], line["reasons"]) for line in lines] == [
        ("NEED_TO_KNOW", ["NEED_TO_KNOW", "JUSTIFICATION_REQUIRED"]),
        ("CONSENT_WITHDRAWN", ["CONSENT_WITHDRAWN"]),  # no vocabulary code says this rule
        ("NEED_TO_KNOW", ["NEED_TO_KNOW", "EXPORT_FIELDS_EXCESSIVE"]),
    ]
    assert all(line["decision"] == "block" for line in lines)
    own = run_document(
        {"reason_codes": [*DEV_VOCABULARY, "JUSTIFICATION_REQUIRED"], "scenarios": [placeholder]}
    )
    assert own[0].line["reason"] == "JUSTIFICATION_REQUIRED"  # the file knows the finer code
    bare = run_document({"scenarios": [placeholder]})
    assert bare[0].line["reason"] == "JUSTIFICATION_REQUIRED"  # no vocabulary: the product's code


def test_a_record_field_the_product_does_not_hold_is_never_shown() -> None:
    record = {**RECORD, "email": "zhang@example.com", "salary": "9000"}
    given = {"viewer": {"role": "underwriter"}, "record": record}
    line = run_scenario(scenario(given, {"action": "view_profile"})).line
    assert (line["decision"], line["reason"]) == ("allow", "ALLOWED_MASKED")
    assert set(line["display"]) == {"name", "id_number", "bank_card", "mobile"}
    assert line["not_held"] == ["email", "salary"]
