"""Senders hand a queued outbox message to its channel (SMS gateway, mail, the app inbox). The simulated one
marks it sent with a reference (no network); a real sender implements the same protocol."""

from __future__ import annotations

import hashlib
from typing import Protocol


class Sender(Protocol):
    def send(self, *, channel: str, address_ref: str, body: str, outbox_id: int) -> str:
        """Deliver; return the channel's reference. Raise to leave the message queued for a later try."""
        ...


class SimulatedSender:
    """Deterministic references from the message id; records what it sent (tests and the demo)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []

    def send(self, *, channel: str, address_ref: str, body: str, outbox_id: int) -> str:
        self.sent.append((outbox_id, channel, address_ref))
        digest = hashlib.sha256(f"{outbox_id}|{channel}|{address_ref}|{body}".encode()).hexdigest()
        return f"sim-{channel}-{digest[:16]}"
