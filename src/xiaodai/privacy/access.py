"""Least privilege for personal data (pure): who may see which field of whom, masked or in clear.

PIPL Arts. 6 (minimum necessary), 51 (internal access control). Everyone sees masked values by default; a role
may unmask only the fields its work needs, with a written justification (``justification_ok``: no
placeholders), a few times per shift on its own and more only with a second person's approval
(``unmask_allowance``); anything else is refused with a
reason code, or done as break-glass (any staff, a reason, audited as such). Collectors see only the accounts
assigned to them; the risk analyst works on aggregates and sees no one's identity.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

FIELDS = ("name", "id_number", "phone", "bank_card", "address", "emergency_contacts")
VIEW_ROLES = frozenset({"underwriter", "collector", "complaint_officer", "auditor", "admin"})
UNMASK: dict[str, frozenset[str]] = {
    "underwriter": frozenset({"name", "id_number", "phone", "bank_card", "address"}),  # identity checks
    "collector": frozenset({"name", "phone"}),  # to reach the borrower, assigned accounts only
    "complaint_officer": frozenset({"name", "phone"}),  # to answer the complainant
    "admin": frozenset(FIELDS),
}
MIN_JUSTIFICATION = 10
# Unmasking per staff member per shift (a rolling window): a few on one's own justification, more only with
# a second person's approval for that borrower (approvals, operation "unmask"), never more than the cap.
SHIFT = timedelta(hours=8)
FREE_UNMASKS_PER_SHIFT = 5
MAX_UNMASKS_PER_SHIFT = 25
PLACEHOLDER_WORDS = frozenset(
    {
        "na", "n", "a", "none", "nil", "null", "test", "testing", "todo", "tbd", "asdf", "qwerty", "xxx",
        "reason", "justification", "because", "needed", "need", "check", "ok", "lorem", "ipsum", "foo",
        "bar", "abc", "placeholder", "whatever", "x", "y", "z", "无", "测试", "没有", "需要", "原因", "理由",
    }
)  # fmt: skip
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "01234567890", "09876543210")


def justification_ok(text: str) -> bool:
    """A written reason a reviewer can act on, not a placeholder: at least ``MIN_JUSTIFICATION`` characters,
    at least 4 different letters or digits and some letters, no character making up half of it, not one
    short unit repeated ("abcabcabc"), not a keyboard or alphabet run, not only placeholder words
    ("test test test", "n/a", "xxxxxxxxxx"). Shared by staff unmasking and the data-protection policy."""
    stripped = text.strip()
    if len(stripped) < MIN_JUSTIFICATION:
        return False
    chars = [c for c in stripped.lower() if c.isalnum()]
    if len(set(chars)) < 4 or not any(c.isalpha() for c in chars):
        return False
    if max(Counter(chars).values()) * 2 > len(chars):
        return False
    compact = "".join(chars)
    for unit in range(1, 5):
        if (
            len(compact) >= 2 * unit
            and compact == (compact[:unit] * (len(compact) // unit + 1))[: len(compact)]
        ):
            return False
    if any(compact in run for run in _RUNS):
        return False
    words = re.sub(r"[\W_]+", " ", stripped.lower()).split()
    return not all(w in PLACEHOLDER_WORDS for w in words)


def unmask_allowance(done_this_shift: int, *, approved: bool) -> str:
    """May this staff member unmask once more, having unmasked ``done_this_shift`` times in the current
    shift? ``approved``: a second person approved unmasking this borrower for them in this shift.
    ALLOWED | UNMASK_APPROVAL_REQUIRED | UNMASK_RATE_LIMITED."""
    if done_this_shift >= MAX_UNMASKS_PER_SHIFT:
        return "UNMASK_RATE_LIMITED"
    if done_this_shift >= FREE_UNMASKS_PER_SHIFT and not approved:
        return "UNMASK_APPROVAL_REQUIRED"
    return "ALLOWED"


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
    enough_reason = justification_ok(justification)
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
