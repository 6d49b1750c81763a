"""Alembic environment: the URL comes from the caller's config (``xiaodai db upgrade``) or the environment."""

from __future__ import annotations

from alembic import context

from xiaodai.db import tables  # noqa: F401  (registers every table)
from xiaodai.db.base import Base
from xiaodai.db.session import database_url, make_engine, normalise_url

config = context.config
target_metadata = Base.metadata


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """SQLite has no FK on loans.borrower_id (see 0003): do not propose one on every autogenerate."""
    return not (type_ == "foreign_key_constraint" and name == "fk_loans_borrower_id_users")


def run_migrations_offline() -> None:
    context.configure(
        url=normalise_url(config.get_main_option("sqlalchemy.url") or database_url()),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
