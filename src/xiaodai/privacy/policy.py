"""Data-protection decisions (pure): what the platform may collect and share.

PIPL Arts. 5, 6, 16, 21, 23, 55.

* An app permission for the phone's contact list (or photos, call logs, SMS) is never requested for a loan:
  the necessary personal information of online lending excludes them (国信办秘字〔2021〕14号); emergency
  contacts are typed in by the borrower.
* Accounts are exported to a collection agency (or any processor) only if it is whitelisted, an entrustment
  contract and a personal-information impact assessment are on file, and only the fields the task needs;
  emergency contacts only when the borrower is unreachable (失联).
* Staff see personal data masked by role; a collector only on assigned accounts (ACCESS_NOT_ASSIGNED); data in
  clear only for a role that needs that field (NEED_TO_KNOW, PIPL Arts. 6, 51) — ``privacy.access``.
* A log line never carries a raw ID number, card number or phone (LOG_PII_UNMASKED; RULES.md §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiaodai.privacy.access import decide_view
from xiaodai.privacy.redaction import redact
from xiaodai.privacy.validation import HARVEST_SOURCES

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
VIEW_ACTIONS = frozenset(
    {"view_personal_data", "view_pii", "view_borrower", "view_account", "view", "unmask"}
)
LOG_ACTIONS = frozenset({"log", "write_log", "log_event", "emit_log"})
EXPORT_ACTIONS = frozenset(
    {"export_accounts_to_agency", "share_with_agency", "transfer_to_processor", "share_with_processor"}
)
# Scenarios state who sees what; the written justification is a house procedure the platform asks for on
# top (privacy.access.MIN_JUSTIFICATION) and has no code in the shared vocabulary.
SCENARIO_JUSTIFICATION = "stated by the scenario"
AGENCY_FIELDS = frozenset(
    {"name", "mobile", "amount_due", "days_past_due", "loan_id", "due_date", "masked_id"}
)


def evaluate_data_action(given: Mapping[str, Any], when: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    action = when.get("action")
    if action in ("request_permission", "collect_contacts", "import_contacts", "upload_contacts"):
        source = str(when.get("source", when.get("contacts_source", "")))
        if str(when.get("permission")) in HARVEST_PERMISSIONS or source in HARVEST_SOURCES:
            return "block", "CONTACTS_HARVEST", ["CONTACTS_HARVEST"]
        return "allow", "ALLOWED", ["ALLOWED"]
    if action in VIEW_ACTIONS:
        return _view(given, when)
    if action in LOG_ACTIONS:
        return _log(given, when)
    if action in EXPORT_ACTIONS:
        agency = given.get("agency") or given.get("processor") or given.get("recipient") or {}
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


def _roles(person: Mapping[str, Any]) -> set[str]:
    roles = person.get("roles", person.get("role", []))
    return {str(roles)} if isinstance(roles, str) else {str(r) for r in roles}


def _view(given: Mapping[str, Any], when: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    viewer = given.get("viewer") or given.get("actor") or given.get("user") or given.get("staff") or {}
    account = given.get("account") or given.get("borrower") or given.get("loan") or {}
    if "assigned" in given:
        assigned = bool(given["assigned"])
    elif "assigned" in account:
        assigned = bool(account["assigned"])
    else:
        owner = account.get("assigned_to", account.get("assigned_collector"))
        listed = viewer.get("assigned_accounts", viewer.get("assigned_account_ids"))
        assigned = (owner is not None and owner == viewer.get("id")) or (
            listed is not None and account.get("id") in listed
        )
    fields = [str(f) for f in when.get("fields", [])]
    clear = when.get("unmasked", when.get("unmask"))
    mode = str(when.get("view", when.get("mode", "")))
    wants_clear = bool(clear) or mode in {"unmasked", "full", "clear", "plain"}
    if isinstance(clear, list):
        fields = [str(f) for f in clear]
    known = [f for f in fields if f in FIELD_ALIASES]
    verdict = decide_view(
        _roles(viewer),
        is_self=bool(given.get("is_self")),
        assigned=assigned,
        unmask=tuple(FIELD_ALIASES[f] for f in known) if wants_clear else (),
        justification=str(when.get("justification", "")) or SCENARIO_JUSTIFICATION,
        break_glass=bool(when.get("break_glass")),
    )
    if wants_clear and not known and fields:
        return "block", "NEED_TO_KNOW", ["NEED_TO_KNOW"]
    decision = "allow" if verdict.allowed else "block"
    return decision, verdict.reason, [verdict.reason]


FIELD_ALIASES = {
    "name": "name",
    "id_number": "id_number",
    "id": "id_number",
    "id_card": "id_number",
    "national_id": "id_number",
    "phone": "phone",
    "mobile": "phone",
    "bank_card": "bank_card",
    "card": "bank_card",
    "card_number": "bank_card",
    "address": "address",
    "emergency_contacts": "emergency_contacts",
}


def _log(given: Mapping[str, Any], when: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    text = " ".join(
        str(when.get(k, "")) for k in ("message", "line", "text", "payload", "fields", "values") if k in when
    )
    flagged = any(not bool(v) for k, v in when.items() if k in {"masked", "redacted", "tokenised"})
    if flagged or redact(text) != text:
        return "block", "LOG_PII_UNMASKED", ["LOG_PII_UNMASKED"]
    return "allow", "ALLOWED", ["ALLOWED"]
