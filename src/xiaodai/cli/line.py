"""``xiaodai line grant|show|draw|freeze|unfreeze|close|review``: credit lines from the shell (operators).

Every command takes ``--json``; bad input is one error line and exit 2, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from xiaodai.cli.audit import operator
from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, parse_fen, platform_today, run
from xiaodai.db.tables import UserRow
from xiaodai.journey.service import JourneyError
from xiaodai.lines import service as lines
from xiaodai.lines.limit import LineError, LineState

app = typer.Typer(help="Credit lines (授信额度): grant, show, draw, freeze.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
BorrowerOpt = Annotated[int, typer.Option("--borrower", help="borrower (user) id")]
T = TypeVar("T")
# the drawdown's payout through the payment channel (payments.payout)
PAYOUT_LABELS = {
    "pending": {"zh": "放款处理中（等待银行结果）", "en": "payout pending (waiting for the bank)"},
    "succeeded": {"zh": "已放款", "en": "paid out"},
    "failed": {"zh": "放款失败，借款已取消", "en": "payout failed, the loan is cancelled"},
}


def _run(action: Callable[[Session], T]) -> T:
    try:
        return run(action)
    except (LineError, JourneyError) as exc:
        fail(str(exc))


def _borrower(session: Session, borrower_id: int) -> UserRow:
    user = session.get(UserRow, borrower_id)
    if user is None or user.kind != "borrower":
        raise LineError(f"borrower {borrower_id} does not exist", "LINE_NO_BORROWER")
    return user


def _render_line(view: dict[str, Any]) -> None:
    console = Console()
    rate = view["rate"]
    console.print(
        f"[bold]line {view['line_id']}[/] · {view['state']} · "
        f"APR {rate['apr_min_percent']}–{rate['apr_max_percent']}% "
        f"(daily {rate['daily_rate_percent']}%) · grade {view['grade']}"
    )
    console.print(
        f"  limit {view['limit']} · outstanding {view['outstanding_principal']} · "
        f"available {view['available']} · expires {view['expires_on']}"
    )
    for event in view.get("events", []):
        console.print(
            f"  {event['on']} {event['kind']}: {event['old_limit']} → {event['new_limit']} "
            f"({event['state']}) {event['reason']} by {event['actor']}"
        )


@app.command("grant")
def grant(
    borrower: BorrowerOpt,
    application: Annotated[str, typer.Option("--application", help="the borrower's approved application id")],
    as_json: JsonOpt = False,
) -> None:
    """Grant a credit line from the borrower's approved application (limit, grade price, expiry)."""
    today = platform_today()
    view = _run(
        lambda s: lines.grant_line(
            s, user=_borrower(s, borrower), application_id=application, on=today, actor=operator()
        )
    )
    emit(view, as_json, _render_line)


@app.command("show")
def show(borrower: BorrowerOpt, as_json: JsonOpt = False) -> None:
    """A borrower's line: limit, outstanding, available, rate (APR first), its limit and state history."""
    today = platform_today()
    view = _run(lambda s: lines.line_of_borrower(s, borrower_id=_borrower(s, borrower).id, today=today))
    emit(view, as_json, _render_line)


@app.command("draw")
def draw(
    borrower: BorrowerOpt,
    amount: Annotated[str, typer.Option("--amount", help="CNY, e.g. 3000 or 3000.50")],
    term: Annotated[
        int | None, typer.Option("--term", help="months (3-24), for an instalment drawdown")
    ] = None,
    daily: Annotated[bool, typer.Option("--daily", help="the daily-interest plan (随借随还)")] = False,
    key: Annotated[str, typer.Option("--key", help="idempotency key (a retry draws nothing twice)")] = "",
    lang: Annotated[str, typer.Option("--lang", help="zh or en")] = "zh",
    as_json: JsonOpt = False,
) -> None:
    """Draw on the line: the drawdown's KFS is built and signed as shown, and the loan disbursed."""
    fen = parse_fen(amount)
    if daily == (term is not None):
        fail("give either --term N (months) or --daily")
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, got {lang!r}")
    today = platform_today()
    request = lines.DrawRequest(amount_fen=fen, plan="daily" if daily else "instalment", term=term)

    def action(s: Session) -> dict[str, Any]:
        user = _borrower(s, borrower)
        quote = lines.quote_draw(s, user=user, request=request, today=today)
        result = lines.draw(
            s,
            user=user,
            request=request,
            seen_sha256=quote["sha256"],
            ip="cli",
            lang=lang,
            today=today,
            key=key or f"cli:{quote['sha256'][:16]}:{today.isoformat()}",
        )
        return {**result, "kfs_headline": quote["kfs"]["headline"]}

    result = _run(action)

    def render(r: dict[str, Any]) -> None:
        Console().print(
            f"[bold]drawdown {r['drawdown_id']}[/] · loan {r['loan_id']} · {r['plan']} · APR "
            f"{r['apr_percent']}% · principal {r['principal']} × {r['term']} months · {r['state']}"
        )
        paid = r.get("disbursement")
        if paid:
            label = PAYOUT_LABELS[paid["status"]][lang]
            why = f" ({paid['reason']})" if paid["reason"] else ""
            Console().print(f"  {label}: {paid['amount']} → {paid['destination']}{why}")

    emit(result, as_json, render)


def _state_command(line: int, to: LineState, reason: str, as_json: bool) -> None:
    today = platform_today()
    view = _run(lambda s: lines.set_state(s, line_id=line, to=to, reason=reason, on=today, actor=operator()))
    emit(view, as_json, _render_line)


LineOpt = Annotated[int, typer.Option("--line", help="credit line id")]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="reason code, UPPER_SNAKE_CASE (told to the borrower)")
]


@app.command("freeze")
def freeze(line: LineOpt, reason: ReasonOpt, as_json: JsonOpt = False) -> None:
    """Freeze a line (no drawdowns); the borrower gets a notice with the reason code."""
    _state_command(line, LineState.FROZEN, reason, as_json)


@app.command("unfreeze")
def unfreeze(line: LineOpt, reason: ReasonOpt, as_json: JsonOpt = False) -> None:
    _state_command(line, LineState.ACTIVE, reason, as_json)


@app.command("close")
def close(line: LineOpt, reason: ReasonOpt, as_json: JsonOpt = False) -> None:
    """Close a line with nothing outstanding (its commitment is released)."""
    _state_command(line, LineState.CLOSED, reason, as_json)


@app.command("review")
def review(
    line: Annotated[int | None, typer.Option("--line", help="credit line id")] = None,
    due: Annotated[bool, typer.Option("--due", help="every active line due for its periodic review")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Periodic review on behaviour and a fresh credit report: increase offer, decrease, freeze or keep."""
    if (line is None) == (not due):
        fail("give either --line ID or --due")
    today = platform_today()
    if line is not None:
        result: Any = _run(lambda s: lines.review_line(s, line_id=line, on=today, actor=operator()))
        results = [result]
    else:
        results = _run(lambda s: lines.review_due(s, on=today, actor=operator()))
        result = {"reviewed": len(results), "results": results}

    def render(_: Any) -> None:
        for r in results:
            Console().print(f"line {r['line_id']}: {r['action']} {r['reason']} → limit {r['new_limit']}")

    emit(result, as_json, render)
