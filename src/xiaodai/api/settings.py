"""Application settings from the environment (read here, in the shell, once)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    secret_key: str
    https: bool = False
    business_date: date | None = None  # fixed "today" for demos and tests
    login_attempts_per_minute: int = 20  # per client IP, API and web form together
    session_idle: timedelta = timedelta(minutes=30)  # a signed-in web session ends after this idle time
    session_absolute: timedelta = timedelta(hours=8)  # ... and this long after sign-in, whatever happens
    allowed_origins: tuple[str, ...] = ()  # other origins a signed-in browser may write to the API from
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-For is believed


def _secret() -> str:
    if os.environ.get("XIAODAI_SECRET_KEY"):
        return os.environ["XIAODAI_SECRET_KEY"]
    path = Path("var/secret.key")
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def from_env() -> Settings:
    from xiaodai.db.session import database_url

    fixed = os.environ.get("XIAODAI_BUSINESS_DATE")
    return Settings(
        database_url=database_url(),
        secret_key=_secret(),
        https=os.environ.get("XIAODAI_HTTPS", "") == "1",
        business_date=date.fromisoformat(fixed) if fixed else None,
        allowed_origins=_list("XIAODAI_ALLOWED_ORIGINS"),
        trusted_proxies=_list("XIAODAI_TRUSTED_PROXIES"),
    )


def _list(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())
