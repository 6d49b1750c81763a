"""Notifications shell: notices, the borrower's channel choices, the outbox and its sender.

Flow: a notice is enqueued once per ``dedupe_key`` (a reminder the day calls for, a failed debit, a limit
change another domain reports through ``enqueue_notice``). Deciding it asks, for each channel the policy
and the borrower's choices give it, the contact-policy engine (hours, holds, the message screen) and our
daily cap; every decision is an outbox row with its reason codes. Only allowed rows are ``queued``; the
sender marks them ``sent``. A channel blocked for a passing reason (quiet hours, the daily cap) is decided
again on later runs until the notice's retry window closes; any other block is final. The caller commits.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
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
    InstallmentRow,
    LoanRow,
    NoticeOutboxRow,
    NoticePreferenceRow,
    NoticeRow,
    UserRow,
)
from xiaodai.db.tables.payments import DebitAttemptRow
from xiaodai.notify.reminder_policy import (
    Category,
    ChannelPlan,
    Decision,
    NoticePolicy,
    PolicyError,
    Preferences,
    decide,
    default_policy,
    suppressed,
)
from xiaodai.notify.senders import Sender, SimulatedSender
from xiaodai.servicing.errors import ServicingError

DEFAULT_SENDER: Sender = SimulatedSender()
OPEN_COMPLAINT = ("triage", "open")
# The borrower's own contact points, by reference: the outbox never holds a number or an address.
PHONE_ID, EMAIL_ID = "M1", "E1"


class NoticeError(ServicingError):
    """A notice that cannot be made: unknown borrower or kind, a payload its template cannot use (4xx)."""


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _fen_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


# ------------------------------------------------------------------------------------------ preferences


def preferences(session: Session, *, borrower_id: int) -> Preferences:
    row = session.get(NoticePreferenceRow, borrower_id)
    if row is None:
        return Preferences()
    return Preferences(sms=row.sms, email=row.email, marketing_opt_out=row.marketing_opt_out)


def preferences_view(session: Session, *, borrower_id: int) -> dict[str, Any]:
    prefs = preferences(session, borrower_id=borrower_id)
    return {
        "borrower_id": borrower_id,
        "app_inbox": True,
        "sms": prefs.sms,
        "email": prefs.email,
        "marketing_opt_out": prefs.marketing_opt_out,
        "legal_notices": "always",  # app inbox and SMS whatever the choices (docs/domains/notifications.md)
    }


def set_preferences(
    session: Session,
    *,
    borrower_id: int,
    sms: bool | None = None,
    email: bool | None = None,
    marketing_opt_out: bool | None = None,
) -> dict[str, Any]:
    user = session.get(UserRow, borrower_id)
    if user is None or user.kind != "borrower":
        raise NoticeError(f"borrower {borrower_id} does not exist")
    row = session.get(NoticePreferenceRow, borrower_id)
    if row is None:
        defaults = Preferences()
        row = NoticePreferenceRow(
            borrower_id=borrower_id,
            sms=defaults.sms,
            email=defaults.email,
            marketing_opt_out=defaults.marketing_opt_out,
        )
        session.add(row)
    if sms is not None:
        row.sms = sms
    if email is not None:
        row.email = email
    if marketing_opt_out is not None:
        row.marketing_opt_out = marketing_opt_out
    row.updated_at = datetime.now(tz=UTC)
    session.flush()
    return preferences_view(session, borrower_id=borrower_id)


# -------------------------------------------------------------------------------------------- enqueue


def enqueue_notice(
    session: Session,
    borrower_id: int,
    kind: str,
    payload: Mapping[str, Any],
    *,
    business_date: date,
    dedupe_key: str | None = None,
    loan_id: int | None = None,
    as_of: datetime | None = None,
    policy: NoticePolicy | None = None,
) -> dict[str, Any]:
    """Record that ``borrower_id`` is owed a ``kind`` notice (once per ``dedupe_key``; default
    ``<kind>:<borrower>:<business date>``). With ``as_of`` it is decided at once (outbox rows written,
    allowed ones queued for the sender); without, the next ``drain`` decides it. Other domains call this,
    e.g. a credit line's limit change: ``enqueue_notice(s, 7, "limit_decrease", {"old_limit": "20000.00",
    "new_limit": "10000.00", "reason": "BUREAU_DETERIORATION"}, business_date=day, as_of=now)``."""
    chosen = policy or default_policy()
    try:
        rule = chosen.kind(kind)
    except PolicyError as exc:
        raise NoticeError(str(exc)) from None
    user = session.get(UserRow, borrower_id)
    if user is None or user.kind != "borrower":
        raise NoticeError(f"borrower {borrower_id} does not exist")
    if loan_id is not None:
        loan = session.get(LoanRow, loan_id)
        if loan is None or loan.borrower_id != borrower_id:
            raise NoticeError(f"loan {loan_id} is not borrower {borrower_id}'s")
    full = {"loan_id": loan_id, **payload} if loan_id is not None else dict(payload)
    try:
        chosen.render(rule, "zh", full)  # refuse a payload the template cannot use, before storing it
        chosen.render(rule, "en", full)
    except PolicyError as exc:
        raise NoticeError(str(exc)) from None
    key = dedupe_key or f"{kind}:{borrower_id}:{business_date.isoformat()}"
    row = session.execute(select(NoticeRow).where(NoticeRow.dedupe_key == key)).scalar_one_or_none()
    created = row is None
    if row is None:
        row = NoticeRow(
            dedupe_key=key,
            borrower_id=borrower_id,
            loan_id=loan_id,
            kind=kind,
            category=rule.category.value,
            business_date=business_date,
            payload_json=json.dumps(full, ensure_ascii=False, sort_keys=True),
            status="open",
        )
        session.add(row)
        session.flush()
    decisions = decide_notice(session, row, as_of=as_of, policy=chosen) if as_of is not None else []
    return {**notice_view(row), "created": created, "decisions": decisions}


def notice_view(row: NoticeRow) -> dict[str, Any]:
    return {
        "notice_id": row.id,
        "dedupe_key": row.dedupe_key,
        "borrower_id": row.borrower_id,
        "loan_id": row.loan_id,
        "kind": row.kind,
        "category": row.category,
        "business_date": row.business_date.isoformat(),
        "status": row.status,
        "reason": row.reason,
    }


# ------------------------------------------------------------------------------------------- deciding


def _case_for(session: Session, notice: NoticeRow, policy: NoticePolicy) -> ContactCase:
    """What the engine knows about this borrower for this notice: their zone and own contact points, the
    flags on the loan's collection case (dispute, hardship plan, agreed hours…), and a complaint hold when
    a complaint of theirs about this loan (or about no loan) is still being handled."""
    base = ContactCase(
        timezone=policy.timezone,
        phones=(Phone(PHONE_ID, "mobile", owner="borrower"),),
        emails=(Email(EMAIL_ID, "personal", source="consumer_provided", consumer_consented=True),),
    )
    flags = Flags()
    if notice.loan_id is not None:
        case = session.get(CollectionCaseRow, notice.loan_id)
        if case is not None:
            try:
                stored = parse_case(json.loads(case.context_json or "{}"))
            except (ContactDocumentError, ValueError):
                stored = None  # an unreadable case context: no flags from it (the case itself is refused)
            if stored is not None:
                flags = stored.flags
                if stored.timezone:
                    base = replace(base, timezone=stored.timezone)
    loan_filter = (
        ComplaintRow.loan_id.is_(None)
        if notice.loan_id is None
        else ComplaintRow.loan_id.is_(None) | (ComplaintRow.loan_id == notice.loan_id)
    )
    complaint_open = session.execute(
        select(func.count())
        .select_from(ComplaintRow)
        .where(
            ComplaintRow.user_id == notice.borrower_id, ComplaintRow.status.in_(OPEN_COMPLAINT), loan_filter
        )
    ).scalar_one()
    if complaint_open:
        flags = replace(flags, complaint_hold=True)
    # the borrower's collection opt-outs are about collection: a notice's channels follow their choices
    return replace(base, flags=replace(flags, opted_out=()))


def _history(session: Session, notice: NoticeRow) -> list[PriorContact]:
    """The loan's logged collection contacts (allowed), as the engine's history."""
    if notice.loan_id is None:
        return []
    rows = session.execute(
        select(ContactAttemptRow)
        .where(ContactAttemptRow.loan_id == notice.loan_id, ContactAttemptRow.decision == "allow")
        .order_by(ContactAttemptRow.attempted_at)
    ).scalars()
    return [
        PriorContact(
            _aware(r.attempted_at),
            r.target_type,
            r.channel,
            r.phone_id,
            r.contact_id,
            r.initiated_by,
            r.outcome or "",
        )
        for r in rows
    ]


def _local_day(as_of: datetime, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    day = as_of.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def allowed_today(session: Session, *, borrower_id: int, channel: str, as_of: datetime, zone: str) -> int:
    """Messages already allowed on ``channel`` to this borrower in their local day: our outbox and the
    collection contact log of their loans."""
    start, end = _local_day(as_of, zone)
    ours = session.execute(
        select(func.count())
        .select_from(NoticeOutboxRow)
        .where(
            NoticeOutboxRow.borrower_id == borrower_id,
            NoticeOutboxRow.channel == channel,
            NoticeOutboxRow.decision == "allow",
            NoticeOutboxRow.decided_at >= start,
            NoticeOutboxRow.decided_at < end,
        )
    ).scalar_one()
    collections = session.execute(
        select(func.count())
        .select_from(ContactAttemptRow)
        .join(LoanRow, LoanRow.id == ContactAttemptRow.loan_id)
        .where(
            LoanRow.borrower_id == borrower_id,
            ContactAttemptRow.channel == channel,
            ContactAttemptRow.decision == "allow",
            ContactAttemptRow.attempted_at >= start,
            ContactAttemptRow.attempted_at < end,
        )
    ).scalar_one()
    return int(ours) + int(collections)


def _pending(rows: Sequence[NoticeOutboxRow], retry: frozenset[str]) -> bool:
    """A channel still to decide: never decided, or its last decision a block for a passing reason."""
    if not rows:
        return True
    if any(r.decision == "allow" for r in rows):
        return False
    last = max(rows, key=lambda r: r.id)
    return last.decision == "block" and last.reason in retry


def _address(channel: str, borrower_id: int) -> str:
    return {"sms": "mobile", "email": "email", "app_inbox": "inbox"}.get(channel, channel) + f":{borrower_id}"


def decide_notice(
    session: Session, notice: NoticeRow, *, as_of: datetime, policy: NoticePolicy | None = None
) -> list[dict[str, Any]]:
    """Decide every channel of ``notice`` still to decide; write one outbox row per decision."""
    if as_of.tzinfo is None:
        raise NoticeError("as_of must carry its UTC offset")
    chosen = policy or default_policy()
    rule = chosen.kind(notice.kind)
    user = session.get(UserRow, notice.borrower_id)
    assert user is not None
    lang = user.lang if user.lang in ("zh", "en") else "zh"
    payload = json.loads(notice.payload_json or "{}")
    body = chosen.render(rule, lang, payload)
    existing: dict[str, list[NoticeOutboxRow]] = {}
    for r in session.execute(select(NoticeOutboxRow).where(NoticeOutboxRow.notice_id == notice.id)).scalars():
        existing.setdefault(r.channel, []).append(r)
    plans = chosen.channels(rule.category, preferences(session, borrower_id=notice.borrower_id))
    retry = chosen.retry_reasons()
    local_today = as_of.astimezone(ZoneInfo(chosen.timezone)).date()
    expired = local_today > notice.business_date + timedelta(days=chosen.retry_days(rule.category))
    out: list[dict[str, Any]] = []
    profile = load_profile(chosen.contact_profile)
    case: ContactCase | None = None
    history: list[PriorContact] = []
    for plan in plans:
        if not _pending(existing.get(plan.channel, []), retry):
            continue
        if expired and (existing.get(plan.channel) or rule.category is not Category.LEGAL):
            continue  # past its window: a stale "due today" is never sent; a legal notice still goes once
        if plan.suppressed is not None:
            decision = suppressed(plan, chosen)
        else:
            if case is None:  # read once, and only when some channel is up to the engine
                case, history = _case_for(session, notice, chosen), _history(session, notice)
            decision = _decide_channel(
                session,
                notice=notice,
                plan=plan,
                category=rule.category,
                purpose=rule.purpose,
                body=body,
                as_of=as_of,
                policy=chosen,
                profile=profile,
                case=case,
                history=history,
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
        session.flush()  # the next channel's daily count sees this one
        existing.setdefault(plan.channel, []).append(row)
        out.append(outbox_view(row))
    _settle(notice, existing, plans, retry, expired)
    session.flush()
    return out


def _decide_channel(
    session: Session,
    *,
    notice: NoticeRow,
    plan: ChannelPlan,
    category: Category,
    purpose: str,
    body: str,
    as_of: datetime,
    policy: NoticePolicy,
    profile: Any,
    case: ContactCase,
    history: list[PriorContact],
) -> Decision:
    """The engine's verdict on this channel (hours, holds, the message screen), then our daily cap."""
    attempt = Attempt(
        "contact",
        plan.channel,
        target_type="borrower",  # a notice goes to the borrower only, never to a third party
        phone_id=PHONE_ID if plan.channel == "sms" else None,
        email_id=EMAIL_ID if plan.channel == "email" else None,
        message=body,
        purpose=purpose,
        initiated_by="system",
    )
    verdict = evaluate(profile, case, history, attempt, as_of)
    capped = policy.daily_cap(category, plan.channel) is not None
    count = (  # counted only where a cap applies (not the inbox, not legal notices)
        allowed_today(
            session,
            borrower_id=notice.borrower_id,
            channel=plan.channel,
            as_of=as_of,
            zone=case.timezone or policy.timezone,
        )
        if capped
        else 0
    )
    return decide(
        verdict.decision,
        verdict.reason,
        verdict.reasons,
        verdict.rule_version,
        policy=policy,
        category=category,
        channel=plan,
        allowed_today=count,
    )


def _settle(
    notice: NoticeRow,
    rows: Mapping[str, Sequence[NoticeOutboxRow]],
    plans: Sequence[ChannelPlan],
    retry: frozenset[str],
    expired: bool,
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
    last = max(mine, key=lambda r: r.id)
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
        "decided_at": _aware(row.decided_at).isoformat(),
        "sent_at": _aware(row.sent_at).isoformat() if row.sent_at else None,
    }


# ----------------------------------------------------------------------------------------- reminders


def plan_reminders(session: Session, *, day: date, policy: NoticePolicy | None = None) -> int:
    """Enqueue the reminders ``day`` calls for: T−3/T−1/T0 (the policy's days) for every unpaid instalment
    of a loan that is not in arrears, and one after each debit that failed on ``day``. Returns how many
    notices were new. Loans in arrears are collections' (``collections.strategy``), not reminded here."""
    chosen = policy or default_policy()
    remaining = (
        InstallmentRow.principal_fen
        + InstallmentRow.interest_fen
        + InstallmentRow.fee_fen
        - InstallmentRow.paid_principal_fen
        - InstallmentRow.paid_interest_fen
        - InstallmentRow.paid_fee_fen
    )
    horizon = [day + timedelta(days=d) for d in chosen.reminder_horizon()]
    rows = session.execute(
        select(
            InstallmentRow.id, InstallmentRow.loan_id, InstallmentRow.due_on, remaining, LoanRow.borrower_id
        )
        .join(LoanRow, LoanRow.id == InstallmentRow.loan_id)
        .where(
            InstallmentRow.active,
            InstallmentRow.due_on.in_(horizon),
            remaining > 0,
            LoanRow.state == "active",
            LoanRow.dpd == 0,
            LoanRow.borrower_id.is_not(None),
        )
        .order_by(InstallmentRow.due_on, InstallmentRow.loan_id)
    ).all()
    new = 0
    for inst_id, loan_id, due_on, left, borrower_id in rows:
        step = chosen.reminder_step(due_on, day)
        if step is None:
            continue
        kind, name = step
        made = enqueue_notice(
            session,
            int(borrower_id or 0),
            kind,
            {"amount": _fen_text(int(left)), "due_date": due_on.isoformat(), "step": name},
            business_date=day,
            dedupe_key=f"reminder:{name}:{inst_id}",
            loan_id=int(loan_id),
            policy=chosen,
        )
        new += int(made["created"])
    if chosen.remind_failed_debits:
        failed = session.execute(
            select(DebitAttemptRow, LoanRow.borrower_id)
            .join(LoanRow, LoanRow.id == DebitAttemptRow.loan_id)
            .where(
                DebitAttemptRow.business_date == day,
                DebitAttemptRow.status == "failed",
                LoanRow.borrower_id.is_not(None),
                LoanRow.state.in_(("active", "overdue")),
            )
            .order_by(DebitAttemptRow.id)
        ).all()
        for attempt, borrower_id in failed:
            made = enqueue_notice(
                session,
                int(borrower_id or 0),
                "debit_failed",
                {"amount": _fen_text(attempt.amount_fen), "reason": attempt.reason or "DEBIT_FAILED"},
                business_date=day,
                dedupe_key=f"debit_failed:{attempt.channel_ref}",
                loan_id=int(attempt.loan_id),
                policy=chosen,
            )
            new += int(made["created"])
    return new


def dispatch(session: Session, *, sender: Sender | None = None, as_of: datetime, limit: int = 10_000) -> int:
    """Hand queued outbox rows to the sender and mark them sent (PostgreSQL: rows another dispatcher holds
    are skipped, never sent twice). A sender that raises leaves its row queued for the next run."""
    chosen = sender or DEFAULT_SENDER
    rows = list(
        session.execute(
            select(NoticeOutboxRow)
            .where(NoticeOutboxRow.status == "queued")
            .order_by(NoticeOutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    sent = 0
    for row in rows:
        try:
            ref = chosen.send(
                channel=row.channel, address_ref=row.address_ref, body=row.body, outbox_id=row.id
            )
        except Exception:  # a channel's failure keeps the message queued
            continue
        row.status, row.sent_at, row.sender_ref = "sent", as_of.astimezone(UTC), ref
        sent += 1
    session.flush()
    return sent


def drain(
    session: Session, *, as_of: datetime, sender: Sender | None = None, policy: NoticePolicy | None = None
) -> dict[str, int]:
    """Decide every open notice (new ones, and channels blocked for a passing reason), then send what is
    queued. The worker calls this on every tick."""
    chosen = policy or default_policy()
    decided: Counter[str] = Counter()
    notices = session.execute(
        select(NoticeRow).where(NoticeRow.status == "open").order_by(NoticeRow.id)
    ).scalars()
    for notice in list(notices):
        for decision in decide_notice(session, notice, as_of=as_of, policy=chosen):
            decided[decision["decision"]] += 1
    return {
        **{k: decided[k] for k in ("allow", "block", "suppress")},
        "sent": dispatch(session, sender=sender, as_of=as_of),
    }


def run_reminders(
    session: Session,
    *,
    day: date,
    as_of: datetime,
    sender: Sender | None = None,
    policy: NoticePolicy | None = None,
) -> dict[str, Any]:
    """``xiaodai notify run --date D`` and the scheduler's ``reminders`` job: plan the day's reminders,
    decide every open notice, send what is allowed. Idempotent per business date: a notice exists once
    per key and a channel is allowed at most once."""
    chosen = policy or default_policy()
    created = plan_reminders(session, day=day, policy=chosen)
    counts = drain(session, as_of=as_of, sender=sender, policy=chosen)
    return {
        "date": day.isoformat(),
        "at": as_of.isoformat(),
        "notices_created": created,
        **counts,
        **day_report(session, day=day),
    }


def day_report(session: Session, *, day: date) -> dict[str, Any]:
    """The business date's notices by status, and every decision on them by reason."""
    statuses = dict(
        session.execute(
            select(NoticeRow.status, func.count())
            .where(NoticeRow.business_date == day)
            .group_by(NoticeRow.status)
        ).all()
    )
    reasons = dict(
        session.execute(
            select(NoticeOutboxRow.reason, func.count())
            .join(NoticeRow, NoticeRow.id == NoticeOutboxRow.notice_id)
            .where(NoticeRow.business_date == day)
            .group_by(NoticeOutboxRow.reason)
        ).all()
    )
    return {
        "notices": {str(k): int(v) for k, v in sorted(statuses.items())},
        "decisions_by_reason": {str(k): int(v) for k, v in sorted(reasons.items())},
    }


def notices_for(
    session: Session, *, day: date | None = None, borrower_id: int | None = None
) -> list[dict[str, Any]]:
    query = select(NoticeRow).order_by(NoticeRow.id)
    if day is not None:
        query = query.where(NoticeRow.business_date == day)
    if borrower_id is not None:
        query = query.where(NoticeRow.borrower_id == borrower_id)
    notices = list(session.execute(query).scalars())
    rows: dict[int, list[dict[str, Any]]] = {}
    if notices:
        for r in session.execute(
            select(NoticeOutboxRow)
            .where(NoticeOutboxRow.notice_id.in_([n.id for n in notices]))
            .order_by(NoticeOutboxRow.id)
        ).scalars():
            rows.setdefault(r.notice_id, []).append(outbox_view(r))
    return [{**notice_view(n), "decisions": rows.get(n.id, [])} for n in notices]


# -------------------------------------------------------------------------------------------- inbox


def inbox(session: Session, *, borrower_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """What was sent to the borrower, newest first, on every channel (the app inbox keeps them all)."""
    rows = session.execute(
        select(NoticeOutboxRow, NoticeRow.kind, NoticeRow.category)
        .join(NoticeRow, NoticeRow.id == NoticeOutboxRow.notice_id)
        .where(NoticeOutboxRow.borrower_id == borrower_id, NoticeOutboxRow.status == "sent")
        .order_by(NoticeOutboxRow.sent_at.desc(), NoticeOutboxRow.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "outbox_id": r.id,
            "kind": kind,
            "category": category,
            "channel": r.channel,
            "body": r.body,
            "sent_at": _aware(r.sent_at).isoformat() if r.sent_at else None,
            "read": r.read_at is not None,
        }
        for r, kind, category in rows
    ]


def mark_read(session: Session, *, borrower_id: int, as_of: datetime) -> int:
    """Mark every message the inbox shows the borrower (all channels) read; returns how many."""
    rows = session.execute(
        select(NoticeOutboxRow).where(
            NoticeOutboxRow.borrower_id == borrower_id,
            NoticeOutboxRow.status == "sent",
            NoticeOutboxRow.read_at.is_(None),
        )
    ).scalars()
    count = 0
    for row in rows:
        row.read_at = as_of.astimezone(UTC)
        count += 1
    session.flush()
    return count
