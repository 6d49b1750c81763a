"""Least privilege for personal data (pure): who may see which field of whom, masked or in clear.

PIPL Arts. 6 (minimum necessary), 51 (internal access control). Everyone sees masked values by default; a role
may unmask only the fields its work needs, with a real written justification (not empty, not a placeholder
such as ``xxxxxxxxxx``, ``test`` or ``n/a``, nor one unit repeated), a few times per shift on its own and
more only with a second person's approval (``unmask_allowance``); anything else is refused with a
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
# A justification is a reason someone could check later: at least 10 characters and two words of Latin script
# (or 5 Chinese characters), at least 4 distinct letters, and not only placeholder words.
MIN_JUSTIFICATION = 10
MIN_JUSTIFICATION_CJK = 5
MIN_DISTINCT_LETTERS = 4
MAX_REPEATED_UNIT = 4  # "abcabcabc", "测试测试测试": one short unit repeated is no reason
# Unmasking per staff member per shift (a rolling window): a few on one's own justification, more only with
# a second person's approval for that borrower (approvals, operation "unmask"), never more than the cap.
SHIFT = timedelta(hours=8)
FREE_UNMASKS_PER_SHIFT = 5
MAX_UNMASKS_PER_SHIFT = 25
PLACEHOLDER_WORDS = frozenset(
    {
        "test", "tests", "testing", "tested", "na", "none", "null", "nil", "nothing", "tbd", "todo", "xxx",
        "asdf", "asdfgh", "asdfghjkl", "qwerty", "qwertyuiop", "zxcvbnm", "foo", "bar", "baz", "abc", "abcd",
        "dummy", "sample", "example", "placeholder", "reason", "reasons", "justification", "because", "need",
        "needed", "required", "check", "checking", "view", "viewing", "see", "look", "access", "unmask",
        "ok", "okay", "yes", "no", "whatever", "work", "business", "stuff", "thing", "things", "lorem",
        "ipsum", "blah", "misc", "other", "n", "a", "the", "an", "is", "this", "it", "for", "of", "to",
        "and", "just", "only", "please", "i", "am", "be", "my", "me", "some", "any",
        "测试", "无", "没有", "同上", "略", "暂无", "理由", "原因", "需要", "查看", "工作需要",
    }
)  # fmt: skip
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z]+|[\u4e00-\u9fff]+")


def is_real_justification(text: str) -> bool:
    """False for an empty, too short or placeholder reason (``xxxxxxxxxx``, ``test``, ``n/a``, ``111111``)."""
    clean = " ".join(text.split()).lower()
    letters = {ch for ch in clean if ch.isalpha()}
    if len(letters) < MIN_DISTINCT_LETTERS:
        return False
    words = _WORD.findall(clean)
    if all(word in PLACEHOLDER_WORDS for word in words) or _repetitive(clean):
        return False
    if len(_CJK.findall(clean)) >= MIN_JUSTIFICATION_CJK:
        return True
    return len(clean) >= MIN_JUSTIFICATION and len(clean.split()) >= 2


def _repetitive(clean: str) -> bool:
    """One character making up half of the text, or one unit of up to 4 characters repeated."""
    compact = "".join(ch for ch in clean if ch.isalnum())
    if not compact:
        return True
    if max(Counter(compact).values()) * 2 > len(compact):
        return True
    return any(
        len(compact) >= 2 * unit and compact == (compact[:unit] * (len(compact) // unit + 1))[: len(compact)]
        for unit in range(1, MAX_REPEATED_UNIT + 1)
    )


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
    reasons: tuple[str, ...] = ()  # every code that applied, the decisive one first


def _refuse(*codes: str) -> AccessVerdict:
    return AccessVerdict(False, codes[0], (), codes)


def _grant(code: str, unmask: tuple[str, ...] = ()) -> AccessVerdict:
    return AccessVerdict(True, code, unmask, (code,))


def decide_view(
    roles: Iterable[str],
    *,
    is_self: bool,
    assigned: bool,
    unmask: Iterable[str] = (),
    justification: str = "",
    break_glass: bool = False,
) -> AccessVerdict:
    """May this viewer see this person's data, and which fields in clear?

    In order: an unknown field; a role that sees no one (NEED_TO_KNOW); a collector off their accounts
    (ACCESS_NOT_ASSIGNED); a field the role may not unmask (NEED_TO_KNOW — no justification changes that);
    then the justification (JUSTIFICATION_REQUIRED). Break-glass skips the role checks, never the reason.
    """
    wanted = tuple(dict.fromkeys(unmask))
    if any(f not in FIELDS for f in wanted):
        return _refuse("UNKNOWN_FIELD")
    if is_self:
        return _grant("ALLOWED", wanted)
    held = set(roles)
    real_reason = is_real_justification(justification)
    if break_glass:
        if not held:
            return _refuse("NEED_TO_KNOW")
        if not real_reason:
            return _refuse("JUSTIFICATION_REQUIRED")
        return _grant("BREAK_GLASS", wanted)
    if not held & VIEW_ROLES:
        return _refuse("NEED_TO_KNOW")
    collector_only = "collector" in held and not held & (VIEW_ROLES - {"collector"})
    if collector_only and not assigned:
        return _refuse("ACCESS_NOT_ASSIGNED")
    if not wanted:
        return _grant("ALLOWED_MASKED")
    permitted: set[str] = set()
    for role in held:
        if role != "collector" or assigned:
            permitted |= UNMASK.get(role, frozenset())
    if any(f not in permitted for f in wanted):
        return _refuse("NEED_TO_KNOW", *(() if real_reason else ("JUSTIFICATION_REQUIRED",)))
    if not real_reason:
        return _refuse("JUSTIFICATION_REQUIRED")
    return _grant("ALLOWED", wanted)
