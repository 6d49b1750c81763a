"""``xiaodai notify run|list|prefs``: the day's reminders through the contact rules, what was decided, and a
borrower's channel choices. Messages go to the outbox and the simulated sender marks them sent."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, parse_day, platform_now, platform_today, run
from xiaodai.notify import service

app = typer.Typer(help="Reminders and notifications (提醒与通知).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh or en")]

LABELS: dict[str, dict[str, str]] = {
    "run": {"zh": "提醒", "en": "Reminders"},
    "new": {"zh": "新通知", "en": "new notices"},
    "allowed": {"zh": "放行", "en": "allowed"},
    "blocked": {"zh": "拦截", "en": "blocked"},
    "suppressed": {"zh": "不发送（用户选择）", "en": "suppressed (borrower's choice)"},
    "sent": {"zh": "已发送", "en": "sent"},
    "by_reason": {"zh": "按原因", "en": "By reason"},
    "kind": {"zh": "类型", "en": "Kind"},
    "channel": {"zh": "渠道", "en": "Channel"},
    "decision": {"zh": "决定", "en": "Decision"},
    "reason": {"zh": "原因", "en": "Reason"},
}


def _t(key: str, lang: str) -> str:
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, got {lang!r}")
    return LABELS[key][lang]


@app.command("run")
def notify_run(
    date_: Annotated[str, typer.Option("--date", help="business date YYYY-MM-DD")],
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Plan the date's reminders (T-3, T-1, due day, failed debits), decide every open notice through the
    contact rules (hours, holds, message screen, daily cap) at this moment, and send what is allowed.
    Idempotent: a notice exists once, a channel is sent at most once."""
    day = parse_day(date_, "--date")
    _t("run", lang)
    if day > platform_today():
        fail(f"--date {day} is after today's business date {platform_today()}: not yet")
    now = platform_now()  # the moment of sending is the clock's, never typed (hours depend on it)
    result = run(lambda s: service.run_reminders(s, day=day, as_of=now))

    def show(r: dict[str, Any]) -> None:
        typer.echo(
            f"{_t('run', lang)} {r['date']}: {_t('new', lang)} {r['notices_created']}, "
            f"{_t('allowed', lang)} {r['allow']}, {_t('blocked', lang)} {r['block']}, "
            f"{_t('suppressed', lang)} {r['suppress']}, {_t('sent', lang)} {r['sent']}"
        )
        if r["decisions_by_reason"]:
            typer.echo(
                f"{_t('by_reason', lang)}: "
                + ", ".join(f"{k} {v}" for k, v in r["decisions_by_reason"].items())
            )

    emit(result, as_json, show)


@app.command("list")
def notify_list(
    date_: Annotated[str | None, typer.Option("--date", help="business date YYYY-MM-DD")] = None,
    borrower: Annotated[int | None, typer.Option("--borrower")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Notices and every decision on them, with reason codes."""
    day = parse_day(date_, "--date") if date_ else None
    _t("kind", lang)
    rows = run(lambda s: service.notices_for(s, day=day, borrower_id=borrower))

    def show(r: list[dict[str, Any]]) -> None:
        table = Table(
            "id", _t("kind", lang), "borrower", _t("channel", lang), _t("decision", lang), _t("reason", lang)
        )
        for n in r:
            for d in n["decisions"] or [
                {"channel": "—", "decision": n["status"], "reason": n["reason"] or ""}
            ]:
                table.add_row(
                    str(n["notice_id"]),
                    n["kind"],
                    str(n["borrower_id"]),
                    d["channel"],
                    d["decision"],
                    d["reason"],
                )
        Console().print(table)

    emit(rows, as_json, show)


@app.command("prefs")
def prefs(
    borrower: Annotated[int, typer.Option("--borrower")],
    sms: Annotated[bool | None, typer.Option("--sms/--no-sms")] = None,
    email: Annotated[bool | None, typer.Option("--email/--no-email")] = None,
    marketing: Annotated[bool | None, typer.Option("--marketing/--no-marketing")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or change a borrower's channels; legal notices go by app inbox and SMS whatever is chosen."""
    if sms is None and email is None and marketing is None:
        result = run(lambda s: service.preferences_view(s, borrower_id=borrower))
    else:
        result = run(
            lambda s: service.set_preferences(
                s,
                borrower_id=borrower,
                sms=sms,
                email=email,
                marketing_opt_out=None if marketing is None else not marketing,
            )
        )
    emit(result, as_json, lambda r: typer.echo(" ".join(f"{k}={v}" for k, v in r.items())))
