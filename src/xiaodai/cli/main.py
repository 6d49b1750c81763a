"""The ``xiaodai`` command."""

from __future__ import annotations

import typer

from xiaodai.cli import db, decide, demo, eod, loan, pricing

app = typer.Typer(
    help="xiaodai (小贷): honest consumer credit: true rates, compliant collection, complaints on a clock.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("quote")(pricing.quote)
app.command("apr")(pricing.apr)
app.command("demo")(demo.demo)
app.command("eod")(eod.eod)
app.add_typer(db.app, name="db")
app.add_typer(loan.app, name="loan")
app.add_typer(eod.ledger_app, name="ledger")
app.command("decide")(decide.decide)
app.add_typer(decide.decision_app, name="decision")


if __name__ == "__main__":  # pragma: no cover
    app()
