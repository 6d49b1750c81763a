"""The local engine: every kernel over the whole panel in one polars process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl

from xiaodai.risk.panel import PanelError, conform

T = TypeVar("T")


def scan_panel(path: Path) -> pl.LazyFrame:
    """A simulated book directory (``panel/*.parquet``), an exported directory, or one Parquet file."""
    if path.is_file():
        return pl.scan_parquet(path)
    for pattern in ("panel/*.parquet", "*.parquet"):
        if any(path.glob(pattern)):
            return pl.scan_parquet(str(path / pattern))
    raise PanelError(f"no Parquet panel under {path}")


class LocalEngine:
    name = "local"

    def __init__(self, panel: pl.LazyFrame) -> None:
        # read and cast once: every kernel then runs on the frame in memory instead of re-reading Parquet
        self._panel = conform(panel).collect().lazy()

    def map(self, kernel: Callable[[pl.LazyFrame], T]) -> list[T]:
        return [kernel(self._panel)]

    def close(self) -> None:
        return None
