"""Checks on the personal data a borrower types in (pure). Reason codes, not prose.

* Resident ID number: 18 characters, GB 11643-1999 check digit (ISO 7064 MOD 11-2), a real birth date.
* Mobile phone: 11 digits starting 1[3-9] (optionally +86).
* Bank card: 13-19 digits passing the Luhn check.
* Emergency contacts: typed in by the borrower, at most 3, each a name, relation and phone; anything that
  comes from the phone's address book is refused (CONTACTS_HARVEST, 国信办秘字〔2021〕14号).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_EMERGENCY_CONTACTS = 3
RELATIONS = frozenset({"spouse", "parent", "child", "sibling", "relative", "friend", "colleague", "other"})
HARVEST_SOURCES = frozenset({"address_book", "contacts", "phonebook", "call_log", "sms"})


class PersonalDataError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def valid_id_number(value: str) -> bool:
    text = value.strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X":
        return False
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return id_check_digit(text[:17]) == text[17]


def birth_date_from_id(value: str) -> date | None:
    """The birth date a resident ID number encodes (characters 7-14, YYYYMMDD), or None if it is not one."""
    text = value.strip().upper()
    if not looks_like_id_number(text):
        return None
    return date(int(text[6:10]), int(text[10:12]), int(text[12:14]))


def age_on(birth: date, day: date) -> int:
    """Whole years from ``birth`` to ``day`` (a 29 February birthday falls on 1 March in common years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def looks_like_id_number(value: str) -> bool:
    """The shape of a resident ID number — region, a real birth date (1900-2099), sequence, check character —
    whatever its check digit: a mistyped ID number is still someone's identifier (for logs, not for forms)."""
    text = value.strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X" or text[0] == "0":
        return False
    if not 1900 <= int(text[6:10]) <= 2099:
        return False
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return True


def mobile_digits(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def valid_mobile(value: str) -> bool:
    return bool(MOBILE.match(mobile_digits(value)))


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def valid_bank_card(value: str) -> bool:
    digits = "".join(value.split())
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits)


def clean_profile(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validated, normalised fields of a profile update (only those present). Raises PersonalDataError."""
    allowed = {"name", "id_number", "phone", "bank_card", "address", "emergency_contacts", "contacts_source"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise PersonalDataError("UNKNOWN_FIELD", f"unknown fields: {', '.join(unknown)}")
    if str(raw.get("contacts_source", "typed")) in HARVEST_SOURCES:
        raise PersonalDataError(
            "CONTACTS_HARVEST", "contacts from the phone's address book are never accepted; type them in"
        )
    out: dict[str, Any] = {}
    if "name" in raw:
        name = str(raw["name"]).strip()
        if not 1 <= len(name) <= 60:
            raise PersonalDataError("NAME_INVALID", "the name must have 1 to 60 characters")
        out["name"] = name
    if "id_number" in raw:
        if not valid_id_number(str(raw["id_number"])):
            raise PersonalDataError("ID_NUMBER_INVALID", "the resident ID number is not valid (check digit)")
        out["id_number"] = str(raw["id_number"]).strip().upper()
    if "phone" in raw:
        if not valid_mobile(str(raw["phone"])):
            raise PersonalDataError("PHONE_INVALID", "the mobile number must have 11 digits starting 13-19")
        out["phone"] = mobile_digits(str(raw["phone"]))
    if "bank_card" in raw:
        if not valid_bank_card(str(raw["bank_card"])):
            raise PersonalDataError("BANK_CARD_INVALID", "the bank card number is not valid (13-19 digits)")
        out["bank_card"] = "".join(str(raw["bank_card"]).split())
    if "address" in raw:
        address = str(raw["address"]).strip()
        if not 4 <= len(address) <= 200:
            raise PersonalDataError("ADDRESS_INVALID", "the address must have 4 to 200 characters")
        out["address"] = address
    if "emergency_contacts" in raw:
        out["emergency_contacts"] = _contacts(raw["emergency_contacts"])
    return out


def _contacts(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise PersonalDataError("CONTACTS_INVALID", "emergency_contacts must be a list")
    if len(value) > MAX_EMERGENCY_CONTACTS:
        raise PersonalDataError(
            "CONTACTS_HARVEST", f"at most {MAX_EMERGENCY_CONTACTS} emergency contacts, typed in by you"
        )
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise PersonalDataError("CONTACTS_INVALID", "each emergency contact is {name, relation, phone}")
        if str(item.get("source", "typed")) in HARVEST_SOURCES:
            raise PersonalDataError("CONTACTS_HARVEST", "contacts from the address book are never accepted")
        name = str(item.get("name", "")).strip()
        relation = str(item.get("relation", "")).strip()
        phone = str(item.get("phone", ""))
        if not name or relation not in RELATIONS or not valid_mobile(phone):
            raise PersonalDataError(
                "CONTACTS_INVALID",
                "each emergency contact needs a name, a relation ("
                + ", ".join(sorted(RELATIONS))
                + ") and a mobile",
            )
        out.append({"name": name, "relation": relation, "phone": mobile_digits(phone)})
    return out
