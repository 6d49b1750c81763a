"""``xiaodai card bind|verify|list|unbind``, ``xiaodai debit run``, ``xiaodai reconcile`` (sandbox channel).

The channel here is the simulated one (``payments.sandbox_channel``), seeded by ``--seed`` (default
``XIAODAI_SANDBOX_SEED`` or 0) so that a demo is repeatable; a real channel plugs in behind the same
interface.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, engine, parse_day, platform_today, posting_day, run
from xiaodai.db.session import session_factory
from xiaodai.payments import batch, payout, service
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.reconcile_file import reconcile_file
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.payments.settlement_file import SettlementFileError, render
from xiaodai.privacy.keys import current_ring
from xiaodai.servicing.errors import ServicingError

card_app = typer.Typer(help="Bank cards for auto-debit (绑卡).", no_args_is_help=True)
debit_app = typer.Typer(help="Auto-debit (代扣).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh or en")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="sandbox channel seed (XIAODAI_SANDBOX_SEED)")]

LABELS: dict[str, dict[str, str]] = {
    "card": {"zh": "卡号", "en": "Card"},
    "bank": {"zh": "银行", "en": "Bank"},
    "status": {"zh": "状态", "en": "Status"},
    "default": {"zh": "默认", "en": "Default"},
    "code_sent": {"zh": "沙箱通道已发送验证码", "en": "Sandbox channel sent verification code"},
    "verify_with": {"zh": "请执行", "en": "Then run"},
    "debits": {"zh": "代扣批次", "en": "Debit batch"},
    "breaks": {"zh": "对账差异", "en": "Reconciliation breaks"},
    "suspense": {"zh": "挂账（待查）", "en": "Suspense posted"},
    "payouts": {"zh": "待银行结果的放款", "en": "Payouts waiting for the bank"},
    "payouts_queried": {"zh": "已向通道查询的放款", "en": "Payouts queried at the channel"},
}


def _t(key: str, lang: str) -> str:
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, got {lang!r}")
    return LABELS[key][lang]


def sandbox(seed: int | None) -> SandboxChannel:
    if seed is None:
        text = os.environ.get("XIAODAI_SANDBOX_SEED", "0")
        if not text.isdigit():
            fail(f"XIAODAI_SANDBOX_SEED must be a non-negative integer, got {text!r}")
        seed = int(text)
    return SandboxChannel(seed=seed)


def _yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _cards_table(cards: list[dict[str, Any]], lang: str) -> None:
    table = Table("id", _t("card", lang), _t("bank", lang), _t("status", lang), _t("default", lang))
    for c in cards:
        table.add_row(str(c["card_id"]), c["masked"], c["bank"], c["status"], "✓" if c["default"] else "")
    Console().print(table)


@card_app.command("bind")
def bind(
    borrower: Annotated[int, typer.Option("--borrower", help="borrower (user) id")],
    number: Annotated[str, typer.Option("--number", help="card number (16-19 digits)")],
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Start binding a card: validated, stored encrypted, a verification code sent through the channel."""
    channel = sandbox(seed)
    result = run(
        lambda s: service.start_binding(
            s, channel=channel, ring=current_ring(), borrower_id=borrower, number=number
        )
    )
    # the sandbox shows the code it "sent"; a real channel's code reaches only the card holder's phone
    result["sandbox_code"] = channel.code_for(result["verify_ref"])

    def show(r: dict[str, Any]) -> None:
        typer.echo(f"{r['card_id']} {r['masked']} {r['bank']} {r['status']}")
        typer.echo(f"{_t('code_sent', lang)}: {r['sandbox_code']}")
        typer.echo(
            f"{_t('verify_with', lang)}: xiaodai card verify --card {r['card_id']} --code {r['sandbox_code']}"
        )

    emit(result, as_json, show)


@card_app.command("verify")
def verify(
    card: Annotated[int, typer.Option("--card")],
    code: Annotated[str, typer.Option("--code")],
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Finish binding with the code the card holder received; the first bound card becomes default."""
    channel = sandbox(seed)
    result = run(lambda s: service.confirm_binding(s, channel=channel, card_id=card, code=code))
    emit(result, as_json, lambda r: _cards_table([r], lang))


@card_app.command("list")
def list_cards(
    borrower: Annotated[int | None, typer.Option("--borrower")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Cards (masked) with their status and which is default."""
    cards = run(lambda s: service.list_cards(s, borrower_id=borrower))
    emit(cards, as_json, lambda r: _cards_table(r, lang))


@card_app.command("unbind")
def unbind(
    card: Annotated[int, typer.Option("--card")], as_json: JsonOpt = False, lang: LangOpt = "zh"
) -> None:
    """Unbind a card (refused while a debit on it waits for its outcome)."""
    result = run(lambda s: service.unbind(s, card_id=card))
    emit(result, as_json, lambda r: _cards_table([r], lang))


@debit_app.command("run")
def debit_run(
    date_: Annotated[str, typer.Option("--date", help="business date YYYY-MM-DD")],
    seed: SeedOpt = None,
    settlement_out: Annotated[
        Path | None, typer.Option("--settlement-out", help="write the sandbox channel's settlement file here")
    ] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Debit every due or overdue instalment with a default card (attempts on T, T+1, T+3); idempotent."""
    on = posting_day(date_, "--date")
    _t("debits", lang)
    channel = sandbox(seed)
    try:  # the set-based batch: claim, channel outside any lock, book in chunks (each step commits)
        result = batch.run_debit_batch(
            session_factory(engine()),
            channel=channel,
            ring=current_ring(),
            on=on,
            policy=default_policy(),
            detail=True,
        )
    except ServicingError as exc:
        fail(str(exc))
    if settlement_out is not None:
        settlement_out.write_text(
            render(channel.settlement_lines(on), payouts=channel.reports_payouts), encoding="utf-8"
        )
        result["settlement_file"] = str(settlement_out)

    def show(r: dict[str, Any]) -> None:
        typer.echo(
            f"{_t('debits', lang)} {r['date']}: " + ", ".join(f"{k} {v}" for k, v in r["counts"].items())
        )
        for d in r["debits"]:
            typer.echo(f"  {d['channel_ref']} loan {d['loan_id']} {_yuan(d['amount_fen'])} → {d['status']}")

    emit(result, as_json, show)


@debit_app.command("payouts")
def payouts_pending(
    query: Annotated[
        bool, typer.Option("--query", help="ask the channel about the pending ones (status query) and settle")
    ] = False,
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than-minutes", help="with --query: only payouts pending this long (policy: 30)"
        ),
    ] = None,
    date_: Annotated[
        str | None, typer.Option("--date", help="with --query: the business date outcomes are booked on")
    ] = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Disbursements (代付) still waiting for the channel's outcome (a timed-out payout: its callback is
    owed); the loan stays signed and nothing is posted until the outcome arrives. ``--query`` asks the
    channel (代付查询) about those pending longer than the policy interval and settles them by its answer
    (the scheduled job ``payout_query`` does the same each business date)."""
    _t("payouts", lang)
    if not query:
        if older_than is not None or date_ is not None:
            fail("--older-than-minutes and --date go with --query")
        rows = run(payout.pending)

        def show(r: list[dict[str, Any]]) -> None:
            typer.echo(f"{_t('payouts', lang)}: {len(r)}")
            for p in r:
                typer.echo(
                    f"  {p['channel_ref']} loan {p['loan_id']} {p['amount']} → {p['destination']} "
                    f"({p['sent_on']})"
                )

        emit(rows, as_json, show)
        return
    if older_than is not None and older_than < 0:
        fail(f"--older-than-minutes must not be negative, got {older_than}")
    on = posting_day(date_, "--date") if date_ is not None else platform_today()
    channel = sandbox(seed)
    interval = payout.QUERY_AFTER if older_than is None else timedelta(minutes=older_than)
    result = run(
        # the interval runs on the wall clock (the row's ``updated_at``), whatever the business date
        lambda s: payout.query_pending(
            s, channel=channel, on=on, as_of=datetime.now(tz=UTC), older_than=interval
        )
    )

    def show_query(r: dict[str, Any]) -> None:
        typer.echo(
            f"{_t('payouts_queried', lang)} {r['date']}: {r['asked']} — "
            + ", ".join(f"{k} {v}" for k, v in r["counts"].items())
        )
        for p in r["payouts"]:
            typer.echo(f"  {p['channel_ref']} loan {p['loan_id']} → {p['answer']} ({p['status']})")

    emit(result, as_json, show_query)


def reconcile(
    file: Annotated[Path, typer.Argument(help="the channel's settlement CSV (docs/domains/payments.md)")],
    date_: Annotated[str, typer.Option("--date", help="the file's business date YYYY-MM-DD")],
    as_json: JsonOpt = False,
    lang: LangOpt = "zh",
) -> None:
    """Reconcile a settlement file against the debits and the ledger; breaks go to the suspense account.
    Replaying the same file posts nothing more."""
    on = parse_day(date_, "--date")
    _t("breaks", lang)
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:  # the whole file at once (polars), same result as service.reconcile
        result = reconcile_file(session_factory(engine()), data, on=on)
    except (SettlementFileError, UnicodeDecodeError) as exc:
        fail(f"{file}: {exc}")
    except ServicingError as exc:
        fail(str(exc))

    def show(r: dict[str, Any]) -> None:
        typer.echo(f"{r['date']}: " + ", ".join(f"{k} {v}" for k, v in r["counts"].items()))
        table = Table(_t("breaks", lang), "channel_ref", "ours", "theirs", "suspense")
        for b in r["breaks"]:
            table.add_row(
                b["kind"],
                b["channel_ref"],
                _yuan(b["ours_fen"]),
                _yuan(b["theirs_fen"]),
                _yuan(b["suspense_fen"]),
            )
        Console().print(table)
        typer.echo(f"{_t('suspense', lang)}: {_yuan(r['suspense_posted_fen'])}")

    emit(result, as_json, show)
