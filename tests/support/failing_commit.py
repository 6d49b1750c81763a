"""A commit that fails on demand (``tests/api/conftest.py``'s ``failing_commit``)."""

from __future__ import annotations

from xiaodai.db.session import make_engine

# PostgreSQL: a constraint checked at COMMIT that fails while armed, for a transaction that wrote a journal
# entry — whoever sends the COMMIT (a session, or the driver path of ``api.loop_repay``).
_FAILS_AT_COMMIT = [
    "CREATE TABLE test_commit_fails (armed BOOLEAN NOT NULL)",
    "INSERT INTO test_commit_fails VALUES (false)",
    (
        "CREATE FUNCTION test_commit_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF (SELECT armed FROM test_commit_fails) THEN RAISE EXCEPTION 'commit failed (test)'; END IF;"
        " RETURN NULL; END $$"
    ),
    (
        "CREATE CONSTRAINT TRIGGER test_commit_fails AFTER INSERT ON journal_entries"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_commit_fails()"
    ),
]


class Armed:
    """``armed[0] = True``: every commit that follows fails, until ``armed[0] = False``."""

    def __init__(self, db_url: str) -> None:
        self.on = False
        self.engine = make_engine(db_url) if db_url.startswith("postgresql") else None
        if self.engine is not None:
            with self.engine.begin() as connection:
                for statement in _FAILS_AT_COMMIT:
                    connection.exec_driver_sql(statement)

    def __getitem__(self, _index: int) -> bool:
        return self.on

    def __setitem__(self, _index: int, value: bool) -> None:
        self.on = value
        if self.engine is not None:
            with self.engine.begin() as connection:
                connection.exec_driver_sql("UPDATE test_commit_fails SET armed = %(v)s", {"v": value})
