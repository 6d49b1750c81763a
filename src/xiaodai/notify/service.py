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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
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
T = TypeVar("T")


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


CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


def _chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _local_day(as_of: datetime, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    day = as_of.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


@dataclass
class _Context:
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


def _load_context(
    session: Session, notices: Sequence[NoticeRow], *, as_of: datetime, policy: NoticePolicy
) -> _Context:
    ctx = _Context()
    borrowers = sorted({n.borrower_id for n in notices})
    loans = sorted({n.loan_id for n in notices if n.loan_id is not None})
    ids = [n.id for n in notices]
    start, end = _local_day(as_of, policy.timezone)
    for chunk in _chunks(borrowers):
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
    for chunk in _chunks(loans):
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
                    _aware(r.attempted_at),
                    r.target_type,
                    r.channel,
                    r.phone_id,
                    r.contact_id,
                    r.initiated_by,
                    r.outcome or "",
                )
            )
    for chunk in _chunks(ids):
        for done in session.execute(
            select(NoticeOutboxRow).where(NoticeOutboxRow.notice_id.in_(chunk)).order_by(NoticeOutboxRow.id)
        ).scalars():
            ctx.existing.setdefault(done.notice_id, {}).setdefault(done.channel, []).append(done)
    return ctx


def _case_for(ctx: _Context, notice: NoticeRow, policy: NoticePolicy) -> ContactCase:
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
    context: _Context | None = None,
) -> list[dict[str, Any]]:
    """Decide every channel of ``notice`` still to decide; write one outbox row per decision. ``context``
    is the batch's (``drain``); alone, the notice reads its own."""
    if as_of.tzinfo is None:
        raise NoticeError("as_of must carry its UTC offset")
    chosen = policy or default_policy()
    ctx = context or _load_context(session, [notice], as_of=as_of, policy=chosen)
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
    wanted: dict[str, tuple[int, int, str, dict[str, Any]]] = {}  # key → (borrower, loan, kind, payload)
    for inst_id, loan_id, due_on, left, borrower_id in session.execute(
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
    ):
        step = chosen.reminder_step(due_on, day)
        if step is not None:
            kind, name = step
            payload = {"amount": _fen_text(int(left)), "due_date": due_on.isoformat(), "step": name}
            wanted[f"reminder:{name}:{inst_id}"] = (int(borrower_id or 0), int(loan_id), kind, payload)
    if chosen.remind_failed_debits:
        for attempt, borrower_id in session.execute(
            select(DebitAttemptRow, LoanRow.borrower_id)
            .join(LoanRow, LoanRow.id == DebitAttemptRow.loan_id)
            .where(
                DebitAttemptRow.business_date == day,
                DebitAttemptRow.status == "failed",
                LoanRow.borrower_id.is_not(None),
                LoanRow.state.in_(("active", "overdue")),
            )
            .order_by(DebitAttemptRow.id)
        ):
            payload = {"amount": _fen_text(attempt.amount_fen), "reason": attempt.reason or "DEBIT_FAILED"}
            wanted[f"debit_failed:{attempt.channel_ref}"] = (
                int(borrower_id or 0),
                int(attempt.loan_id),
                "debit_failed",
                payload,
            )
    keys = list(wanted)
    known: set[str] = set()
    for chunk in _chunks(keys):
        known.update(
            session.execute(select(NoticeRow.dedupe_key).where(NoticeRow.dedupe_key.in_(chunk))).scalars()
        )
    new = [k for k in keys if k not in known]
    for key in new:  # the rows come from our own tables: borrower and loan are known to belong together
        borrower_id, loan_id, kind, payload = wanted[key]
        rule = chosen.kind(kind)
        session.add(
            NoticeRow(
                dedupe_key=key,
                borrower_id=borrower_id,
                loan_id=loan_id,
                kind=kind,
                category=rule.category.value,
                business_date=day,
                payload_json=json.dumps({"loan_id": loan_id, **payload}, ensure_ascii=False, sort_keys=True),
                status="open",
            )
        )
    session.flush()
    return len(new)


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
    notices = list(
        session.execute(select(NoticeRow).where(NoticeRow.status == "open").order_by(NoticeRow.id)).scalars()
    )
    ctx = _load_context(session, notices, as_of=as_of, policy=chosen)
    for notice in notices:
        for decision in decide_notice(session, notice, as_of=as_of, policy=chosen, context=ctx):
            decided[decision["decision"]] += 1
    sent = dispatch(session, sender=sender, as_of=as_of)
    return {**{k: decided[k] for k in ("allow", "block", "suppress")}, "sent": sent}


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
