"""Small shared pieces of the notify shell: its error, timestamps read back as UTC, fen as text, chunked
IN lists."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from xiaodai.servicing.errors import ServicingError

T = TypeVar("T")


class NoticeError(ServicingError):
    """A notice that cannot be made: unknown borrower or kind, a payload its template cannot use (4xx)."""


def aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def fen_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
