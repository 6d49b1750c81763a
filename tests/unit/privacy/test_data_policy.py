"""The data_protection decisions in the shared vocabulary: views, logs, processor transfers, harvesting."""

from __future__ import annotations

from typing import Any

import pytest

from xiaodai.privacy.policy import evaluate_data_action

COLLECTOR = {"id": 7, "role": "collector"}


@pytest.mark.parametrize(
    ("given", "when", "reason"),
    [
        (
            {"viewer": COLLECTOR, "account": {"assigned_to": 8}},
            {"action": "view_personal_data"},
            "ACCESS_NOT_ASSIGNED",
        ),
        (
            {"viewer": COLLECTOR, "account": {"assigned_to": 7}},
            {"action": "view_personal_data"},
            "ALLOWED_MASKED",
        ),
        (
            {"viewer": COLLECTOR, "account": {"assigned_to": 7}},
            {"action": "view_personal_data", "fields": ["id_number"], "unmasked": True},
            "NEED_TO_KNOW",
        ),
        (
            {"viewer": {"id": 1, "role": "underwriter"}, "account": {"id": 3}},
            {"action": "unmask", "fields": ["id_number"], "unmasked": True},
            "ALLOWED",
        ),
        ({"viewer": {"id": 1, "role": "risk"}}, {"action": "view_pii", "fields": ["phone"]}, "NEED_TO_KNOW"),
        ({}, {"action": "write_log", "message": "repay failed for 13812345678"}, "LOG_PII_UNMASKED"),
        ({}, {"action": "write_log", "message": "repay failed for [PHONE#1a2b3c4d]"}, "ALLOWED"),
        ({}, {"action": "log", "fields": ["id_number"], "masked": False}, "LOG_PII_UNMASKED"),
        (
            {"processor": {"on_whitelist": True, "entrustment_contract_id": None, "pia_id": "P"}},
            {"action": "transfer_to_processor", "fields": ["name"]},
            "ENTRUSTMENT_CONTRACT_MISSING",
        ),
        ({}, {"action": "import_contacts", "source": "address_book"}, "CONTACTS_HARVEST"),
    ],
)
def test_data_protection_vocabulary(given: dict[str, Any], when: dict[str, Any], reason: str) -> None:
    assert evaluate_data_action(given, when)[1] == reason
