"""One clear error line and a non-zero exit."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

USAGE = 2  # bad input
REFUSED = 1  # a policy said no (e.g. rate cap)


def fail(message: str, code: int = USAGE) -> NoReturn:
    sys.stderr.write(f"xiaodai: error: {message}\n")
    raise typer.Exit(code)
