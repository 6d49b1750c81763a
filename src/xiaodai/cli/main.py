"""The ``xiaodai`` command."""

from __future__ import annotations

import typer

from xiaodai.cli import approvals as approvals_cli
from xiaodai.cli import audit as audit_cli
from xiaodai.cli import blocklist as blocklist_cli
from xiaodai.cli import collections, complaints, conformance, db, decide, demo, eod, loan, model, pricing
from xiaodai.cli import keys as keys_cli
from xiaodai.cli import simulate as simulate_cli

app = typer.Typer(
    help="xiaodai (小贷): honest consumer credit: true rates, compliant collection, complaints on a clock.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _setup() -> None:
    """Logging with personal data redacted, for every command."""
    from xiaodai.logging_setup import configure

    configure()


app.command("quote")(pricing.quote)
app.command("apr")(pricing.apr)
app.add_typer(demo.app, name="demo")
app.add_typer(simulate_cli.app, name="simulate")
app.add_typer(blocklist_cli.app, name="blocklist")
app.command("eod")(eod.eod)


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web app and the JSON API (OpenAPI at /docs) on XIAODAI_DATABASE_URL."""
    import uvicorn

    from xiaodai.api.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


app.add_typer(db.app, name="db")
app.add_typer(loan.app, name="loan")
app.add_typer(eod.ledger_app, name="ledger")
app.command("decide")(decide.decide)
app.add_typer(decide.decision_app, name="decision")
model.app.command("register")(decide.register)
model.app.command("activate")(decide.activate)
model.app.command("list")(decide.list_models)
model.app.command("monitor")(decide.monitor)
app.add_typer(model.app, name="model")
app.add_typer(conformance.app, name="conformance")
app.add_typer(collections.app, name="collections")
app.add_typer(complaints.app, name="complaints")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(approvals_cli.app, name="approvals")
app.add_typer(keys_cli.app, name="keys")


if __name__ == "__main__":  # pragma: no cover
    app()
