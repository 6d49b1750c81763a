"""Masking of personal data for display (RULES.md §4): masked by default everywhere.

ID ``1101**********1234`` (first 4, last 4, length kept), bank card first 6 / last 4, phone ``138****5678``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_number(value: str) -> str:
    return _keep("".join(value.split()), 4, 4)


def mask_bank_card(value: str) -> str:
    return _keep("".join(ch for ch in value if ch.isdigit()), 6, 4)


def mask_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return _keep(digits, 3, 4)


def mask_name(value: str) -> str:
    text = value.strip()
    if not text:
        return text
    if text.isascii():
        return " ".join(part[0] + "*" * (len(part) - 1) for part in text.split())
    return text[0] + "*" * (len(text) - 1)


def mask_address(value: str) -> str:
    text = value.strip()
    keep = min(6, len(text) // 2)
    return text[:keep] + "****" if text else text


MASKERS: dict[str, Callable[[str], str]] = {
    "name": mask_name,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "bank_card": mask_bank_card,
    "address": mask_address,
}


def mask(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    return MASKERS[field](value)


def display(data: Mapping[str, Any], clear: Iterable[str] = ()) -> dict[str, Any]:
    """A person's data as a staff page or the API shows it: every field masked except those in ``clear``.

    Emergency contacts show each name and phone masked. ``unmasked`` lists the fields shown in clear.
    """
    shown = tuple(clear)
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field in shown:
            out[field] = value
        elif field == "emergency_contacts":
            out[field] = [{**c, "name": mask_name(c["name"]), "phone": mask_phone(c["phone"])} for c in value]
        else:
            out[field] = mask(field, value)
    out["unmasked"] = list(shown)
    return out
