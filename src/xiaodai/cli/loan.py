"""``xiaodai loan …``: create, disburse, repay, prepay, waive, write off, reverse and show loans."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from xiaodai.cli.errors import fail
from xiaodai.cli.pricing import (
    CapOpt,
    FirstDueOpt,
    FlatFeeOpt,
    JsonOpt,
    MethodOpt,
    MonthlyFeeOpt,
    PrincipalOpt,
    ProductOpt,
    RateOpt,
    StartOpt,
    TermOpt,
    TimingOpt,
    UpfrontOpt,
    terms_from_options,
)
from xiaodai.cli.shell import emit, parse_day, parse_fen, posting_day, run
from xiaodai.pricing.caps import default_cap_book
from xiaodai.servicing import service
from xiaodai.servicing.allocation import AllocationOrder, Component
from xiaodai.servicing.delinquency import parse_buckets
from xiaodai.servicing.prepayment import PrepayMode
from xiaodai.servicing.views import loan_view

app = typer.Typer(help="Loans on the double-entry ledger.", no_args_is_help=True)
KeyOpt = Annotated[
    str, typer.Option("--idempotency-key", help="Unique per intended operation; retries reuse it")
]
OnOpt = Annotated[str, typer.Option("--on", help="Business date YYYY-MM-DD")]


@app.command("create")
def create(
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
    cap: CapOpt = "cn-consumer-24",
    product: ProductOpt = "standard",
    penalty_rate: Annotated[
        str, typer.Option(help="Penalty (罚息) annual rate on overdue principal")
    ] = "0.12",
    allocation: Annotated[
        str, typer.Option(help="overdue-first|penalty-fee-interest-principal|interest-first")
    ] = "overdue-first",
    write_off_dpd: Annotated[
        int, typer.Option(help="Days past due at which a loan is a write-off candidate")
    ] = 180,
    buckets: Annotated[str, typer.Option(help="Bucket lower bounds")] = "M0:0,M1:1,M2:31,M3:61,M4+:91",
    unsigned: Annotated[bool, typer.Option(help="Leave the loan approved, not yet signed")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a priced loan with its schedule (an offer over its cap is refused, exit 1)."""
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
    try:
        config = service.ServicingConfig(
            penalty_annual_rate=Decimal(penalty_rate),
            allocation_order=AllocationOrder(allocation),
            write_off_dpd=write_off_dpd,
            buckets=buckets,
            cap_profile=cap or None,
        )
        parse_buckets(buckets)
        book = default_cap_book()
        if cap:
            book.profile(cap)
    except (ValueError, ArithmeticError, KeyError) as exc:
        fail(str(exc.args[0] if isinstance(exc, KeyError) else exc))

    def action(session: Any) -> dict[str, Any]:
        loan = service.create_loan(
            session, terms=terms, product=product, config=config, cap_book=book, signed=not unsigned
        )
        return {
            "id": loan.id,
            "state": loan.state,
            "apr_percent": loan.apr_percent,
            "penalty_reason": loan.penalty_reason,
        }

    emit(
        run(action),
        as_json,
        lambda p: typer.echo(f"loan {p['id']} created ({p['state']}), APR {p['apr_percent']}%"),
    )


def _print_flat(payload: dict[str, Any]) -> None:
    typer.echo(" ".join(f"{k}={v}" for k, v in payload.items() if not isinstance(v, list | dict)))


def _act(action: Callable[[Session], Any], as_json: bool) -> None:
    """Run one service call in its own transaction and print its result (flat text or JSON)."""
    emit(run(action), as_json, _print_flat)


@app.command("sign")
def sign(loan_id: int, as_json: JsonOpt = False) -> None:
    _act(lambda s: service.sign(s, loan_id=loan_id), as_json)


@app.command("cancel")
def cancel(loan_id: int, on: OnOpt, as_json: JsonOpt = False) -> None:
    """Cancel before disbursement."""
    day = posting_day(on)
    _act(lambda s: service.cancel(s, loan_id=loan_id, on=day), as_json)


@app.command("disburse")
def disburse(loan_id: int, on: OnOpt, idempotency_key: KeyOpt, as_json: JsonOpt = False) -> None:
    """Pay out the net amount (an up-front fee kept back is fee income at once)."""
    day = posting_day(on)
    _act(
        lambda s: service.disburse(s, loan_id=loan_id, on=day, idempotency_key=idempotency_key),
        as_json,
    )


@app.command("repay")
def repay(
    loan_id: int,
    amount: Annotated[str, typer.Option(help="Amount paid, e.g. 902.58")],
    on: OnOpt,
    idempotency_key: KeyOpt,
    as_json: JsonOpt = False,
) -> None:
    """Post a repayment: allocated in the product's order; any excess is held as overpayment."""
    fen, day = parse_fen(amount), posting_day(on)
    _act(
        lambda s: service.repay(s, loan_id=loan_id, amount_fen=fen, on=day, idempotency_key=idempotency_key),
        as_json,
    )


@app.command("prepay-quote")
def prepay_quote(loan_id: int, on: OnOpt, as_json: JsonOpt = False) -> None:
    """What settles the loan on a date: interest only for the days used (民法典 Art. 677)."""
    day = parse_day(on)
    _act(
        lambda s: service.payoff_json(service.prepay_quote(s, loan_id=loan_id, on=day)),
        as_json,
    )


@app.command("prepay")
def prepay(
    loan_id: int,
    on: OnOpt,
    idempotency_key: KeyOpt,
    amount: Annotated[str | None, typer.Option(help="Partial amount; omit to pay off in full")] = None,
    mode: Annotated[str, typer.Option(help="shorten-term|lower-instalment")] = "shorten-term",
    as_json: JsonOpt = False,
) -> None:
    """Early repayment, full or partial; a partial one shortens the term or lowers the instalment."""
    day = posting_day(on)
    fen = parse_fen(amount) if amount is not None else None
    try:
        chosen = PrepayMode(mode)
    except ValueError:
        fail("--mode must be shorten-term or lower-instalment")
    _act(
        lambda s: service.prepay(
            s, loan_id=loan_id, on=day, idempotency_key=idempotency_key, amount_fen=fen, mode=chosen
        ),
        as_json,
    )


@app.command("waive")
def waive(
    loan_id: int,
    component: Annotated[str, typer.Option(help="penalty|fee|interest")],
    amount: Annotated[str, typer.Option()],
    on: OnOpt,
    idempotency_key: KeyOpt,
    reason: Annotated[str, typer.Option(help="Why (recorded with the entry)")],
    actor: Annotated[str, typer.Option("--actor", help="Email of the staff member waiving")],
    as_json: JsonOpt = False,
) -> None:
    """Waive directly up to the threshold (200 CNY); above it, file a maker-checker request."""
    from xiaodai.approvals import rules
    from xiaodai.approvals import service as approvals
    from xiaodai.cli.approvals import actor as staff
    from xiaodai.cli.approvals import call

    day, fen = posting_day(on), parse_fen(amount)
    try:
        part = Component(component)
    except ValueError:
        fail("--component must be penalty, fee or interest")
    if rules.waiver_needs_approval(fen):
        params = {
            "loan_id": loan_id,
            "component": part.value,
            "amount_fen": fen,
            "on": day.isoformat(),
            "reason": reason,
        }
        emit(
            call(
                lambda s: approvals.request(
                    s, maker=staff(s, actor), operation="waive", params=params, reason=reason
                )
            ),
            as_json,
            lambda p: typer.echo(
                f"waiver above the threshold: approval #{p['id']} pending (a checker approves)"
            ),
        )
        return

    def direct(s: Session) -> Any:
        user = staff(s, actor)
        if not set(user.roles.split(",")) & rules.DIRECT_WAIVER_ROLES:
            fail(f"--actor {actor} may not waive", 1)
        return service.waive(
            s,
            loan_id=loan_id,
            component=part,
            amount_fen=fen,
            on=day,
            idempotency_key=idempotency_key,
            reason=f"{reason} (by user:{user.id})",
        )

    _act(direct, as_json)


@app.command("write-off")
def write_off(
    loan_id: int,
    on: OnOpt,
    actor: Annotated[str, typer.Option("--actor", help="Email of the staff member asking")],
    reason: Annotated[str, typer.Option(help="Why (recorded)")],
    as_json: JsonOpt = False,
) -> None:
    """File a write-off request: it executes when a risk analyst or admin (not you) approves it."""
    from xiaodai.approvals import service as approvals
    from xiaodai.cli.approvals import actor as staff
    from xiaodai.cli.approvals import call

    day = posting_day(on)
    params = {"loan_id": loan_id, "on": day.isoformat()}
    emit(
        call(
            lambda s: approvals.request(
                s, maker=staff(s, actor), operation="write_off", params=params, reason=reason
            )
        ),
        as_json,
        lambda p: typer.echo(
            f"write-off requested: approval #{p['id']} pending (xiaodai approvals approve {p['id']})"
        ),
    )


@app.command("refund")
def refund(
    loan_id: int,
    amount: Annotated[str, typer.Option()],
    on: OnOpt,
    idempotency_key: KeyOpt,
    as_json: JsonOpt = False,
) -> None:
    """Pay back money held as overpayment."""
    day, fen = posting_day(on), parse_fen(amount)
    _act(
        lambda s: service.refund_overpayment(
            s, loan_id=loan_id, amount_fen=fen, on=day, idempotency_key=idempotency_key
        ),
        as_json,
    )


@app.command("reverse")
def reverse(entry_id: int, on: OnOpt, idempotency_key: KeyOpt, as_json: JsonOpt = False) -> None:
    """Reverse a repayment, waiver or refund entry with a mirror entry."""
    day = posting_day(on)
    _act(
        lambda s: service.reverse(s, entry_id=entry_id, on=day, idempotency_key=idempotency_key),
        as_json,
    )


@app.command("show")
def show(
    loan_id: int, as_of: Annotated[str | None, typer.Option("--as-of")] = None, as_json: JsonOpt = False
) -> None:
    """The loan, its balances and its schedule with each instalment's state, DPD and bucket."""
    day = parse_day(as_of, "--as-of") if as_of else None
    payload = run(lambda s: loan_view(s, loan_id=loan_id, as_of=day))
    emit(payload, as_json, _render_loan)


def _render_loan(view: dict[str, Any]) -> None:
    console = Console()
    console.print(
        f"[bold]loan {view['id']}[/bold] {view['state']} · {view['method']} · APR {view['apr_percent']}%"
        f" · DPD {view['days_past_due']} ({view['bucket']})"
    )
    console.print("balances: " + ", ".join(f"{k} {v}" for k, v in view["balances"].items()))
    table = Table()
    for column in (
        "period",
        "due_date",
        "payment",
        "paid",
        "outstanding",
        "status",
        "days_past_due",
        "bucket",
    ):
        table.add_column(column, justify="right")
    for row in view["schedule"]:
        table.add_row(
            *(
                str(row[c])
                for c in (
                    "period",
                    "due_date",
                    "payment",
                    "paid",
                    "outstanding",
                    "status",
                    "days_past_due",
                    "bucket",
                )
            )
        )
    console.print(table)


@app.command("charge")
def charge(
    loan_id: int,
    charge_type: Annotated[str, typer.Option("--type", help="e.g. monthly_fee, late_fee")],
    amount: Annotated[str, typer.Option()],
    on: OnOpt,
    idempotency_key: KeyOpt,
    period: Annotated[int | None, typer.Option(help="Instalment the charge belongs to")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Post a fee only if the loan's signed disclosure allows it (exit 1 and an audit event otherwise)."""
    from xiaodai.journey.charges import post_charge

    day, fen = posting_day(on), parse_fen(amount)
    result = run(
        lambda s: post_charge(
            s,
            loan_id=loan_id,
            charge_type=charge_type,
            amount_fen=fen,
            on=day,
            idempotency_key=idempotency_key,
            period=period,
            actor="cli",
        )
    )
    emit(result, as_json, _print_flat)
    if not result["posted"]:
        raise typer.Exit(1)


@app.command("hardship")
def hardship(
    loan_id: int,
    months: Annotated[int, typer.Option(help="Move future instalments by N months (1-3)")],
    on: OnOpt,
    idempotency_key: KeyOpt,
    reason: Annotated[str, typer.Option()],
    approved_by: Annotated[str, typer.Option()],
    as_json: JsonOpt = False,
) -> None:
    """Hardship plan: extend the remaining schedule with no extra interest or fee (within policy)."""
    day = posting_day(on)
    _act(
        lambda s: service.hardship_extension(
            s,
            loan_id=loan_id,
            months=months,
            on=day,
            idempotency_key=idempotency_key,
            reason=reason,
            approved_by=approved_by,
        ),
        as_json,
    )
