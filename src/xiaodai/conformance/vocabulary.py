"""A result's ``reason`` in the scenario file's own vocabulary.

The format asks for ``reason`` as one code of the file's ``reason_codes``. Where the product decides with a
finer code of its own that the file's vocabulary lacks, the vocabulary's code for the same rule is reported as
``reason`` and the product's code stays in ``reasons`` — the decision is the product's, unchanged. A code
with no broader code here (``CONSENT_WITHDRAWN``, ``PERMISSION_NOT_NECESSARY``, …) is reported as it is: no
vocabulary code says that rule. A file without ``reason_codes`` gets the product's codes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

# The product's code → the vocabulary code (conduct_dev.json) for the same rule.
BROADER = {
    # need to know is shown by a role that needs the field AND a real justification (privacy.access)
    "JUSTIFICATION_REQUIRED": "NEED_TO_KNOW",
    "UNKNOWN_FIELD": "NEED_TO_KNOW",
    "BREAK_GLASS": "ALLOWED",
    # an agency needs only the fields of collection, for collection (privacy.policy)
    "EXPORT_FIELDS_EXCESSIVE": "NEED_TO_KNOW",
    "EXPORT_PURPOSE_UNRELATED": "NEED_TO_KNOW",
    # "PI transfer to processor without contract/PIA": the entrustment is not in place
    "PIA_MISSING": "ENTRUSTMENT_CONTRACT_MISSING",
    "AGENCY_NOT_WHITELISTED": "ENTRUSTMENT_CONTRACT_MISSING",
    # the complaint clock (complaints.sla, complaints.closing): a permitted act is "Action permitted"
    "REVIEW_REQUEST_IN_TIME": "ALLOWED",
    "CLOSE_ALLOWED": "ALLOWED",
    # "Extension not communicated (with reasons) to complainant": the reasons are part of the notice
    "EXTENSION_NO_REASON": "EXTENSION_NOT_NOTIFIED",
}
# An undecided complaint past its limit, or an extension made once the limit had run out: reported as the
# breach of the limit then in force, which the engine lists too (SLA_BREACH_15D / _30D / _60D_MAX) — when
# the file's vocabulary has that code (conduct_dev.json has no 30-day breach code: the product's code stays).
BREACH_OF_THE_LIMIT = {"SLA_OPEN_BREACHED": "SLA_BREACH_", "EXTENSION_AFTER_DEADLINE": "SLA_BREACH_"}


def vocabulary_of(document: Mapping[str, Any]) -> frozenset[str] | None:
    codes = document.get("reason_codes")
    if isinstance(codes, Mapping | list):
        return frozenset(str(c) for c in codes)
    return None


def in_vocabulary(result: Mapping[str, Any], vocabulary: Collection[str] | None) -> dict[str, Any]:
    """``result`` with its reason in ``vocabulary`` where the product's code has a broader one there."""
    out = dict(result)
    reason = out.get("reason")
    if vocabulary is None or not isinstance(reason, str) or reason in vocabulary:
        return out
    reasons = [str(r) for r in out.get("reasons") or [reason]]
    broader = BROADER.get(reason)
    family = BREACH_OF_THE_LIMIT.get(reason)
    if family is not None:
        broader = next((r for r in reasons if r.startswith(family) and r in vocabulary), None)
    if broader is None or broader not in vocabulary:
        return out
    out["reason"] = broader
    out["reasons"] = [broader, *(r for r in reasons if r != broader)]
    return out
