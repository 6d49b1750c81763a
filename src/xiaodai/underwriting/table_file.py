"""Reading the training table from a CSV or Parquet file, and the file's content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from xiaodai.underwriting.training_config import TrainingError

# --------------------------------------------------------------------------------------------- reading data


def _sniff_csv(path: Path) -> tuple[str, str]:
    """(separator, encoding) from the header line: the most frequent of , ; tab |; UTF-8 else GB18030."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    try:
        text, encoding = head.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if exc.start >= len(head) - 4:
            text, encoding = head[: exc.start].decode("utf-8-sig"), "utf-8-sig"
        else:
            text, encoding = head.decode("gb18030", errors="replace"), "gb18030"
    header = text.splitlines()[0] if text else ""
    separator = max((",", ";", "\t", "|"), key=header.count)
    return (separator if header.count(separator) > 0 else ","), encoding


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (comma, semicolon, tab or pipe separated; UTF-8 or GB18030) or Parquet file.

    Every failure is a TrainingError with a one-line message.
    """
    if not path.exists():
        raise TrainingError(f"data file not found: {path}")
    if not path.is_file():
        raise TrainingError(f"not a file: {path}")
    if path.stat().st_size == 0:
        raise TrainingError(f"data file is empty: {path}")
    parquet = path.suffix.lower() in {".parquet", ".pq"}
    try:
        if parquet:
            frame = pd.read_parquet(path)
        else:
            separator, encoding = _sniff_csv(path)
            frame = pd.read_csv(path, sep=separator, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise TrainingError(f"data file is empty: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        kind = "Parquet" if parquet else "CSV"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingError(f"cannot read {path} as {kind}: {first}") from None
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0:
        raise TrainingError(f"data file has a header but no rows: {path}")
    return frame


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
