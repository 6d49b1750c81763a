"""The decision's one read is compiled once and parsed once: no expanding parameter (SQLAlchemy re-renders
those on every call) and short enough for psycopg's statement cache (a longer query is re-parsed into
PostgreSQL's placeholders on every execution)."""

from __future__ import annotations

from psycopg import _queries
from sqlalchemy.dialects.postgresql import psycopg

from xiaodai.underwriting.service import _decision_context


def test_the_decision_read_fits_psycopgs_statement_cache() -> None:
    sql = str(_decision_context("postgresql").compile(dialect=psycopg.dialect()))
    assert "POSTCOMPILE" not in sql
    assert len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH, len(sql.encode())
