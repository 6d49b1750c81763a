"""Process logging: personal data redacted from every record (``privacy.redaction``), level and file from the
environment (``XIAODAI_LOG_LEVEL``, default WARNING; ``XIAODAI_LOG_FILE`` to also write to a file)."""

from __future__ import annotations

import logging
import os

from xiaodai.privacy import redaction


def configure() -> None:
    redaction.install()
    level = os.environ.get("XIAODAI_LOG_LEVEL", "WARNING").upper()
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    path = os.environ.get("XIAODAI_LOG_FILE")
    if path:
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    root = logging.getLogger()
    if getattr(root, "xiaodai_configured", False):
        return
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
    )
    root.xiaodai_configured = True  # type: ignore[attr-defined]
    if level == "DEBUG":
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and their parameters
