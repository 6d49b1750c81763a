"""The typed data-protection policy: app permissions, agency exports, log lines (both sides of each rule)."""

from __future__ import annotations

import pytest

from xiaodai.privacy.policy import (
    COLLECTION_FIELDS,
    Agency,
    AgencyExport,
    PermissionRequest,
    decide_agency_export,
    decide_log_line,
    decide_permission,
    permission_name,
)

ID_NUMBER = "11010519491231002X"
CARD = "6222021234567890128"
PHONE = "13812345678"
GOOD_AGENCY = Agency(id="AG-1", on_whitelist=True, entrustment_contract_id="EC-1", pia_id="PIA-1")


# --- permissions ---


@pytest.mark.parametrize(
    "permission",
    [
        "READ_CONTACTS",
        "android.permission.READ_CONTACTS",
        "contacts",
        "READ_CALL_LOG",
        "READ_SMS",
        "GET_ACCOUNTS",
    ],
)
def test_the_contact_graph_is_never_requested_whatever_the_purpose(permission: str) -> None:
    verdict = decide_permission(
        PermissionRequest(permission, flow="loan_application", purpose="risk control")
    )
    assert (verdict.decision, verdict.reason) == ("block", "CONTACTS_HARVEST")


def test_camera_is_necessary_at_identity_verification_only_and_with_a_purpose() -> None:
    at_kyc = decide_permission(
        PermissionRequest("CAMERA", flow="identity_verification", purpose="ID card photo")
    )
    assert (at_kyc.decision, at_kyc.reason) == ("allow", "ALLOWED")
    no_purpose = decide_permission(PermissionRequest("CAMERA", flow="identity_verification", purpose="  "))
    assert no_purpose.reasons == ("PERMISSION_PURPOSE_MISSING",)
    at_home = decide_permission(PermissionRequest("camera", flow="home", purpose="ID card photo"))
    assert at_home.reasons == ("PERMISSION_NOT_NECESSARY",)
    unknown_flow = decide_permission(PermissionRequest("CAMERA", flow=None, purpose="ID card photo"))
    assert unknown_flow.reason == "PERMISSION_NOT_NECESSARY"


@pytest.mark.parametrize(
    "permission", ["READ_MEDIA_IMAGES", "photos", "ACCESS_FINE_LOCATION", "RECORD_AUDIO", "READ_PHONE_STATE"]
)
def test_other_personal_information_is_not_necessary_for_a_loan(permission: str) -> None:
    verdict = decide_permission(PermissionRequest(permission, flow="loan_application", purpose="anti-fraud"))
    assert (verdict.decision, verdict.reason) == ("block", "PERMISSION_NOT_NECESSARY")


def test_ordinary_permissions_need_no_purpose() -> None:
    assert decide_permission(PermissionRequest("POST_NOTIFICATIONS")).allowed
    assert decide_permission(PermissionRequest("android.permission.INTERNET")).allowed


def test_permission_names_are_one_name_across_platforms() -> None:
    assert permission_name("android.permission.read_contacts") == "READ_CONTACTS"
    assert permission_name("NSContactsUsageDescription") == "READ_CONTACTS"
    assert permission_name("NSCameraUsageDescription") == "CAMERA"


# --- agency exports ---


def test_export_to_a_complete_agency_with_the_necessary_fields_is_allowed() -> None:
    verdict = decide_agency_export(GOOD_AGENCY, AgencyExport(fields=tuple(sorted(COLLECTION_FIELDS))))
    assert (verdict.decision, verdict.reason) == ("allow", "ALLOWED")


@pytest.mark.parametrize(
    ("agency", "reasons"),
    [
        (Agency("AG", False, "EC", "PIA"), ("AGENCY_NOT_WHITELISTED",)),
        (Agency("AG", True, None, "PIA"), ("ENTRUSTMENT_CONTRACT_MISSING",)),
        (Agency("AG", True, "EC", None), ("ENTRUSTMENT_CONTRACT_MISSING", "PIA_MISSING")),
        (Agency("AG", True, None, None), ("ENTRUSTMENT_CONTRACT_MISSING", "PIA_MISSING")),
        (Agency("AG", True, "", "PIA"), ("ENTRUSTMENT_CONTRACT_MISSING",)),
        (
            Agency(None, False, None, None),
            ("AGENCY_NOT_WHITELISTED", "ENTRUSTMENT_CONTRACT_MISSING", "PIA_MISSING"),
        ),
    ],
)
def test_export_needs_whitelist_contract_and_impact_assessment(
    agency: Agency, reasons: tuple[str, ...]
) -> None:
    verdict = decide_agency_export(agency, AgencyExport(fields=("name", "mobile", "amount_due")))
    assert (verdict.decision, verdict.reasons) == ("block", reasons)


@pytest.mark.parametrize("field", ["id_number", "bank_card", "address", "emergency_contacts", "salary"])
def test_only_the_fields_collection_needs(field: str) -> None:
    verdict = decide_agency_export(GOOD_AGENCY, AgencyExport(fields=("name", "mobile", field)))
    assert (verdict.decision, verdict.reason) == ("block", "EXPORT_FIELDS_EXCESSIVE")


def test_emergency_contacts_only_when_the_borrower_is_unreachable() -> None:
    fields = ("name", "amount_due", "emergency_contacts")
    assert not decide_agency_export(GOOD_AGENCY, AgencyExport(fields=fields)).allowed
    assert decide_agency_export(GOOD_AGENCY, AgencyExport(fields=fields, borrower_unreachable=True)).allowed
    with_id = AgencyExport(fields=(*fields, "id_number"), borrower_unreachable=True)
    assert decide_agency_export(GOOD_AGENCY, with_id).reason == "EXPORT_FIELDS_EXCESSIVE"


def test_consent_withdrawn_and_purpose() -> None:
    fields = ("name", "amount_due")
    withdrawn = decide_agency_export(GOOD_AGENCY, AgencyExport(fields=fields, agency_sharing_consent=False))
    assert withdrawn.reasons == ("CONSENT_WITHDRAWN",)
    for consent in (True, None):
        assert decide_agency_export(
            GOOD_AGENCY, AgencyExport(fields=fields, agency_sharing_consent=consent)
        ).allowed
    marketing = decide_agency_export(GOOD_AGENCY, AgencyExport(fields=fields, purpose="marketing"))
    assert marketing.reasons == ("EXPORT_PURPOSE_UNRELATED",)
    assert decide_agency_export(GOOD_AGENCY, AgencyExport(fields=fields, purpose="委外催收")).allowed
    assert decide_agency_export(GOOD_AGENCY, AgencyExport(fields=fields, purpose="debt_collection")).allowed


# --- log lines ---


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        (f"repay failed for {PHONE}", ("PHONE",)),
        (f"kyc ok id={ID_NUMBER}", ("ID",)),
        (f"debit card {CARD} declined", ("CARD",)),
        ("reset link sent to zhang.san@example.com", ("EMAIL",)),
        (f"id {ID_NUMBER} phone +86 138-1234-5678", ("ID", "PHONE")),
        ("applicant 110101199003071234 (check digit wrong)", ("ID",)),
    ],
)
def test_a_line_with_raw_identifiers_is_not_written_as_it_is(line: str, kinds: tuple[str, ...]) -> None:
    answer = decide_log_line(line)
    assert (answer.verdict.decision, answer.verdict.reason) == ("block", "LOG_PII_UNMASKED")
    assert answer.identifiers == kinds
    for raw in (PHONE, ID_NUMBER, CARD, "zhang.san@example.com", "138-1234-5678"):
        assert raw not in answer.written


@pytest.mark.parametrize(
    "line",
    [
        "repay failed for [PHONE#1a2b3c4d]",
        "shown 1101**********002X and 622202*********0128 and 138****5678",
        "loan 123456 amount 902.58 on 2026-11-29",
        "order 4111111111111112 (not Luhn-valid)",
        "batch 202611291234560001 (no birth date in it)",
    ],
)
def test_a_line_without_raw_identifiers_is_written(line: str) -> None:
    answer = decide_log_line(line)
    assert (answer.verdict.decision, answer.verdict.reason, answer.written) == ("allow", "ALLOWED", line)
