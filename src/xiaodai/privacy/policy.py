"""Data-protection decisions (pure): what the platform may collect and share.

PIPL Arts. 5, 6, 16, 21, 23, 55.

* An app permission for the phone's contact list (or photos, call logs, SMS) is never requested for a loan:
  the necessary personal information of online lending excludes them (国信办秘字〔2021〕14号); emergency
  contacts are typed in by the borrower.
* Accounts are exported to a collection agency only if it is whitelisted, an entrustment contract and a
  personal-information impact assessment are on file, and only the fields the task needs; emergency
  contacts only when the borrower is unreachable (失联).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HARVEST_PERMISSIONS = frozenset(
    {
        "READ_CONTACTS",
        "contacts",
        "READ_CALL_LOG",
        "READ_SMS",
        "READ_EXTERNAL_STORAGE",
        "photos",
        "call_log",
        "sms",
    }
)
AGENCY_FIELDS = frozenset(
    {"name", "mobile", "amount_due", "days_past_due", "loan_id", "due_date", "masked_id"}
)


def evaluate_data_action(given: Mapping[str, Any], when: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    action = when.get("action")
    if action == "request_permission":
        if str(when.get("permission")) in HARVEST_PERMISSIONS:
            return "block", "CONTACTS_HARVEST", ["CONTACTS_HARVEST"]
        return "allow", "ALLOWED", ["ALLOWED"]
    if action == "export_accounts_to_agency":
        agency = given.get("agency", {})
        reasons = []
        if not agency.get("on_whitelist"):
            reasons.append("AGENCY_NOT_WHITELISTED")
        if not agency.get("entrustment_contract_id"):
            reasons.append("ENTRUSTMENT_CONTRACT_MISSING")
        if not agency.get("pia_id"):
            reasons.append("PIA_MISSING")
        fields = set(when.get("fields", []))
        needless_contacts = "emergency_contacts" in fields and not given.get("borrower_unreachable")
        if needless_contacts or fields - AGENCY_FIELDS - {"emergency_contacts"}:
            reasons.append("EXPORT_FIELDS_EXCESSIVE")
        if reasons:
            return "block", reasons[0], reasons
        return "allow", "ALLOWED", ["ALLOWED"]
    raise ValueError(f"unknown data-protection action {action!r}")
