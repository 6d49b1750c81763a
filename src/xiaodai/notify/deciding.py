"""Deciding a notice's channels: the contact-policy engine (hours, holds, the message screen) and our daily
cap, one outbox row per decision with its reason codes; the notice's status from its rows."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.collections.contact_document import ContactDocumentError, parse_case
from xiaodai.collections.contact_facts import Attempt, ContactCase, Email, Flags, Phone, PriorContact
from xiaodai.collections.contact_policy import evaluate, load_profile
from xiaodai.db.tables import (
    CollectionCaseRow,
    ComplaintRow,
    ContactAttemptRow,
    LoanRow,
    NoticeOutboxRow,
    NoticePreferenceRow,
    NoticeRow,
    UserRow,
)
from xiaodai.notify.basics import NoticeError, aware, chunks
from xiaodai.notify.reminder_policy import (
    Category,
    ChannelPlan,
    NoticePolicy,
    Preferences,
    decide,
    default_policy,
    suppressed,
)

OPEN_COMPLAINT = ("triage", "open")
# The borrower's own contact points, by reference: the outbox never holds a number or an address.
PHONE_ID, EMAIL_ID = "M1", "E1"


def _local_day(as_of: datetime, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    day = as_of.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


@dataclass
class DecideContext:
    """What deciding a batch of notices reads, read once for the batch (a few queries, not a few per
    notice): languages, choices, collection-case flags, open complaints, the loans' collection logs, the
    channels already decided, and the messages allowed so far in the borrower's local day."""

    langs: dict[int, str] = field(default_factory=dict)
    prefs: dict[int, Preferences] = field(default_factory=dict)
    cases: dict[int, ContactCase] = field(default_factory=dict)
    complaints: set[tuple[int, int | None]] = field(default_factory=set)  # (borrower, loan or None)
    history: dict[int, list[PriorContact]] = field(default_factory=dict)
    existing: dict[int, dict[str, list[NoticeOutboxRow]]] = field(default_factory=dict)
    counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (borrower, channel) allowed today


def load_context(
    session: Session, notices: Sequence[NoticeRow], *, as_of: datetime, policy: NoticePolicy
) -> DecideContext:
    ctx = DecideContext()
    borrowers = sorted({n.borrower_id for n in notices})
    loans = sorted({n.loan_id for n in notices if n.loan_id is not None})
    ids = [n.id for n in notices]
    start, end = _local_day(as_of, policy.timezone)
    for chunk in chunks(borrowers):
        for uid, lang in session.execute(select(UserRow.id, UserRow.lang).where(UserRow.id.in_(chunk))):
            ctx.langs[uid] = lang if lang in ("zh", "en") else "zh"
        for row in session.execute(
            select(NoticePreferenceRow).where(NoticePreferenceRow.borrower_id.in_(chunk))
        ).scalars():
            ctx.prefs[row.borrower_id] = Preferences(row.sms, row.email, row.marketing_opt_out)
        for who, about in session.execute(
            select(ComplaintRow.user_id, ComplaintRow.loan_id).where(
                ComplaintRow.user_id.in_(chunk), ComplaintRow.status.in_(OPEN_COMPLAINT)
            )
        ):
            ctx.complaints.add((int(who or 0), about))
        for uid, channel, n in session.execute(
            select(NoticeOutboxRow.borrower_id, NoticeOutboxRow.channel, func.count())
            .where(
                NoticeOutboxRow.borrower_id.in_(chunk),
                NoticeOutboxRow.decision == "allow",
                NoticeOutboxRow.decided_at >= start,
                NoticeOutboxRow.decided_at < end,
            )
            .group_by(NoticeOutboxRow.borrower_id, NoticeOutboxRow.channel)
        ):
            ctx.counts[(uid, channel)] += int(n)
        for owner, channel, n in session.execute(
            select(LoanRow.borrower_id, ContactAttemptRow.channel, func.count())
            .join(LoanRow, LoanRow.id == ContactAttemptRow.loan_id)
            .where(
                LoanRow.borrower_id.in_(chunk),
                ContactAttemptRow.decision == "allow",
                ContactAttemptRow.attempted_at >= start,
                ContactAttemptRow.attempted_at < end,
            )
            .group_by(LoanRow.borrower_id, ContactAttemptRow.channel)
        ):
            ctx.counts[(int(owner or 0), channel)] += int(n)
    for chunk in chunks(loans):
        for case in session.execute(
            select(CollectionCaseRow).where(CollectionCaseRow.loan_id.in_(chunk))
        ).scalars():
            # an unreadable case context gives no flags (the case itself is refused where it is used)
            with suppress(ContactDocumentError, ValueError):
                ctx.cases[case.loan_id] = parse_case(json.loads(case.context_json or "{}"))
        for r in session.execute(
            select(ContactAttemptRow)
            .where(ContactAttemptRow.loan_id.in_(chunk), ContactAttemptRow.decision == "allow")
            .order_by(ContactAttemptRow.attempted_at)
        ).scalars():
            ctx.history.setdefault(r.loan_id, []).append(
                PriorContact(
                    aware(r.attempted_at),
                    r.target_type,
                    r.channel,
                    r.phone_id,
                    r.contact_id,
                    r.initiated_by,
                    r.outcome or "",
                )
            )
    for chunk in chunks(ids):
        for done in session.execute(
            select(NoticeOutboxRow).where(NoticeOutboxRow.notice_id.in_(chunk)).order_by(NoticeOutboxRow.id)
        ).scalars():
            ctx.existing.setdefault(done.notice_id, {}).setdefault(done.channel, []).append(done)
    return ctx


def _case_for(ctx: DecideContext, notice: NoticeRow, policy: NoticePolicy) -> ContactCase:
    """What the engine knows about this borrower for this notice: their zone and own contact points, the
    flags on the loan's collection case (dispute, hardship plan, agreed hours…), and a complaint hold when
    a complaint of theirs about this loan (or about no loan) is still being handled."""
    base = ContactCase(
        timezone=policy.timezone,
        phones=(Phone(PHONE_ID, "mobile", owner="borrower"),),
        emails=(Email(EMAIL_ID, "personal", source="consumer_provided", consumer_consented=True),),
    )
    flags = Flags()
    stored = ctx.cases.get(notice.loan_id) if notice.loan_id is not None else None
    if stored is not None:
        flags = stored.flags
        if stored.timezone:
            base = replace(base, timezone=stored.timezone)
    if (notice.borrower_id, None) in ctx.complaints or (
        notice.loan_id is not None and (notice.borrower_id, notice.loan_id) in ctx.complaints
    ):
        flags = replace(flags, complaint_hold=True)
    # the borrower's collection opt-outs are about collection: a notice's channels follow their choices
    return replace(base, flags=replace(flags, opted_out=()))


def _pending(rows: Sequence[NoticeOutboxRow], retry: frozenset[str]) -> bool:
    """A channel still to decide: never decided, or its last decision a block for a passing reason."""
    if not rows:
        return True
    if any(r.decision == "allow" for r in rows):
        return False
    last = rows[-1]  # rows are in the order decided (loaded by id, new ones appended)
    return last.decision == "block" and last.reason in retry


def _address(channel: str, borrower_id: int) -> str:
    return {"sms": "mobile", "email": "email", "app_inbox": "inbox"}.get(channel, channel) + f":{borrower_id}"


def decide_notice(
    session: Session,
    notice: NoticeRow,
    *,
    as_of: datetime,
    policy: NoticePolicy | None = None,
    context: DecideContext | None = None,
) -> list[dict[str, Any]]:
    """Decide every channel of ``notice`` still to decide; write one outbox row per decision. ``context``
    is the batch's (``drain``); alone, the notice reads its own."""
    if as_of.tzinfo is None:
        raise NoticeError("as_of must carry its UTC offset")
    chosen = policy or default_policy()
    ctx = context or load_context(session, [notice], as_of=as_of, policy=chosen)
    rule = chosen.kind(notice.kind)
    lang = ctx.langs.get(notice.borrower_id, "zh")
    body = chosen.render(rule, lang, json.loads(notice.payload_json or "{}"))
    existing = ctx.existing.setdefault(notice.id, {})
    plans = chosen.channels(rule.category, ctx.prefs.get(notice.borrower_id, Preferences()))
    retry = chosen.retry_reasons()
    local_today = as_of.astimezone(ZoneInfo(chosen.timezone)).date()
    expired = local_today > notice.business_date + timedelta(days=chosen.retry_days(rule.category))
    made: list[NoticeOutboxRow] = []
    profile = load_profile(chosen.contact_profile)
    case: ContactCase | None = None
    for plan in plans:
        if not _pending(existing.get(plan.channel, []), retry):
            continue
        if expired and (existing.get(plan.channel) or rule.category is not Category.LEGAL):
            continue  # past its window: a stale "due today" is never sent; a legal notice still goes once
        if plan.suppressed is not None:
            decision = suppressed(plan, chosen)
        else:
            case = case or _case_for(ctx, notice, chosen)
            attempt = Attempt(
                "contact",
                plan.channel,
                target_type="borrower",  # a notice goes to the borrower only, never to a third party
                phone_id=PHONE_ID if plan.channel == "sms" else None,
                email_id=EMAIL_ID if plan.channel == "email" else None,
                message=body,
                purpose=rule.purpose,
                initiated_by="system",
            )
            history = ctx.history.get(notice.loan_id, []) if notice.loan_id is not None else []
            verdict = evaluate(profile, case, history, attempt, as_of)  # hours, holds, the message screen
            decision = decide(
                verdict.decision,
                verdict.reason,
                verdict.reasons,
                verdict.rule_version,
                policy=chosen,
                category=rule.category,
                channel=plan,
                allowed_today=ctx.counts[(notice.borrower_id, plan.channel)],
            )
        row = NoticeOutboxRow(
            notice_id=notice.id,
            borrower_id=notice.borrower_id,
            channel=plan.channel,
            address_ref=_address(plan.channel, notice.borrower_id),
            lang=lang,
            body=body,
            decided_at=as_of.astimezone(UTC),
            decision=decision.decision,
            reason=decision.reason,
            reasons=json.dumps(list(decision.reasons)),
            rule_version=decision.rule_version,
            status={"allow": "queued", "block": "blocked", "suppress": "suppressed"}[decision.decision],
        )
        session.add(row)
        if decision.allowed:
            ctx.counts[(notice.borrower_id, plan.channel)] += 1
        existing.setdefault(plan.channel, []).append(row)
        made.append(row)
    _settle(notice, existing, plans, retry=retry, expired=expired, made=made)
    session.flush()  # the partial unique index checks the rows here: a channel is allowed once per notice
    return [outbox_view(r) for r in made]


def _settle(
    notice: NoticeRow,
    rows: Mapping[str, Sequence[NoticeOutboxRow]],
    plans: Sequence[ChannelPlan],
    *,
    retry: frozenset[str],
    expired: bool,
    made: Sequence[NoticeOutboxRow] = (),
) -> None:
    """The notice's status: ``open`` while a channel may still be decided, then ``sent`` (some channel
    allowed), ``blocked`` or ``suppressed``; ``reason`` is the primary reason of the deciding row."""
    mine = [r for plan in plans for r in rows.get(plan.channel, [])]
    allowed = [r for r in mine if r.decision == "allow"]
    if allowed:
        notice.status, notice.reason = "sent", "ALLOWED"
        if any(_pending(rows.get(p.channel, []), retry) for p in plans) and not expired:
            notice.status = "open"
        return
    if not mine:
        notice.status, notice.reason = ("blocked", "NOTICE_EXPIRED") if expired else ("open", None)
        return
    last = made[-1] if made else max(mine, key=lambda r: r.id)  # the latest decision (new rows: no id yet)
    notice.reason = last.reason
    if any(_pending(rows.get(p.channel, []), retry) for p in plans) and not expired:
        notice.status = "open"
    else:
        notice.status = "suppressed" if all(r.decision == "suppress" for r in mine) else "blocked"


def outbox_view(row: NoticeOutboxRow) -> dict[str, Any]:
    return {
        "outbox_id": row.id,
        "notice_id": row.notice_id,
        "channel": row.channel,
        "decision": row.decision,
        "reason": row.reason,
        "reasons": json.loads(row.reasons),
        "rule_version": row.rule_version,
        "status": row.status,
        "decided_at": aware(row.decided_at).isoformat(),
        "sent_at": aware(row.sent_at).isoformat() if row.sent_at else None,
    }
