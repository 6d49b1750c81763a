"""A simulated book run by borrower-id range: in this process, or one Dask task per range (shell).

``simulate.book`` gives every block of ``BookConfig.block_size`` loan ids its own random stream, so a
contiguous range of blocks simulates on its own and the ranges together are the whole book, row for
row. Here the blocks are cut into ``partitions`` ranges; each range writes its own Parquet files,
``panel/part-<first id>-<end id>-<month>.parquet`` (loan ids [first, end), one file per month with rows),
and returns its loan and row counts and its originations by month, which the driver adds up.

On Dask every worker writes its files itself: ``panel_dir`` must be the same path on every worker (a
shared filesystem), as for the analytics (``risk.engines.dask``). The local engine runs the same ranges one
after another (one range by default: the whole book in one pass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xiaodai.pricing.caps import CapBook
from xiaodai.simulate.book import BookConfig, BookSummary, simulate_book
from xiaodai.simulate.book_applicants import ApplicantSource
from xiaodai.underwriting.policy import Policy

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What every range needs besides its blocks (picklable: it travels to the Dask workers)."""

    config: BookConfig
    source: ApplicantSource
    policy: Policy
    cap_book: CapBook


def block_ranges(config: BookConfig, partitions: int) -> list[tuple[int, int]]:
    """``partitions`` contiguous, non-empty ranges of blocks (fewer when the book has fewer blocks)."""
    blocks = config.blocks()
    count = max(1, min(partitions, blocks))
    edges = [blocks * k // count for k in range(count + 1)]
    return [(edges[k], edges[k + 1]) for k in range(count) if edges[k] < edges[k + 1]]


def run_range(
    inputs: Inputs, blocks: tuple[int, int], panel_dir: str, progress: Progress | None = None
) -> BookSummary:
    """Simulate one range of blocks and write its month files; the summary covers the range only."""
    config = inputs.config
    first_id = blocks[0] * config.block_size + 1
    end_id = min(blocks[1] * config.block_size, config.borrowers) + 1
    directory = Path(panel_dir)

    def sink(t: int, frame: pl.DataFrame) -> None:
        # the first range writes every month (an empty month still leaves a typed file); others skip empties
        if frame.height or blocks[0] == 0:
            name = f"part-{first_id:012d}-{end_id:012d}-{t:04d}.parquet"
            frame.write_parquet(directory / name, statistics=True)

    return simulate_book(
        config,
        source=inputs.source,
        policy=inputs.policy,
        cap_book=inputs.cap_book,
        sink=sink,
        progress=progress,
        blocks=blocks,
    )


def combine(summaries: list[BookSummary]) -> BookSummary:
    originations = (
        pl.concat([s.originations for s in summaries])
        .group_by("month", maintain_order=True)
        .agg(pl.col("applications", "approvals", "approved_fen").sum())
        .sort("month")
    )
    return BookSummary(sum(s.loans for s in summaries), sum(s.rows for s in summaries), originations)


def simulate_local(
    inputs: Inputs, panel_dir: Path, *, partitions: int = 1, progress: Progress | None = None
) -> BookSummary:
    ranges = block_ranges(inputs.config, partitions)
    summaries = []
    for index, blocks in enumerate(ranges):
        summaries.append(run_range(inputs, blocks, str(panel_dir), progress if len(ranges) == 1 else None))
        if progress and len(ranges) > 1:
            progress("partitions", index + 1, len(ranges))
    return combine(summaries)


def simulate_dask(
    inputs: Inputs,
    panel_dir: Path,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    partitions: int = 0,
    progress: Progress | None = None,
) -> BookSummary:
    """One task per range on a Dask cluster (``scheduler``), or on a LocalCluster of ``workers`` processes.
    ``partitions`` 0: twice the number of workers."""
    import distributed

    dist: Any = distributed  # untyped library: keep its calls out of the type checker's way
    cluster: Any = None
    if scheduler:
        client: Any = dist.Client(scheduler)
    else:
        cluster = dist.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = dist.Client(cluster)
    try:
        count = partitions or 2 * max(1, len(client.scheduler_info().get("workers", {})))
        ranges = block_ranges(inputs.config, count)
        shipped = client.scatter(inputs, broadcast=True)
        futures = [
            client.submit(run_range, shipped, blocks, str(panel_dir.resolve()), pure=False)
            for blocks in ranges
        ]
        for done, _future in enumerate(dist.as_completed(futures), start=1):
            if progress:
                progress("partitions", done, len(ranges))
        summaries: list[BookSummary] = list(client.gather(futures))  # in range order
        return combine(summaries)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
