"""Declarative base with a naming convention (stable constraint names for Alembic on every backend)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit ids on PostgreSQL; SQLite needs exactly INTEGER for its rowid primary keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Fen = BigInteger  # money: integer fen, never floating point


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
