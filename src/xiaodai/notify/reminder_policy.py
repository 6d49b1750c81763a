"""Reminder and notice policy (pure): which reminders a day calls for, which channels a notice may use, the
daily cap per channel, the message text, and how our own rules combine with the contact-policy engine's
verdict.

A reminder is a *contact* (RULES.md §2): the engine (``collections.contact_policy.evaluate``) judges its
hours, holds and content before anything is sent. It is a *servicing* contact, not a collection demand:
it goes to the borrower only, while the loan is not in arrears, with purpose ``payment_reminder``; legally
required notices (a limit decreased or frozen, with its reason) use ``account_notice``, which the engine
lets through collection holds like its other service purposes. The policy is data
(``data/notice_policy.json``); nothing here reads the clock or the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

ALLOWED = "ALLOWED"
# Our own reason codes (the engine's are its own: TIME_WINDOW, HOLD_COMPLAINT, CONTENT_*, …).
MARKETING_OPTED_OUT = "MARKETING_OPTED_OUT"
FREQ_NOTICE_DAILY_LIMIT = "FREQ_NOTICE_DAILY_LIMIT"
LEGAL_NOTICE_OVERRIDES_PREFERENCE = "LEGAL_NOTICE_OVERRIDES_PREFERENCE"


class Category(StrEnum):
    SERVICING = "servicing"  # reminders and account information: the borrower chooses the channels
    LEGAL = "legal"  # required by law or contract: cannot be opted out of
    MARKETING = "marketing"  # offers: the borrower may opt out


class PolicyError(ValueError):
    """An unknown notice kind, a payload a template cannot be filled from, a malformed policy file."""


@dataclass(frozen=True, slots=True)
class KindRule:
    name: str
    category: Category
    purpose: str  # handed to the contact-policy engine
    template: str


@dataclass(frozen=True, slots=True)
class Preferences:
    sms: bool = True
    email: bool = False
    marketing_opt_out: bool = False


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """One channel a notice goes to, or the reason it is suppressed before the engine is asked."""

    channel: str
    suppressed: str | None = None  # a reason code: nothing is sent on this channel
    notes: tuple[str, ...] = ()  # allowed-side codes (e.g. a legal notice overriding a preference)


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # allow | block | suppress
    reason: str
    reasons: tuple[str, ...]
    rule_version: str

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


@dataclass(frozen=True)
class NoticePolicy:
    version: str
    raw: Mapping[str, Any]

    @property
    def contact_profile(self) -> str:
        return str(self.raw["contact_profile"])

    @property
    def timezone(self) -> str:
        return str(self.raw["borrower_timezone"])

    def kind(self, name: str) -> KindRule:
        spec = self.raw["kinds"].get(name)
        if spec is None:
            known = ", ".join(sorted(self.raw["kinds"]))
            raise PolicyError(f"unknown notice kind {name!r} (known: {known})")
        return KindRule(name, Category(spec["category"]), str(spec["purpose"]), str(spec["template"]))

    def kinds(self) -> list[str]:
        return sorted(self.raw["kinds"])

    def reminder_step(self, due_on: date, today: date) -> tuple[str, str] | None:
        """(kind, step) of the reminder an instalment due on ``due_on`` calls for ``today``: ``pre_due``
        with ``T-3``/``T-1`` (the policy's days), ``due_today`` with ``T0``; None otherwise."""
        days = (due_on - today).days
        rules = self.raw["reminders"]
        if days == 0 and rules.get("on_due_day", True):
            return "due_today", "T0"
        if days > 0 and days in rules.get("days_before_due", ()):
            return "pre_due", f"T-{days}"
        return None

    def reminder_horizon(self) -> tuple[int, ...]:
        """Days before the due date the reminders look at (0 = the due date)."""
        rules = self.raw["reminders"]
        days = sorted(int(d) for d in rules.get("days_before_due", ()))
        return (0, *days) if rules.get("on_due_day", True) else tuple(days)

    @property
    def remind_failed_debits(self) -> bool:
        return bool(self.raw["reminders"].get("after_failed_debit", True))

    def channels(self, category: Category, prefs: Preferences) -> list[ChannelPlan]:
        """The channels a notice of ``category`` goes to, given the borrower's choices. Marketing to a
        borrower who opted out is suppressed on every channel it would have used; a legal notice uses its
        required channels whatever the choices (noted where it overrides one)."""
        spec = self.raw["channels"]
        chosen = {"sms": prefs.sms, "email": prefs.email}
        out: list[ChannelPlan] = []
        for channel in spec["known"]:
            always = channel in spec["always"]
            picked = always or chosen.get(channel, False)
            if category is Category.LEGAL and channel in spec["legal_required"]:
                notes = () if picked else (LEGAL_NOTICE_OVERRIDES_PREFERENCE,)
                out.append(ChannelPlan(channel, None, notes))
            elif not picked:
                continue
            elif category is Category.MARKETING and prefs.marketing_opt_out:
                out.append(ChannelPlan(channel, MARKETING_OPTED_OUT))
            else:
                out.append(ChannelPlan(channel))
        return out

    def daily_cap(self, category: Category, channel: str) -> int | None:
        """Most messages a day on ``channel`` for ``category``; None: no cap (the inbox, legal notices)."""
        spec = self.raw["frequency"]
        if category.value not in spec.get("categories", ()):
            return None
        cap = spec["max_per_borrower_per_local_day"].get(channel)
        return None if cap is None else int(cap)

    def over_daily_cap(self, category: Category, channel: str, allowed_today: int) -> bool:
        """True when one more message on ``channel`` would pass the day's cap (legal notices never are)."""
        cap = self.daily_cap(category, channel)
        return cap is not None and allowed_today >= cap

    def retry_reasons(self) -> frozenset[str]:
        return frozenset(self.raw.get("retry", {}).get("reasons", ()))

    def retry_days(self, category: Category) -> int:
        return int(self.raw.get("retry", {}).get("days", {}).get(category.value, 0))

    def render(self, kind: KindRule, lang: str, payload: Mapping[str, Any]) -> str:
        texts = self.raw["templates"][kind.template]
        text = str(texts.get(lang) or texts["zh"])
        values = {k: _text(v) for k, v in payload.items()}
        reason = payload.get("reason")
        if reason is not None:
            values["reason"] = self.reason_label(str(reason), lang)
        values.setdefault("lender", str(self.raw.get("lender", "")))
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise PolicyError(f"notice {kind.name!r}: the payload lacks {exc} for its template") from None

    def reason_label(self, code: str, lang: str) -> str:
        label = self.raw.get("reason_labels", {}).get(code)
        return str(label.get(lang) or label["zh"]) if label else code


def _text(value: object) -> str:
    if isinstance(value, float):
        raise PolicyError("money and numbers in a notice payload are strings or integers, never floats")
    return str(value)


def decide(
    engine_decision: str,
    engine_reason: str,
    engine_reasons: Sequence[str],
    engine_version: str,
    *,
    policy: NoticePolicy,
    category: Category,
    channel: ChannelPlan,
    allowed_today: int,
) -> Decision:
    """The engine's verdict combined with ours. The engine's primary reason stays primary when it blocks;
    our daily cap is added to (or, alone, makes) a block; allowed-side notes are kept."""
    version = f"{engine_version}+notice-{policy.version}"
    blocked = list(engine_reasons) if engine_decision == "block" else []
    if policy.over_daily_cap(category, channel.channel, allowed_today):
        blocked.append(FREQ_NOTICE_DAILY_LIMIT)
    if blocked:
        primary = engine_reason if engine_decision == "block" else blocked[0]
        return Decision("block", primary, tuple(dict.fromkeys(blocked)), version)
    notes = [*channel.notes, *(r for r in engine_reasons if r != ALLOWED)]
    if not notes:
        return Decision("allow", ALLOWED, (ALLOWED,), version)
    return Decision("allow", notes[0], tuple(dict.fromkeys(notes)), version)


def suppressed(channel: ChannelPlan, policy: NoticePolicy) -> Decision:
    assert channel.suppressed is not None
    return Decision("suppress", channel.suppressed, (channel.suppressed,), f"notice-{policy.version}")


@cache
def default_policy() -> NoticePolicy:
    raw = json.loads(resources.files("xiaodai.notify").joinpath("data/notice_policy.json").read_text("utf-8"))
    return from_document(raw)


def from_document(raw: Mapping[str, Any]) -> NoticePolicy:
    for key in ("version", "contact_profile", "borrower_timezone", "reminders", "channels", "kinds"):
        if key not in raw:
            raise PolicyError(f"notice policy: missing {key!r}")
    policy = NoticePolicy(str(raw["version"]), raw)
    for name in policy.kinds():
        rule = policy.kind(name)
        if rule.template not in raw["templates"]:
            raise PolicyError(f"notice policy: kind {name!r} names an unknown template {rule.template!r}")
    return policy
