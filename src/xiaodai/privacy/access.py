"""Least privilege for personal data (pure): who may see which field of whom, masked or in clear.

PIPL Arts. 6 (minimum necessary), 51 (internal access control). Everyone sees masked values by default; a role
may unmask only the fields its work needs, with a written justification; anything else is refused with a
reason code, or done as break-glass (any staff, a reason, audited as such). Collectors see only the accounts
assigned to them; the risk analyst works on aggregates and sees no one's identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIELDS = ("name", "id_number", "phone", "bank_card", "address", "emergency_contacts")
VIEW_ROLES = frozenset({"underwriter", "collector", "complaint_officer", "auditor", "admin"})
UNMASK: dict[str, frozenset[str]] = {
    "underwriter": frozenset({"name", "id_number", "phone", "bank_card", "address"}),  # identity checks
    "collector": frozenset({"name", "phone"}),  # to reach the borrower, assigned accounts only
    "complaint_officer": frozenset({"name", "phone"}),  # to answer the complainant
    "admin": frozenset(FIELDS),
}
MIN_JUSTIFICATION = 10


@dataclass(frozen=True, slots=True)
class AccessVerdict:
    allowed: bool
    # ALLOWED (fields in clear) | ALLOWED_MASKED | BREAK_GLASS | NEED_TO_KNOW | ACCESS_NOT_ASSIGNED |
    # JUSTIFICATION_REQUIRED | UNKNOWN_FIELD — the codes of the conformance vocabulary where one exists
    reason: str
    unmask: tuple[str, ...] = ()


def decide_view(
    roles: Iterable[str],
    *,
    is_self: bool,
    assigned: bool,
    unmask: Iterable[str] = (),
    justification: str = "",
    break_glass: bool = False,
) -> AccessVerdict:
    """May this viewer see this person's data, and which fields in clear?"""
    wanted = tuple(dict.fromkeys(unmask))
    unknown = [f for f in wanted if f not in FIELDS]
    if unknown:
        return AccessVerdict(False, "UNKNOWN_FIELD")
    if is_self:
        return AccessVerdict(True, "ALLOWED", wanted)
    held = set(roles)
    enough_reason = len(justification.strip()) >= MIN_JUSTIFICATION
    if break_glass:
        if not held:
            return AccessVerdict(False, "NEED_TO_KNOW")
        if not enough_reason:
            return AccessVerdict(False, "JUSTIFICATION_REQUIRED")
        return AccessVerdict(True, "BREAK_GLASS", wanted)
    if not held & VIEW_ROLES:
        return AccessVerdict(False, "NEED_TO_KNOW")
    collector_only = "collector" in held and not held & (VIEW_ROLES - {"collector"})
    if collector_only and not assigned:
        return AccessVerdict(False, "ACCESS_NOT_ASSIGNED")
    if not wanted:
        return AccessVerdict(True, "ALLOWED_MASKED")
    if not enough_reason:
        return AccessVerdict(False, "JUSTIFICATION_REQUIRED")
    permitted: set[str] = set()
    for role in held:
        if role != "collector" or assigned:
            permitted |= UNMASK.get(role, frozenset())
    refused = [f for f in wanted if f not in permitted]
    if refused:
        return AccessVerdict(False, "NEED_TO_KNOW")
    return AccessVerdict(True, "ALLOWED", wanted)
