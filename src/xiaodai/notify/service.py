"""Notifications shell: notices, the borrower's channel choices, the outbox and its sender. This module is the
door callers use (``from xiaodai.notify import service``); the work is in files named for what they hold:

- ``notices``: enqueue a notice (once per dedupe key), its view, the day's report;
- ``preferences``: the borrower's channel choices;
- ``deciding``: each channel decided by the contact-policy engine and our daily cap, one outbox row each;
- ``reminders``: the reminders a business date calls for, withdrawing those no longer owed, the day's run;
- ``outbox``: handing queued rows to the sender, the borrower's inbox, read marks;
- ``basics``: the error type and small helpers.

Flow: a notice is enqueued once per ``dedupe_key`` (a reminder the day calls for, a failed debit, a limit
change another domain reports through ``enqueue_notice``). Deciding it asks, for each channel the policy
and the borrower's choices give it, the contact-policy engine (hours, holds, the message screen) and our
daily cap; every decision is an outbox row with its reason codes. Only allowed rows are ``queued``; the
sender marks them ``sent``. A channel blocked for a passing reason (quiet hours, the daily cap) is decided
again on later runs until the notice's retry window closes; any other block is final. The caller commits.
"""

from __future__ import annotations

from xiaodai.notify.basics import NoticeError
from xiaodai.notify.deciding import decide_notice, outbox_view
from xiaodai.notify.notices import day_report, enqueue_notice, notice_view, notices_for
from xiaodai.notify.outbox import DEFAULT_SENDER, dispatch, inbox, mark_read
from xiaodai.notify.preferences import preferences, preferences_view, set_preferences
from xiaodai.notify.reminders import drain, plan_reminders, run_reminders

__all__ = [
    "DEFAULT_SENDER",
    "NoticeError",
    "day_report",
    "decide_notice",
    "dispatch",
    "drain",
    "enqueue_notice",
    "inbox",
    "mark_read",
    "notice_view",
    "notices_for",
    "outbox_view",
    "plan_reminders",
    "preferences",
    "preferences_view",
    "run_reminders",
    "set_preferences",
]
