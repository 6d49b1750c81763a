"""The ``credit_reporting`` suite of the scenario format, in the words ``collections.credit_reporting`` reads.

The format names a prior notice ``{"type": "negative_info_prior_notice", "at", "channels", "delivered"}``; the
engine (and ``collections.workflow``, from the notices it recorded) reads ``{"kind": "negative_record_notice",
"at", "undeliverable"}``. Translated here, at the runner's edge:

* only a ``negative_info_prior_notice`` is the notice of 征信业管理条例 Art. 15 — a notice of another type is
  passed on under its own name, which the engine does not count;
* ``delivered: false`` is a notice that did not reach the borrower (``undeliverable``); absent or ``null`` is
  not known, and counts as the engine counts a recorded notice;
* a ``limited_content_message`` is not a communication with the consumer (12 CFR 1006.2(j), 1006.30(a)(1)),
  so it never opens the way to furnishing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiaodai.conformance.scenario_format import ScenarioError

NOTICE_TYPES = {"negative_info_prior_notice": "negative_record_notice"}
NOT_A_COMMUNICATION = frozenset({"limited_content_message"})


def _items(value: Any, where: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ScenarioError(f"{where} must be a list of objects")
    return value


def reporting_inputs(given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with its notices and communications in the engine's words."""
    notices = []
    for i, notice in enumerate(_items(given.get("notices_sent"), "given.notices_sent")):
        if "at" not in notice:
            raise ScenarioError(f"missing required fact given.notices_sent[{i}].at")
        kind = notice.get("type", notice.get("kind"))
        delivered = notice.get("delivered")
        notices.append(
            {
                **notice,
                "kind": NOTICE_TYPES.get(str(kind), str(kind))
                if kind is not None
                else "negative_record_notice",
                "undeliverable": bool(notice.get("undeliverable")) or delivered is False,
            }
        )
    communications = []
    for i, comm in enumerate(
        _items(given.get("communications_with_consumer"), "given.communications_with_consumer")
    ):
        if "at" not in comm:
            raise ScenarioError(f"missing required fact given.communications_with_consumer[{i}].at")
        if comm.get("kind") not in NOT_A_COMMUNICATION:
            communications.append(comm)
    return {**given, "notices_sent": notices, "communications_with_consumer": communications}
