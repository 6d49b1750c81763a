"""``xiaodai db upgrade|current``."""

from __future__ import annotations

import typer

from xiaodai.db import migrate
from xiaodai.db.session import database_url

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database named by XIAODAI_DATABASE_URL (default sqlite:///var/xiaodai.db)."""
    migrate.upgrade(database_url(), revision)
    typer.echo(f"database at {revision}: {database_url().split('@')[-1]}")


@app.command("current")
def current() -> None:
    migrate.current(database_url())
