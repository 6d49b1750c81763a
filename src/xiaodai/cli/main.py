"""The ``xiaodai`` command."""

from __future__ import annotations

import typer

from xiaodai.cli import demo, pricing

app = typer.Typer(
    help="xiaodai (小贷): honest consumer credit: true rates, compliant collection, complaints on a clock.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("quote")(pricing.quote)
app.command("apr")(pricing.apr)
app.command("demo")(demo.demo)


if __name__ == "__main__":  # pragma: no cover
    app()
