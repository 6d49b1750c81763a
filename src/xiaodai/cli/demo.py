"""``xiaodai demo``: real quotes that show why the true annual rate matters (the flat-fee trap)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xiaodai.cli.errors import fail
from xiaodai.cli.pricing import render_quote
from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.quote import CapExceededError, build_quote
from xiaodai.pricing.schedule import LoanTerms, Method

TITLE = {
    "zh": "同样借12,000元12期：看起来的费率 vs 真实年化利率（IRR）",
    "en": "Borrowing 12,000 over 12 months: the rate it looks like vs the true annual rate (IRR)",
}
HEAD = {
    "zh": ("产品", "宣传口径", "真实年化(IRR)", "总成本", "24%上限"),
    "en": ("Product", "Advertised", "True APR (IRR)", "Cost of credit", "24% cap"),
}


MAX_BACKGROUND_LOANS = 5000

app = typer.Typer(help="Demonstrations: priced examples and seeded demo data.", no_args_is_help=True)


@app.command("quote")
def demo(
    lang: Annotated[str, typer.Option(help="zh|en")] = "zh",
    start: Annotated[str, typer.Option(help="Disbursement date")] = "2026-01-10",
) -> None:
    """Price the same 12,000 CNY in five ways and show which is dearest."""
    if lang not in ("zh", "en"):
        fail("--lang must be zh or en")
    start_on = date.fromisoformat(start)
    book = default_cap_book()
    cap = book.profile("cn-consumer-24")

    def offer(method: Method, annual_rate: str, fees: FeeSchedule | None = None) -> LoanTerms:
        return LoanTerms(
            principal=Decimal("12000"),
            term=12,
            method=method,
            annual_rate=Decimal(annual_rate),
            start_on=start_on,
            fees=fees or FeeSchedule(),
        )

    zh = lang == "zh"
    offers = [
        (
            "分期手续费 0.6%/月" if zh else "Flat fee 0.6%/month",
            "7.20%",
            offer(Method.FLAT_FEE, "0", FeeSchedule(monthly_rate_on_principal=Decimal("0.006"))),
        ),
        (
            "等额本息 年利率12%" if zh else "Equal instalment 12%",
            "12.00%",
            offer(Method.EQUAL_INSTALLMENT, "0.12"),
        ),
        (
            "等额本息 12% + 前置费3%" if zh else "Equal instalment 12% + 3% up-front fee",
            "12.00%",
            offer(Method.EQUAL_INSTALLMENT, "0.12", FeeSchedule(upfront=Decimal("360"))),
        ),
        (
            "日息万五" if zh else "0.05% a day",
            "0.05%/日" if zh else "0.05%/day",
            offer(Method.EQUAL_INSTALLMENT, "0.18"),
        ),
        (
            "分期手续费 1.5%/月" if zh else "Flat fee 1.5%/month",
            "18.00%",
            offer(Method.FLAT_FEE, "0", FeeSchedule(monthly_rate_on_principal=Decimal("0.015"))),
        ),
    ]
    console = Console()
    table = Table(title=TITLE[lang])
    for head in HEAD[lang]:
        table.add_column(head, justify="right")
    for label, advertised, terms in offers:
        try:
            quote = build_quote(terms, cap=cap, cap_book=book)
            verdict = "✓" if quote.cap and quote.cap.allowed else "✗"
            apr = f"[bold]{round_half_up(quote.apr_percent, 2)}%[/bold]"
            cost = f"{quote.finance_charge:,.2f}"
        except CapExceededError as refused:
            verdict = f"✗ {refused.verdict.reason.value}"
            apr = f"[bold red]{round_half_up(refused.apr_percent, 2)}%[/bold red]"
            cost = "—"
        table.add_row(label, advertised, apr, cost, verdict)
    console.print(table)
    console.print()
    render_quote(build_quote(offers[0][2], cap=cap, cap_book=book), lang, console)


@app.command("seed")
def seed(
    loans: Annotated[int, typer.Option(help="Background loans besides the scripted stories")] = 120,
    today: Annotated[str | None, typer.Option(help="Business date (default: today, China)")] = None,
) -> None:
    """The demo world, once: model, staff and borrowers (credentials printed), ten months of loans in every
    state through the real services. Run again with the same arguments it changes nothing."""
    from datetime import datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from rich.progress import Progress

    from xiaodai.cli.shell import engine
    from xiaodai.demo.seed import SeedError
    from xiaodai.demo.seed import seed as run_seed

    if not 0 <= loans <= MAX_BACKGROUND_LOANS:
        fail(f"--loans must be between 0 and {MAX_BACKGROUND_LOANS}, not {loans}")
    try:
        day = date.fromisoformat(today) if today else datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()
    except ValueError:
        fail(f"--today must be a date like 2026-12-05, not {today!r}")
    with Progress() as bar:
        tasks: dict[str, object] = {}

        def tick(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)  # type: ignore[arg-type]

        try:
            report = run_seed(engine(), today=day, workdir=Path("var/demo"), loans=loans, progress=tick)
        except SeedError as refused:
            fail(str(refused))
    console = Console()
    table = Table(title="demo credentials / 演示账号")
    for column in ("email", "password", "role"):
        table.add_column(column)
    for row in report.credentials:
        table.add_row(*row)
    console.print(table)
    console.print(
        f"model {report.model_version} active · {report.loans_created} loans created, "
        f"{report.loans_total} in total"
    )
