"""Whether a complaint may be closed (pure).

The decision notice must state the verification, basis, reasons and the remedy channels (review,
mediation, arbitration, litigation — 《银行业保险业消费投诉处理管理办法》; RULES.md §3); the remedies
decided must be listed (or an explicit "none" with a reason); a root-cause code is required (溯源整改).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

REQUIRED_NOTICE = ("verification_summary", "basis", "reasons", "remedies")


@lru_cache(maxsize=1)
def root_causes() -> dict[str, Any]:
    """The root-cause registry (data): code → labels and the rule/config/product it links to."""
    text = resources.files("xiaodai.complaints").joinpath("data/root_causes.json").read_text("utf-8")
    return dict(json.loads(text)["codes"])


def check_close(
    notice: Mapping[str, Any], remedies: Sequence[Mapping[str, Any]], root_cause: str | None
) -> tuple[str, str, list[str]]:
    """(decision, primary reason, all reasons): allow → CLOSE_ALLOWED; ``notice``: part → its text."""
    reasons: list[str] = []
    missing = missing_notice_parts(notice)
    if missing:
        reasons.append(notice_reason(missing))
    if not remedies or any(r.get("kind") == "none" and not r.get("reason") for r in remedies):
        reasons.append("REMEDY_MISSING")
    if not (root_cause or "").strip():
        reasons.append("ROOT_CAUSE_MISSING")
    elif root_cause not in root_causes():
        reasons.append("ROOT_CAUSE_UNKNOWN")
    if reasons:
        return "block", reasons[0], reasons
    return "allow", "CLOSE_ALLOWED", ["CLOSE_ALLOWED"]


REMEDY_PARTS = frozenset({"basis", "remedies"})


def notice_reason(missing: Sequence[str]) -> str:
    """``NOTICE_MISSING_REMEDIES`` when only the basis / remedy channels are missing (the more specific
    code), else ``NOTICE_INCOMPLETE``."""
    return "NOTICE_MISSING_REMEDIES" if set(missing) <= REMEDY_PARTS else "NOTICE_INCOMPLETE"


def missing_notice_parts(notice: Mapping[str, Any]) -> list[str]:
    return [key for key in REQUIRED_NOTICE if not notice.get(key)]
