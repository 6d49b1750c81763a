"""Persistence shell: SQLAlchemy 2 tables, sessions and Alembic migrations. Money columns are integer fen."""
