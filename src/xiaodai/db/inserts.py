"""One-row inserts without the unit of work (shell helpers).

A row whose every value is known when it is written (a decision record, a credit-report pull, a consent, an
application) does not need the ORM's flush machinery, which costs more CPU than the statement it sends.
``insert_id`` writes it with one cached Core ``INSERT … RETURNING id``; ``insert_loaded`` also hands the
session the ORM object as if it had been loaded, so later reads in the transaction (``session.get``, the
identity map) find it without a query, and later changes to it are flushed as ordinary updates.

Both flush the session first, so rows the caller added earlier (which this one may refer to) are written
before it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, make_transient_to_detached

from xiaodai.db.base import Base

RowT = TypeVar("RowT", bound=Base)


@lru_cache(maxsize=64)
def _statement(row_class: type[Base], returning: tuple[str, ...]) -> Any:
    table = cast(Table, row_class.__table__)
    return insert(table).returning(*(table.c[name] for name in returning))


def insert_id(session: Session, row_class: type[Base], values: dict[str, Any]) -> int:
    """Insert one row of ``row_class`` (one statement) and return its ``id``."""
    session.flush()
    return int(session.connection().execute(_statement(row_class, ("id",)), values).scalar_one())


def insert_loaded(
    session: Session, row_class: type[RowT], values: dict[str, Any], *, server_defaults: tuple[str, ...] = ()
) -> RowT:
    """Insert one row (one statement) and return it as a persistent object of the session. ``values`` should
    name every column without a server default; ``server_defaults`` names the columns whose stored values
    are read back with the id (any other unnamed column is loaded on first access)."""
    session.flush()
    stored = session.connection().execute(_statement(row_class, ("id", *server_defaults)), values).one()
    row = row_class(**values, **stored._asdict())
    make_transient_to_detached(row)
    session.add(row)
    return row
