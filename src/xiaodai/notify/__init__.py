"""Reminders and notifications: policy (``reminder_policy``, pure), the outbox and its sender (``service``,
``senders``). ``enqueue_notice`` is the one entry point for other domains (e.g. a credit line's limit
change): ``from xiaodai.notify import enqueue_notice``."""

from __future__ import annotations

from typing import Any

__all__ = ["enqueue_notice"]


def __getattr__(name: str) -> Any:
    # lazy: importing the pure policy module must not load the database shell
    if name == "enqueue_notice":
        from xiaodai.notify.service import enqueue_notice

        return enqueue_notice
    raise AttributeError(name)
