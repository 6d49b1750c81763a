"""Data-protection decisions (pure, typed): app permissions, agency exports, log lines.

Who may see which field of whom, masked or in clear, is ``privacy.access``; the masks are ``privacy.masking``;
the log redaction is ``privacy.redaction``. This module holds the other acts on personal data:

* App permissions (PIPL Arts. 5, 6, 17; 国信办秘字〔2021〕14号 — the necessary personal information of online
  lending is the borrower's identity, bank card and phone, never the address book). The contact list and the
  call log / SMS (who the borrower knows) are never requested by a loan app: CONTACTS_HARVEST. Any other
  permission needs a stated purpose (PERMISSION_PURPOSE_MISSING) and to be necessary at the flow where it is
  asked (PERMISSION_NOT_NECESSARY): the camera at identity verification only; photos, storage, precise
  location, microphone, phone state never (also Google Play's financial-services policy for personal loans).
* Agency exports (PIPL Arts. 21, 23, 55): the agency is whitelisted (AGENCY_NOT_WHITELISTED), an entrustment
  contract and a personal-information impact assessment are on file (ENTRUSTMENT_CONTRACT_MISSING, with
  PIA_MISSING when the assessment is the missing part), the borrower has not withdrawn the agency-sharing
  consent (CONSENT_WITHDRAWN), the purpose is collection (EXPORT_PURPOSE_UNRELATED) and only the fields
  collection needs are sent (EXPORT_FIELDS_EXCESSIVE): no ID number in clear, no card, no address, emergency
  contacts only when the borrower is unreachable (失联).
* Log lines (RULES.md §4): a line carrying a raw ID number, card number, mobile or e-mail address is not
  written as it is (LOG_PII_UNMASKED); the logging writes the redacted line instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xiaodai.privacy.redaction import identifiers_in, redact

ALLOWED = "ALLOWED"


@dataclass(frozen=True, slots=True)
class DataVerdict:
    allowed: bool
    reason: str
    reasons: tuple[str, ...]

    @property
    def decision(self) -> str:
        return "allow" if self.allowed else "block"


def _verdict(blocked: Iterable[str]) -> DataVerdict:
    codes = tuple(dict.fromkeys(blocked))
    return DataVerdict(False, codes[0], codes) if codes else DataVerdict(True, ALLOWED, (ALLOWED,))


# --- app permissions ---------------------------------------------------------------------------------------

# Who the borrower knows: never requested by a loan app.
CONTACT_GRAPH = frozenset(
    {
        "READ_CONTACTS",
        "WRITE_CONTACTS",
        "GET_ACCOUNTS",
        "READ_CALL_LOG",
        "WRITE_CALL_LOG",
        "PROCESS_OUTGOING_CALLS",
        "READ_SMS",
        "RECEIVE_SMS",
        "SEND_SMS",
    }
)
# Personal information that is necessary only at these flows (the camera: ID card and face at verification).
NECESSARY_AT: dict[str, frozenset[str]] = {
    "CAMERA": frozenset(
        {
            "identity_verification",
            "kyc",
            "face_verification",
            "liveness_check",
            "registration",
            "loan_application",
        }
    ),
}
# Not personal information: granted without a purpose.
ORDINARY = frozenset(
    {"INTERNET", "ACCESS_NETWORK_STATE", "POST_NOTIFICATIONS", "VIBRATE", "WAKE_LOCK", "USE_BIOMETRIC"}
)
PERMISSION_ALIASES = {
    "contacts": "READ_CONTACTS",
    "address_book": "READ_CONTACTS",
    "nscontactsusagedescription": "READ_CONTACTS",
    "call_log": "READ_CALL_LOG",
    "sms": "READ_SMS",
    "photos": "READ_MEDIA_IMAGES",
    "photo_library": "READ_MEDIA_IMAGES",
    "nsphotolibraryusagedescription": "READ_MEDIA_IMAGES",
    "storage": "READ_EXTERNAL_STORAGE",
    "camera": "CAMERA",
    "nscamerausagedescription": "CAMERA",
    "location": "ACCESS_FINE_LOCATION",
    "nslocationwheninuseusagedescription": "ACCESS_FINE_LOCATION",
    "nslocationalwaysandwheninuseusagedescription": "ACCESS_BACKGROUND_LOCATION",
    "microphone": "RECORD_AUDIO",
    "nsmicrophoneusagedescription": "RECORD_AUDIO",
    "notifications": "POST_NOTIFICATIONS",
}


def permission_name(raw: str) -> str:
    """``android.permission.READ_CONTACTS``, ``READ_CONTACTS``, ``contacts`` and the iOS key are one name."""
    text = raw.strip()
    alias = PERMISSION_ALIASES.get(text.lower())
    if alias:
        return alias
    return text.rsplit(".", 1)[-1].upper()


@dataclass(frozen=True, slots=True)
class PermissionRequest:
    permission: str
    flow: str | None = None  # where in the app it is asked (loan_application, identity_verification, …)
    purpose: str | None = None  # what the app tells the user it is for


def decide_permission(request: PermissionRequest) -> DataVerdict:
    name = permission_name(request.permission)
    if name in CONTACT_GRAPH:
        return _verdict(["CONTACTS_HARVEST"])
    if name in ORDINARY:
        return _verdict([])
    blocked = []
    if request.flow not in NECESSARY_AT.get(name, frozenset()):
        blocked.append("PERMISSION_NOT_NECESSARY")
    if not (request.purpose or "").strip():
        blocked.append("PERMISSION_PURPOSE_MISSING")
    return _verdict(blocked)


# --- agency exports ----------------------------------------------------------------------------------------

# What a collection agency needs to reach the borrower and say what is owed (the ID number only masked).
COLLECTION_FIELDS = frozenset(
    {"loan_id", "name", "mobile", "amount_due", "days_past_due", "due_date", "masked_id"}
)
UNREACHABLE_ONLY_FIELDS = frozenset({"emergency_contacts"})


@dataclass(frozen=True, slots=True)
class Agency:
    id: str | None
    on_whitelist: bool
    entrustment_contract_id: str | None
    pia_id: str | None


@dataclass(frozen=True, slots=True)
class AgencyExport:
    fields: tuple[str, ...]
    purpose: str | None = None  # None: collection, the only purpose of an agency referral
    borrower_unreachable: bool = False
    agency_sharing_consent: bool | None = None  # False: withdrawn; None: no record (the paper contract's)


def is_collection_purpose(purpose: str | None) -> bool:
    text = (purpose or "collection").lower()
    return "collect" in text or "催收" in text or "recovery" in text


def excessive_fields(export: AgencyExport) -> list[str]:
    allowed = COLLECTION_FIELDS | (UNREACHABLE_ONLY_FIELDS if export.borrower_unreachable else frozenset())
    return [f for f in export.fields if f not in allowed]


def decide_agency_export(agency: Agency, export: AgencyExport) -> DataVerdict:
    blocked = []
    if not agency.on_whitelist:
        blocked.append("AGENCY_NOT_WHITELISTED")
    if not agency.entrustment_contract_id or not agency.pia_id:
        blocked.append("ENTRUSTMENT_CONTRACT_MISSING")  # the vocabulary's code: without contract / PIA
    if not agency.pia_id:
        blocked.append("PIA_MISSING")
    if export.agency_sharing_consent is False:
        blocked.append("CONSENT_WITHDRAWN")
    if not is_collection_purpose(export.purpose):
        blocked.append("EXPORT_PURPOSE_UNRELATED")
    if excessive_fields(export):
        blocked.append("EXPORT_FIELDS_EXCESSIVE")
    return _verdict(blocked)


# --- log lines ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogVerdict:
    verdict: DataVerdict
    written: str  # what the logging writes: the line itself, or its redacted form
    identifiers: tuple[str, ...]  # the kinds found: ID, CARD, PHONE, EMAIL


def decide_log_line(line: str) -> LogVerdict:
    """May this line be written as it is? The answer and the line the logging writes instead."""
    found = tuple(identifiers_in(line))
    return LogVerdict(_verdict(["LOG_PII_UNMASKED"] if found else []), redact(line), found)
