"""Channel adapters (SMS, call, app push, e-mail). The simulated one is for demos and tests; a real adapter
implements the same protocol. Adapters are only ever called by ``collections.service`` after the engine
allowed the attempt."""

from __future__ import annotations

import hashlib
from typing import Protocol


class Channel(Protocol):
    def send(self, *, channel: str, to: str, message: str | None) -> str:
        """Deliver the contact; return its outcome (e.g. delivered, connected_conversation, no_answer)."""
        ...


class SimulatedChannel:
    """Deterministic outcomes from a hash of the destination and message (no network)."""

    CALL_OUTCOMES = (
        "connected_conversation",
        "no_answer",
        "no_answer",
        "voicemail_limited_content",
        "busy_signal",
    )

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []

    def send(self, *, channel: str, to: str, message: str | None) -> str:
        self.sent.append((channel, to, message))
        if channel in ("call", "voice", "ai_voice"):
            digest = hashlib.sha256(f"{to}|{len(self.sent)}".encode()).digest()
            return self.CALL_OUTCOMES[digest[0] % len(self.CALL_OUTCOMES)]
        return "delivered"
