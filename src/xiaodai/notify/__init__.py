"""Reminders and notifications: policy (``reminder_policy``, pure), the outbox and its sender (``service``,
``senders``). ``enqueue_notice`` is the one entry point for other domains (e.g. a credit line's limit
change)."""
