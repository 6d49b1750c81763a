"""Turning a raw table into training data: the target as 1 = bad, cleaned numeric and categorical
features, and the protected attributes (kept apart, for fairness metrics only)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xiaodai.underwriting.training_config import TrainingConfig, TrainingError

MIN_ROWS = 50
MIN_BADS = 10
MIN_GOODS = 10
NUMERIC_SHARE = 0.9  # a text column whose values parse as numbers this often is numeric (the rest → missing)
PROTECTED_KEYWORDS: tuple[str, ...] = ("age", "sex", "gender", "marital", "personal_status")
# Ordinary words that contain the letters "age" but say nothing about a person's age.
NOT_AGE_WORDS: tuple[str, ...] = (
    "percentage",
    "average",
    "mortgage",
    "leverage",
    "coverage",
    "brokerage",
    "arrearage",
    "overage",
    "wage",
    "usage",
    "page",
    "stage",
    "image",
    "manage",
    "storage",
    "message",
    "package",
    "village",
    "language",
    "voltage",
    "mileage",
    "dosage",
    "passage",
    "garage",
    "baggage",
    "advantage",
    "acreage",
    "tonnage",
    "footage",
    "postage",
    "vintage",
    "cottage",
    "heritage",
    "agent",
    "agency",
    "agenda",
)


@dataclass(slots=True)
class PreparedData:
    features: pd.DataFrame  # numeric columns float64, categorical columns object (str or NaN)
    y: np.ndarray  # 1 = bad
    numeric: list[str]
    categorical: list[str]
    protected: list[str]  # resolved protected attributes (used for fairness only)
    protected_values: pd.DataFrame  # the raw protected columns, aligned with y
    warnings: list[str] = field(default_factory=list)
    truth: np.ndarray | None = None  # the known true PD per row (``--true-pd``), never a feature

    @property
    def names(self) -> list[str]:
        return list(self.features.columns)


# --------------------------------------------------------------------------------------------- preparing


def is_protected_name(name: str) -> bool:
    """True when a column name looks like a protected attribute (see PROTECTED_KEYWORDS)."""
    lowered = name.lower()
    for word in NOT_AGE_WORDS:
        lowered = lowered.replace(word, " ")
    return any(keyword in lowered for keyword in PROTECTED_KEYWORDS)


def default_protected(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if is_protected_name(c)]


def _columns_list(columns: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(repr(c) for c in list(columns)[:limit])
    return shown + (f", … ({len(columns)} in all)" if len(columns) > limit else "")


def _bad_mask(target: pd.Series, bad_value: str, name: str) -> np.ndarray:
    values = target.dropna()
    text = values.astype(str).str.strip()
    mask = text == bad_value.strip()
    if (
        not mask.any()
        and pd.api.types.is_numeric_dtype(values.dtype)
        and not pd.api.types.is_bool_dtype(values.dtype)
    ):
        with contextlib.suppress(ValueError):
            mask = values.astype(float) == float(bad_value)
    if not mask.any():
        seen = sorted({str(v) for v in text.unique()[:50]})
        raise TrainingError(
            f"bad value {bad_value!r} does not occur in target column {name!r} "
            f"(values: {_columns_list(seen, 10)})"
        )
    return np.asarray(mask, dtype=bool)


def _clean_feature(name: str, series: pd.Series, n_rows: int) -> tuple[str | None, pd.Series, str | None]:
    """Classify one candidate feature: ("numeric"|"categorical"|None to drop, cleaned values, warning)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return (
            None,
            series,
            f"column {name!r} is a date/time: dropped (derive numeric features from it first)",
        )
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        kind: str = "numeric"
        warning = None
    else:
        text = series.astype(object).where(series.notna(), None)
        text = text.map(lambda v: None if v is None else str(v).strip())
        text = text.where(text.map(lambda v: v is not None and v != ""), np.nan).astype(object)
        present = int(text.notna().sum())
        if present == 0:
            return None, series, f"column {name!r} has no values: dropped"
        parsed = pd.to_numeric(text, errors="coerce")
        parsed_ok = int(parsed.notna().sum())
        warning = None
        if parsed_ok == present:
            values, kind = parsed.astype("float64"), "numeric"
        elif parsed_ok >= NUMERIC_SHARE * present:
            garbage = text[text.notna() & parsed.isna()]
            examples = ", ".join(repr(v) for v in list(dict.fromkeys(garbage.tolist()))[:3])
            warning = (
                f"column {name!r} is numeric but {len(garbage)} value(s) are not numbers ({examples}): "
                "treated as missing"
            )
            values, kind = parsed.astype("float64"), "numeric"
        else:
            values, kind = text, "categorical"
    distinct = int(values.nunique(dropna=True))
    if distinct == 0:
        return None, values, f"column {name!r} has no values: dropped"
    if distinct == 1:
        return None, values, f"column {name!r} has a single value: dropped"
    if kind == "numeric":
        present_values = values.dropna()
        if (
            distinct == n_rows
            and n_rows > 20
            and bool((present_values == present_values.round()).all())
            and float(present_values.max() - present_values.min()) == n_rows - 1
        ):
            return None, values, f"column {name!r} looks like a row number: dropped"
    elif distinct > 20 and distinct >= 0.9 * int(values.notna().sum()):
        return (
            None,
            values,
            f"column {name!r} looks like an identifier or free text ({distinct} distinct values): dropped",
        )
    return kind, values, warning


def prepare(frame: pd.DataFrame, config: TrainingConfig) -> PreparedData:
    """Validate the table against the config and split it into features, target and protected attributes."""
    config.validate()
    columns = [str(c) for c in frame.columns]
    if config.target not in columns:
        raise TrainingError(f"target column {config.target!r} not found; columns: {_columns_list(columns)}")
    for option, names in (
        ("--exclude", config.exclude),
        ("--protected", config.protected or ()),
        ("--allow-protected", config.allow_protected),
        ("--true-pd", (config.true_pd,) if config.true_pd else ()),
    ):
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise TrainingError(f"{option}: no such column(s): {', '.join(repr(n) for n in unknown)}")
    notes: list[str] = []
    target = frame[config.target]
    keep = target.notna().to_numpy()
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) with a missing target dropped")
        frame = frame.loc[keep].reset_index(drop=True)
        target = frame[config.target]
    if len(frame) == 0:
        raise TrainingError(f"target column {config.target!r} is empty")
    y = _bad_mask(target, config.bad_value, config.target).astype(int)
    bads, rows = int(y.sum()), len(y)
    if bads == rows:
        raise TrainingError(f"every row has target {config.bad_value!r}: need both good and bad outcomes")
    distinct_targets = int(target.nunique(dropna=True))
    if distinct_targets > 2:
        notes.append(
            f"target {config.target!r} has {distinct_targets} distinct values: "
            f"{config.bad_value!r} is bad, all others good"
        )
    if rows < MIN_ROWS:
        raise TrainingError(f"too few rows: {rows} (need at least {MIN_ROWS})")
    if bads < MIN_BADS:
        raise TrainingError(
            f"too few bads: {bads} rows with {config.target}={config.bad_value!r} (need {MIN_BADS})"
        )
    if rows - bads < MIN_GOODS:
        raise TrainingError(f"too few goods: {rows - bads} (need at least {MIN_GOODS})")
    if min(bads, rows - bads) < config.folds:
        raise TrainingError(f"--folds {config.folds} is more than the number of bads or goods")

    protected = list(config.protected) if config.protected is not None else default_protected(columns)
    protected = [c for c in protected if c != config.target]
    not_protected = [n for n in config.allow_protected if n not in protected]
    if not_protected:
        raise TrainingError(
            f"--allow-protected: {', '.join(repr(n) for n in not_protected)} not protected "
            f"(protected: {', '.join(protected) or 'none'})"
        )
    blocked = set(config.exclude) | (set(protected) - set(config.allow_protected)) | {config.target}
    truth = None
    if config.true_pd:
        blocked.add(config.true_pd)
        truth = _true_pd(frame[config.true_pd], config.true_pd)
    numeric: list[str] = []
    categorical: list[str] = []
    cleaned: dict[str, pd.Series] = {}
    for name in columns:
        if name in blocked:
            continue
        kind, values, warning = _clean_feature(name, frame[name], rows)
        if warning:
            notes.append(warning)
        if kind is None:
            continue
        cleaned[name] = values.reset_index(drop=True)
        (numeric if kind == "numeric" else categorical).append(name)
    if not cleaned:
        raise TrainingError(
            "no usable features: every column is the target, excluded, protected, empty or constant "
            f"(protected: {', '.join(protected) or 'none'})"
        )
    features = pd.DataFrame(cleaned)
    return PreparedData(
        features=features,
        y=np.asarray(y, dtype=int),
        numeric=numeric,
        categorical=categorical,
        protected=protected,
        protected_values=frame[protected].reset_index(drop=True),
        warnings=notes,
        truth=truth,
    )


def _true_pd(column: pd.Series, name: str) -> np.ndarray:
    """The known true PD column: numbers in [0, 1] on every row."""
    values: np.ndarray = np.asarray(pd.to_numeric(column, errors="coerce"), dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise TrainingError(f"--true-pd {name!r} must be a probability between 0 and 1 on every row")
    return values
