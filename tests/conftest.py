"""Shared fixtures. Databases: every persistence test runs on SQLite (file) and on PostgreSQL.

PostgreSQL is expected at XIAODAI_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres); a
migrated template database is made once per session and each test gets a fresh copy of it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from support.databases import PG_ADMIN, admin, new_pg_copy, pg_url
from support.long_first import long_first
from support.passwords import PRODUCTION_HASHER, TEST_HASHER
from xiaodai.accounts import service as accounts
from xiaodai.accounts.token_cache import TOKENS
from xiaodai.db.migrate import upgrade
from xiaodai.db.session import make_engine, session_factory

BACKENDS = ["sqlite", "postgresql"]
_admin = admin


@pytest.fixture(scope="session", autouse=True)
def _keyring_file(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch var/keyring.json: a fresh key ring per session (inherited by CLI subprocesses)."""
    os.environ.pop("XIAODAI_KEYRING", None)
    os.environ["XIAODAI_KEYRING_FILE"] = str(tmp_path_factory.mktemp("keys") / "keyring.json")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """See support/passwords.py: argon2id at the lowest cost in-process; production cost tested apart."""
    accounts.HASHER = TEST_HASHER
    yield
    accounts.HASHER = PRODUCTION_HASHER


@pytest.fixture(autouse=True)
def _fresh_token_memory() -> None:
    """Every test starts with an empty in-process token memory: each test has its own database, so user
    ids repeat from test to test, and a user barred from being remembered by one test (a logout, a lock)
    must not be barred in the next."""
    TOKENS.clear()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"xiaodai_tmpl_{uuid.uuid4().hex[:8]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem, not a test result
        pytest.fail(f"PostgreSQL is required for integration tests ({PG_ADMIN}): {exc}")
    upgrade(pg_url(name))
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        import shutil
        from pathlib import Path

        target = Path(str(tmp_path)) / "xiaodai.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url, drop = new_pg_copy(request.getfixturevalue("pg_template"))
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def clone_db(db_url: str, engine: Engine) -> Iterator[Callable[[], str]]:
    """Copy the test database as it is now (for comparing two runs from the same starting point)."""
    made: list[str] = []

    def clone() -> str:
        engine.dispose()
        if db_url.startswith("sqlite:///"):
            import shutil

            source = db_url[len("sqlite:///") :]
            target = f"{source}.{len(made)}.db"
            shutil.copy(source, target)
            url = f"sqlite:///{target}"
        else:
            source = db_url.rsplit("/", 1)[1]
            name = f"{source}_c{len(made)}"
            _admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            url = pg_url(name)
        made.append(url)
        return url

    yield clone
    for url in made:
        if not url.startswith("sqlite"):
            _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The known long tests first, one block of them per xdist worker (support/long_first.py)."""
    items[:] = long_first(items, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


# Hypothesis profiles for the tests that take the default number of examples (tests that fix their own
# max_examples keep it): "dev" locally and "ci" when CI is set, 100 examples each, so CI checks the same
# properties as a developer's run with fresh random examples every run; "thorough" for a deeper run before
# a release (XIAODAI_HYPOTHESIS_PROFILE=thorough make pytest). CI used to run 200: the suite on 2 cores
# must stay well under CI's budget (docs/BENCHMARKS.md, "Test suite time"). print_blob: a failure on CI
# prints the @reproduce_failure line that replays it exactly.
settings.register_profile(
    "ci", max_examples=100, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_PROFILE = os.environ.get("XIAODAI_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_PROFILE)
