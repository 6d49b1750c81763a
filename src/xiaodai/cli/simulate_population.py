"""``xiaodai simulate population``: a synthetic applicant population with a known true PD (CSV or Parquet).
Registered on the ``simulate`` group in ``cli/main.py``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit


def write_population(out: Path, n: int, seed: int) -> dict[str, float | int | str]:
    """Generate and write; Parquet for ``.parquet``/``.pq``, CSV otherwise. Returns timings and rates."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from xiaodai.simulate.population import generate

    started = time.perf_counter()
    population = generate(n, seed)
    generated = time.perf_counter() - started
    table = pa.table(
        {name: pa.array(values, from_pandas=True) for name, values in population.columns.items()}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        pq.write_table(table, out)
    else:
        pa_csv.write_csv(table, out)
    return {
        "rows": n,
        "seed": seed,
        "out": str(out),
        "generate_seconds": round(generated, 3),
        "total_seconds": round(time.perf_counter() - started, 3),
        "mean_true_pd": round(float(population.columns["true_pd"].mean()), 5),
        "default_rate": round(float(population.columns["defaulted"].mean()), 5),
    }


def population(
    n: Annotated[int, typer.Option("--n", help="Number of applicants")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same n and seed: same rows)")] = 42,
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")] = Path(
        "var/population.parquet"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Applicants with catalogue features (application, platform, bureau), true_pd and defaulted."""
    if not 1 <= n <= 50_000_000:
        fail(f"--n must be between 1 and 50000000, not {n}")
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        fail(f"--out must end in .csv or .parquet, not {out.name!r}")
    try:
        result = write_population(out, n, seed)
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")
    emit(
        result,
        as_json,
        lambda r: typer.echo(
            f"{r['rows']:,} applicants → {r['out']} (generated in {r['generate_seconds']} s, "
            f"{r['total_seconds']} s in all); mean true PD {r['mean_true_pd']}, "
            f"default rate {r['default_rate']}"
        ),
    )
