"""The seeded demo served once per test session, and the helpers the browser journeys share.

The demo is built by ``xiaodai.demo.seed.seed`` (the same code as ``make run``) on a copy of the migrated
SQLite template, with the business date of today in China. A journey that needs something the seed does
not make (a collection case assigned to the collector, a complaint to handle) creates it through the
services first, so the tests work on the current seed and on a richer one.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import uvicorn

DEMO_PASSWORD = "xiaodai-demo-2026"
DEMO_LOANS = 60
# Every journey signs in from 127.0.0.1 to the one demo server of the session: on an idle machine the
# journeys sign in more than the default 20 times a minute and the per-address limit (tested on its own in
# tests/api/test_security_login.py) refused a legitimate sign-in. The browser tests are not about that limit.
E2E_SIGN_INS = 10_000
ROLES = ("underwriter", "risk", "collector", "complaint_officer", "auditor", "admin")

# What a person must never read on a page: stored codes, ISO timestamps, internal actor ids.
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ISO_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d")
ACTOR_ID = re.compile(r"\buser:\d+\b")
MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d\.\d{3,}")


def today_in_china() -> Any:
    return datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()


@dataclass(frozen=True)
class Demo:
    url: str
    database_url: str
    business_date: Any


def seed_demo(database_url: str, workdir: Path) -> None:
    from xiaodai.db.session import make_engine
    from xiaodai.demo.seed import seed

    engine = make_engine(database_url)
    try:
        wanted = {"today": today_in_china(), "workdir": workdir, "loans": DEMO_LOANS}
        accepted = inspect.signature(seed).parameters
        seed(engine, **{k: v for k, v in wanted.items() if k in accepted})
    finally:
        engine.dispose()


def serve(database_url: str, port: int, wait_until_listening: Any) -> Iterator[str]:
    from xiaodai.api.app import create_app
    from xiaodai.api.settings import Settings

    app = create_app(
        Settings(
            database_url=database_url,
            secret_key="e2e-demo-secret",
            business_date=today_in_china(),
            login_attempts_per_minute=E2E_SIGN_INS,
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-demo", daemon=True)
    thread.start()
    try:
        wait_until_listening(port, server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def copy_template(template: str, folder: Path) -> str:
    target = folder / "demo.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


def model_dir(folder: Path) -> None:
    os.environ["XIAODAI_MODEL_DIR"] = str(folder / "models")


def sign_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation(wait_until="load"):
        page.click("#submit")


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def visible_text(page: Any) -> str:
    """What a person reads: the body's rendered text (hidden inputs and attributes excluded)."""
    return str(page.inner_text("body"))


EMAIL = re.compile(r"\S+@\S+")


def raw_codes(text: str) -> list[str]:
    text = EMAIL.sub(" ", text)  # an e-mail address may hold an underscore; it is not a code
    found = RAW_CODE.findall(text) + ISO_TIME.findall(text) + ACTOR_ID.findall(text)
    return found + MICROSECONDS.findall(text)


UNLABELLED_JS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((el) => el.type !== 'hidden')
  .filter((el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
    if (el.closest('label')) return false;
    return !(el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
  })
  .map((el) => el.outerHTML.slice(0, 120))
"""
