"""The platform's scheduled jobs. Each is idempotent per business date, so a retry, a re-run or two runners
racing never post twice:

- ``servicing.eod``: end of day up to the date (``eod_steps``: a committed step is skipped on a re-run);
- ``payments.run_debits``: the debit batch (a debit's ``channel_ref`` is unique per instalment and attempt);
  with the sandbox channel, its settlement file for the date is written to the settlement directory;
- ``notify.reminders``: the day's reminders (a notice once per key, a channel allowed at most once);
- ``payments.reconcile``: the channel's settlement file for the date, when it is there (suspense moved by
  difference); until then the run waits;
- ``payments.query_payouts``: payouts still pending ``payout.QUERY_AFTER`` after they were sent (their
  callback never came) are settled by the channel's status query (a settled payout is not asked again);
- ``lines.review_due``: the periodic review of credit lines last reviewed 90+ days ago (a reviewed line
  carries the date, so a re-run that day finds nothing left to review).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from xiaodai.jobs.runner import JobContext, JobError, NotReady, handler

MAX_EOD_DAYS = 31  # as ``xiaodai eod``: a longer catch-up is a person's decision


def settlement_dir() -> Path:
    return Path(os.environ.get("XIAODAI_SETTLEMENT_DIR", "var/settlement"))


def settlement_path(day: date) -> Path:
    return settlement_dir() / f"settlement-{day.isoformat()}.csv"


def _sandbox_seed() -> int:
    text = os.environ.get("XIAODAI_SANDBOX_SEED", "0")
    if not text.isdigit():
        raise JobError(f"XIAODAI_SANDBOX_SEED must be a non-negative integer, got {text!r}")
    return int(text)


@handler("servicing.eod")
def eod(ctx: JobContext) -> dict[str, Any]:
    from xiaodai.servicing.eod import days_to_run, last_completed_day, run_day

    closed = last_completed_day(ctx.engine)
    if closed is not None and ctx.business_date < closed:  # days close in order: never one behind the last
        return {"closed_through": closed.isoformat(), "days": {}}
    days = days_to_run(ctx.engine, ctx.business_date)
    if len(days) > MAX_EOD_DAYS:
        raise JobError(
            f"end of day would close {len(days)} business dates ({days[0]} to {days[-1]}): more than "
            f"{MAX_EOD_DAYS} needs a person (xiaodai eod --max-days)"
        )
    out: dict[str, Any] = {}
    for day in days:
        results = run_day(ctx.engine, day)
        out[day.isoformat()] = {r.step: ("skipped" if r.skipped else r.rows) for r in results}
    return {"days": out}


@handler("payments.run_debits")
def debits(ctx: JobContext) -> dict[str, Any]:
    from xiaodai.payments import batch
    from xiaodai.payments.debit_policy import default_policy
    from xiaodai.payments.sandbox_channel import SandboxChannel
    from xiaodai.payments.settlement_file import parse, render, reports_payouts
    from xiaodai.privacy.keys import current_ring

    channel = SandboxChannel(seed=_sandbox_seed())
    # the set-based batch, as ``xiaodai debit run``: claim (committed), the channel outside any lock, booking
    # in chunks; a retry after a crash re-sends the pending claims and the channel answers as the first time
    result = batch.run_debit_batch(
        ctx.factory, channel=channel, ring=current_ring(), on=ctx.business_date, policy=default_policy()
    )
    lines = channel.settlement_lines(ctx.business_date)
    if lines:  # the simulated channel "sends" its file; a re-run adds only references not yet in it
        path = settlement_path(ctx.business_date)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        old = parse(text, on=ctx.business_date) if text else []
        known = {line.channel_ref for line in old}
        # this process's sandbox paid nothing out: a debits-only file, unless the day's file reported payouts
        payouts = channel.reports_payouts or (bool(text) and reports_payouts(text))
        merged = render([*old, *(x for x in lines if x.channel_ref not in known)], payouts=payouts)
        path.write_text(merged, encoding="utf-8")
    return {"counts": result["counts"]}


@handler("notify.reminders")
def reminders(ctx: JobContext) -> dict[str, Any]:
    from xiaodai.notify import service

    with ctx.factory() as session, session.begin():
        return service.run_reminders(session, day=ctx.business_date, as_of=ctx.now)


@handler("payments.reconcile")
def reconcile(ctx: JobContext) -> dict[str, Any]:
    from xiaodai.payments.reconcile_file import reconcile_file

    path = settlement_path(ctx.business_date)
    if not path.exists():
        raise NotReady(f"settlement file {path}")
    report = reconcile_file(ctx.factory, path, on=ctx.business_date)  # whole file at once, replay-safe
    return {
        "file": str(path),
        "counts": report["counts"],
        "suspense_posted_fen": report["suspense_posted_fen"],
    }


@handler("payments.query_payouts")
def payout_query(ctx: JobContext) -> dict[str, Any]:
    from xiaodai.payments import payout
    from xiaodai.payments.sandbox_channel import SandboxChannel

    # the simulated channel of this process: it knows no payout another process sent, so it answers "not
    # received" and the payout is sent again under its reference (a real channel answers from its records)
    channel = SandboxChannel(seed=_sandbox_seed())
    with ctx.factory() as session, session.begin():
        result = payout.query_pending(session, channel=channel, on=ctx.business_date, as_of=ctx.now)
    return {"asked": result["asked"], "counts": result["counts"]}


@handler("lines.review_due")
def line_review(ctx: JobContext) -> dict[str, Any]:
    from xiaodai.lines import service as lines

    reviewed: list[dict[str, Any]] = []
    while True:  # in batches, each its own transaction: a failure keeps the batches already reviewed
        with ctx.factory() as session, session.begin():
            batch = lines.review_due(session, on=ctx.business_date, actor="job:line_review", limit=200)
        reviewed += batch
        if len(batch) < 200:
            break
    outcomes: dict[str, int] = {}
    for result in reviewed:
        key = str(result["action"])
        outcomes[key] = outcomes.get(key, 0) + 1
    return {"reviewed": len(reviewed), "outcomes": outcomes}
