"""Ecosystem signals (optional, consented): tenure as a customer of the platform xiaodai is embedded in,
device age and bill-payment behaviour, behind a provider interface. Only a deterministic sandbox ships:
every figure comes from SHA-256 of the subject reference, so the same subject always gets the same signals.
They are recorded with the decision (source ``ecosystem``) and never read by a knock-out rule."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any, Protocol


class EcosystemProvider(Protocol):
    name: str

    def signals(self, *, subject_ref: str, as_of: date) -> dict[str, Any]: ...


class SandboxEcosystem:
    name = "sandbox"

    def signals(self, *, subject_ref: str, as_of: date) -> dict[str, Any]:
        digest = hashlib.sha256(f"xiaodai-ecosystem-sandbox:{subject_ref}".encode()).digest()
        return {
            "ecosystem_customer_months": 1 + digest[0] % 96,
            "ecosystem_device_age_days": 7 + (digest[1] * 256 + digest[2]) % 1500,
            "ecosystem_payment_on_time_ratio": str(round(Decimal(70 + digest[3] % 31) / Decimal(100), 2)),
        }
