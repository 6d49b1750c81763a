"""The ``xiaodai`` command."""

from __future__ import annotations

import typer

from xiaodai.cli import approvals as approvals_cli
from xiaodai.cli import audit as audit_cli
from xiaodai.cli import blocklist as blocklist_cli
from xiaodai.cli import (
    collections,
    complaints,
    conformance,
    db,
    decide,
    demo,
    eod,
    loan,
    model,
    pricing,
    simulate_population,
)
from xiaodai.cli import jobs as jobs_cli
from xiaodai.cli import keys as keys_cli
from xiaodai.cli import line as line_cli
from xiaodai.cli import notify as notify_cli
from xiaodai.cli import payments as payments_cli
from xiaodai.cli import risk as risk_cli
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
simulate_cli.app.command("population")(simulate_population.population)
app.add_typer(blocklist_cli.app, name="blocklist")
app.command("eod")(eod.eod)


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = typer.Option(1, min=1, max=64, help="worker processes (about one per CPU core)"),
    graceful_seconds: int = typer.Option(
        30, min=1, max=600, help="on SIGTERM: stop accepting, let requests in flight finish this long"
    ),
) -> None:
    """Serve the web app and the JSON API (OpenAPI at /docs) on XIAODAI_DATABASE_URL.

    Logs are JSON lines with a request id, INFO by default (the access log included); X-Forwarded-For
    is believed only from XIAODAI_TRUSTED_PROXIES (the app decides, not uvicorn)."""
    import logging
    import os

    import uvicorn

    from xiaodai.api.one_write import OneWriteHttp

    if "XIAODAI_LOG_LEVEL" not in os.environ:
        os.environ["XIAODAI_LOG_LEVEL"] = "INFO"  # inherited by the worker processes
        logging.getLogger().setLevel(logging.INFO)
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        import tempfile

        # /metrics then sums every worker's counts, whichever worker answers the scrape
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="xiaodai-metrics-")
    uvicorn.run(
        "xiaodai.api.app:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=OneWriteHttp,  # uvicorn's httptools protocol, an answer's header and body in one send()
        log_config=None,  # our handlers (JSON, redacted, request id); uvicorn's loggers propagate to them
        log_level="info",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_seconds,
        # a worker importing the app on a busy machine can take seconds: do not kill it for that
        timeout_worker_healthcheck=60,
    )


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
app.add_typer(line_cli.app, name="line")
app.add_typer(simulate_cli.app, name="simulate")
app.add_typer(risk_cli.app, name="risk")
app.add_typer(payments_cli.card_app, name="card")
app.add_typer(payments_cli.debit_app, name="debit")
app.command("reconcile")(payments_cli.reconcile)
app.add_typer(notify_cli.app, name="notify")
app.add_typer(jobs_cli.app, name="jobs")


if __name__ == "__main__":  # pragma: no cover
    app()
