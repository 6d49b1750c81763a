"""The Dask engine: the same kernels over loan-id ranges of a Parquet panel, one task per range.

Each task scans the panel's Parquet files (the workers must see the same path: a shared filesystem or
object storage), keeps the loans whose id falls in its range (Parquet statistics skip the rest), and
runs a kernel's ``partial`` on those complete loan histories; the driver concatenates the partials and
runs ``finalize``. Kernels return additive integer counts and sums, so the totals do not depend on how
the book is split: the results equal the local engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from xiaodai.risk.engines.local import scan_panel
from xiaodai.risk.panel import conform

T = TypeVar("T")


def loan_id_ranges(path: Path, partitions: int) -> list[tuple[int, int]]:
    bounds = scan_panel(path).select(pl.col("loan_id").min().alias("lo"), pl.col("loan_id").max().alias("hi"))
    row = bounds.collect().row(0)
    if row[0] is None:
        return [(0, 1)]
    lo, hi = int(row[0]), int(row[1]) + 1
    step = max(1, -(-(hi - lo) // max(1, partitions)))
    return [(start, min(start + step, hi)) for start in range(lo, hi, step)]


def run_range(path: str, bounds: tuple[int, int], kernel: Callable[[pl.LazyFrame], Any]) -> Any:
    lo, hi = bounds
    panel = scan_panel(Path(path)).filter((pl.col("loan_id") >= lo) & (pl.col("loan_id") < hi))
    return kernel(conform(panel).collect().lazy())  # read the range once for all its kernels


class DaskEngine:
    name = "dask"

    def __init__(self, path: Path, *, scheduler: str | None = None, workers: int = 2, partitions: int = 0):
        import distributed

        dist: Any = distributed  # untyped library: keep its calls out of the type checker's way
        self._cluster: Any = None
        if scheduler:
            self._client: Any = dist.Client(scheduler)
        else:
            self._cluster = dist.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = dist.Client(self._cluster)
        self._path = str(path.resolve())
        count = partitions or 2 * max(1, len(self._client.scheduler_info().get("workers", {})))
        self._ranges = loan_id_ranges(path, count)

    def map(self, kernel: Callable[[pl.LazyFrame], T]) -> list[T]:
        futures = [self._client.submit(run_range, self._path, r, kernel, pure=False) for r in self._ranges]
        return list(self._client.gather(futures))

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
