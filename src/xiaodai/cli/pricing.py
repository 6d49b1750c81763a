"""``xiaodai quote`` and ``xiaodai apr``."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xiaodai.cli.errors import REFUSED, fail
from xiaodai.cli.i18n import t
from xiaodai.money.money import MoneyError, to_decimal
from xiaodai.money.parse import DateInputError, parse_amount_fen, parse_iso_date
from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.apr import Convention, EuStep
from xiaodai.pricing.caps import LprFixing, default_cap_book
from xiaodai.pricing.fees import FeeSchedule, UpfrontTiming
from xiaodai.pricing.flow_input import FlowInputError, parse_flow_document, rate_for
from xiaodai.pricing.products import Product, ProductLimitError, default_products, parse_products
from xiaodai.pricing.quote import CapExceededError, Quote, build_quote, quote_to_json
from xiaodai.pricing.schedule import LoanTerms, Method, TermsError
from xiaodai.pricing.solver import NoRateError
from xiaodai.pricing.unit_period import UnitPeriod

CHINA = ZoneInfo("Asia/Shanghai")


def _decimal(text: str, what: str) -> Decimal:
    try:
        return to_decimal(text)
    except MoneyError:
        fail(f"{what} must be a number, got {text!r}")


def _amount(text: str, what: str, *, allow_zero: bool = False) -> Decimal:
    """CNY as typed (``money.parse``: ASCII digits, at most 2 decimals, bounded), or exit 2."""
    try:
        return Decimal(parse_amount_fen(text, what=what, allow_zero=allow_zero)) / 100
    except MoneyError as exc:
        fail(str(exc))


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_iso_date(text, what=what)
    except DateInputError as exc:
        fail(str(exc))


def _product(name: str) -> Product:
    path = Path(name)
    try:
        if name.endswith(".json") and path.exists():
            catalogue = parse_products(json.loads(path.read_text(encoding="utf-8")))
            if len(catalogue) != 1:
                fail(f"{name} must define exactly one product")
            return next(iter(catalogue.values()))
        catalogue = default_products()
        if name not in catalogue:
            fail(f"unknown product {name!r}; known: {', '.join(sorted(catalogue))} or a .json file")
        return catalogue[name]
    except (KeyError, ValueError) as exc:
        fail(f"cannot read product {name!r}: {exc}")


PrincipalOpt = Annotated[str, typer.Option(help="Contract principal, e.g. 10000")]
TermOpt = Annotated[str, typer.Option(help="Number of monthly instalments")]
MethodOpt = Annotated[
    str, typer.Option(help="equal-installment|equal-principal|interest-first|bullet|flat-fee")
]
RateOpt = Annotated[str | None, typer.Option(help="Nominal annual rate as a fraction, e.g. 0.15")]
FlatFeeOpt = Annotated[
    str | None, typer.Option(help="Monthly fee as a fraction of the ORIGINAL principal, e.g. 0.006")
]
UpfrontOpt = Annotated[str | None, typer.Option(help="Up-front fee amount, e.g. 300")]
TimingOpt = Annotated[str, typer.Option(help="deducted|at-signing")]
MonthlyFeeOpt = Annotated[str | None, typer.Option(help="Fixed fee added to every instalment")]
StartOpt = Annotated[
    str | None, typer.Option(help="Disbursement date YYYY-MM-DD (default today, China time)")
]
FirstDueOpt = Annotated[str | None, typer.Option(help="Explicit first due date: an odd first period")]
CapOpt = Annotated[str | None, typer.Option(help="Rate-cap profile, e.g. cn-consumer-24")]
ProductOpt = Annotated[str, typer.Option(help="Product name or product .json file")]
LangOpt = Annotated[str, typer.Option(help="zh|en")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def terms_from_options(
    *,
    principal: str,
    term: str,
    method: str,
    annual_rate: str | None,
    flat_fee_rate: str | None,
    upfront_fee: str | None,
    upfront_timing: str,
    monthly_fee: str | None,
    start: str | None,
    first_due: str | None,
    product: str,
) -> LoanTerms:
    """Validate the product arguments shared by ``quote`` and ``loan create``; bad input exits 2."""
    p = _amount(principal, "--principal")
    try:
        n = int(term)
    except ValueError:
        fail(f"--term must be a whole number of months, got {term!r}")
    try:
        chosen = Method.parse(method)
    except ValueError as exc:
        fail(str(exc))
    rate = _decimal(annual_rate, "--annual-rate") if annual_rate is not None else None
    if rate is None and chosen is not Method.FLAT_FEE:
        fail("--annual-rate is required for this method (e.g. --annual-rate 0.15)")
    if rate is not None and rate > 10:
        fail(f"--annual-rate is a fraction (0.15 = 15%); {rate} looks like a percent")
    start_on = _date(start, "--start") or datetime.now(tz=CHINA).date()
    prod = _product(product)
    if p <= 0:
        fail("--principal must be positive")
    if n < 1:
        fail("--term must be at least 1")
    try:
        fees = FeeSchedule(
            upfront=_amount(upfront_fee, "--upfront-fee", allow_zero=True) if upfront_fee else Decimal(0),
            upfront_timing=UpfrontTiming(upfront_timing),
            monthly_fixed=_amount(monthly_fee, "--monthly-fee", allow_zero=True)
            if monthly_fee
            else Decimal(0),
            monthly_rate_on_principal=_decimal(flat_fee_rate, "--flat-fee-rate")
            if flat_fee_rate
            else Decimal(0),
        )
        prod.check(principal=p, term=n, method=chosen)
        return LoanTerms(
            principal=p,
            term=n,
            method=chosen,
            annual_rate=rate or Decimal(0),
            start_on=start_on,
            fees=fees,
            first_due_on=_date(first_due, "--first-due"),
            odd_period_daycount=prod.odd_period_daycount,
            roll=prod.roll,
            currency=prod.currency,
        )
    except (TermsError, ProductLimitError, MoneyError, ValueError) as exc:
        fail(str(exc))


def quote(
    principal: PrincipalOpt,
    term: TermOpt,
    method: MethodOpt = "equal-installment",
    annual_rate: RateOpt = None,
    flat_fee_rate: FlatFeeOpt = None,
    upfront_fee: UpfrontOpt = None,
    upfront_timing: TimingOpt = "deducted",
    monthly_fee: MonthlyFeeOpt = None,
    start: StartOpt = None,
    first_due: FirstDueOpt = None,
    cap: CapOpt = None,
    lpr_percent: Annotated[
        str | None, typer.Option(help="One-year LPR (%) in force at the contract date, for cn-private-4xlpr")
    ] = None,
    product: ProductOpt = "standard",
    lang: LangOpt = "zh",
    as_json: JsonOpt = False,
) -> None:
    """Price a loan: schedule, every fee, the true annual rate (IRR) and an optional rate-cap check."""
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, got {lang!r}")
    terms = terms_from_options(
        principal=principal,
        term=term,
        method=method,
        annual_rate=annual_rate,
        flat_fee_rate=flat_fee_rate,
        upfront_fee=upfront_fee,
        upfront_timing=upfront_timing,
        monthly_fee=monthly_fee,
        start=start,
        first_due=first_due,
        product=product,
    )
    start_on = terms.start_on
    cap_profile = None
    book = default_cap_book()
    if cap is not None:
        try:
            cap_profile = book.profile(cap)
        except KeyError as exc:
            fail(str(exc.args[0]))
    lpr = LprFixing(start_on, _decimal(lpr_percent, "--lpr-percent")) if lpr_percent else None
    try:
        result = build_quote(terms, cap=cap_profile, cap_book=book, lpr=lpr)
    except CapExceededError as refused:
        if as_json:
            sys.stdout.write(
                json.dumps(
                    {
                        "error": "cap",
                        "apr_percent": str(round_half_up(refused.apr_percent, 10)),
                        "cap": refused.verdict.to_json(),
                    },
                    ensure_ascii=False,
                    indent=2,
                )
                + "\n"
            )
        sys.stderr.write(f"xiaodai: {t('refused', lang)}: {refused}\n")
        raise typer.Exit(REFUSED) from None
    except (TermsError, NoRateError) as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(quote_to_json(result), ensure_ascii=False, indent=2) + "\n")
        return
    render_quote(result, lang)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def render_quote(result: Quote, lang: str, console: Console | None = None) -> None:
    out = console or Console()
    terms = result.terms
    headline = Text()
    headline.append(f"{t('apr_headline', lang)}\n", style="bold")
    headline.append(
        f"{round_half_up(result.apr_percent, 2)}%",
        style="bold green" if not result.cap or result.cap.allowed else "bold red",
    )
    headline.append(f"\n{t('apr_note', lang)}", style="dim")
    out.print(Panel(headline, title=t("quote_title", lang), expand=False))

    facts = Table(show_header=False, box=None)
    facts.add_column(style="bold")
    facts.add_column(justify="right")
    method_label = terms.method.label_zh if lang == "zh" else terms.method.value
    rows: list[tuple[str, str]] = [
        (t("principal", lang), _money(terms.principal)),
        (t("net_disbursed", lang), _money(result.net_disbursed)),
        (t("method", lang), method_label),
        (t("term", lang), str(terms.term)),
        (t("payment", lang), _money(result.payment)),
        (t("total_interest", lang), _money(result.total_interest)),
        (t("total_fees", lang), _money(result.total_fees)),
        (t("finance_charge", lang), _money(result.finance_charge)),
        (t("total_repayment", lang), _money(result.total_repayment)),
    ]
    if terms.fees.upfront:
        rows.insert(2, (t("upfront_fee", lang), _money(terms.fees.upfront)))
    if terms.annual_rate:
        rows.append((t("nominal_rate", lang), f"{round_half_up(terms.annual_rate * 100, 4).normalize()}%"))
    if terms.fees.monthly_rate_on_principal:
        naive = round_half_up(terms.fees.monthly_rate_on_principal * 1200, 2)
        rows.append((t("naive_flat", lang), f"{naive}%"))
    if result.schedule.odd_days:
        rows.append((t("odd_days", lang), str(result.schedule.odd_days)))
    rows.append((t("ear", lang), f"{round_half_up(result.cn.ear_percent or Decimal(0), 2)}%"))
    rows.append((t("monthly_irr", lang), f"{round_half_up(result.monthly_irr * 100, 4)}%"))
    rows.append((t("regz", lang), f"{round_half_up(result.regz.apr_percent, 2)}%"))
    rows.append((t("eu", lang), f"{round_half_up(result.eu.apr_percent, 1)}%"))
    if result.cap is None:
        rows.append((t("cap", lang), t("cap_none", lang)))
    else:
        rows.append(
            (
                t("cap", lang),
                (
                    f"{result.cap.profile}: {result.cap.apr_percent_checked}% ≤ "
                    f"{result.cap.limit_percent}% {t('cap_ok', lang)} ({result.cap.reason.value})"
                ),
            )
        )
    for label, value in rows:
        facts.add_row(label, value)
    out.print(facts)

    table = Table(title=t("schedule", lang))
    for key in (
        "period",
        "due_date",
        "principal_col",
        "interest_col",
        "fee_col",
        "payment_col",
        "balance_col",
    ):
        table.add_column(t(key, lang), justify="right")
    provisional = False
    for r in result.schedule.rows:
        mark = "*" if r.calendar_provisional else ""
        provisional = provisional or r.calendar_provisional
        table.add_row(
            str(r.period),
            r.due_on.isoformat() + mark,
            _money(r.principal),
            _money(r.interest),
            _money(r.fee),
            _money(r.payment),
            _money(r.balance),
        )
    out.print(table)
    if provisional:
        out.print(t("provisional", lang), style="dim")


def apr_payload(
    doc: Any,
    conv: Convention,
    *,
    unit: UnitPeriod | None = None,
    eu_step: EuStep = EuStep.MONTH,
    eu_by_days: bool = False,
    eu_leap_years: bool = True,
) -> dict[str, Any]:
    """What ``xiaodai apr --json`` prints for a flow document (also ``conformance.apr_vectors``). Bad flows:
    ``FlowInputError``, ``NoRateError`` or ``ValueError``."""
    result = rate_for(
        parse_flow_document(doc),
        conv,
        unit=unit,
        eu_step=eu_step,
        eu_by_days=eu_by_days,
        eu_leap_years=eu_leap_years,
    )
    payload: dict[str, Any] = {
        "convention": conv.value,
        "apr_percent": str(result.apr_percent),
        "apr_percent_2dp": str(round_half_up(result.apr_percent, 2)),
        "unit_period": result.unit,
        "unit_periods_per_year": str(result.per_year),
        "periodic_rate": str(round_half_up(result.periodic_rate, 14)),
    }
    if result.ear_percent is not None:
        payload["ear_percent"] = str(result.ear_percent)
    if conv is Convention.EU:
        payload["aprc_percent"] = str(result.aprc_percent)
        payload["aprc_x_percent"] = str(result.apr_percent)
    return payload


def apr(
    convention: Annotated[str, typer.Option(help="cn|us-regz|eu")],
    unit_period: Annotated[
        str | None,
        typer.Option(
            help=(
                "us-regz unit-period (default: App J (b)(4) detection): month|<N>month (N<=12)|quarter|"
                "year|semimonth|week|biweek|<N>week|day|term. "
                "eu: the equal period counted back before the odd days: month (default)|week|year"
            )
        ),
    ] = None,
    eu_days: Annotated[bool, typer.Option("--eu-days", help="eu: count time in actual days/365")] = False,
    leap_years: Annotated[
        bool,
        typer.Option(
            "--leap-years/--no-leap-years",
            help="eu: odd days / 366 when the year counted back from them holds 29 February (default), "
            "or always / 365",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    input_file: Annotated[
        Path | None, typer.Option("--file", help="Read flows from a file instead of stdin")
    ] = None,
) -> None:
    """Annualised rate of a cash-flow series read from stdin: {"flows": [{"date", "amount"}, ...]}."""
    try:
        conv = Convention(convention)
    except ValueError:
        fail(f"unknown convention {convention!r}; expected cn|us-regz|eu")
    unit = None
    eu_step = EuStep.MONTH
    if unit_period is not None:
        if conv is Convention.EU:
            try:
                eu_step = EuStep(unit_period.strip().lower())
            except ValueError:
                fail(f"unknown eu unit period {unit_period!r}; expected month|week|year")
        else:
            try:
                unit = UnitPeriod.parse(unit_period)
            except ValueError as exc:
                fail(str(exc))
    text = input_file.read_text(encoding="utf-8") if input_file else sys.stdin.read()
    try:
        doc: Any = json.loads(text, parse_float=str)
    except json.JSONDecodeError as exc:
        fail(f"flows are not valid JSON: {exc.msg} at line {exc.lineno}")
    try:
        payload = apr_payload(
            doc, conv, unit=unit, eu_step=eu_step, eu_by_days=eu_days, eu_leap_years=leap_years
        )
    except (FlowInputError, NoRateError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title=f"APR ({conv.value})", show_header=False)
    for key, value in payload.items():
        table.add_row(key, value)
    Console().print(table)
