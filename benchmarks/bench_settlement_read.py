"""The settlement file's check (``reconcile_file.read_file``, polars) on a ``--n``-line file, version 1 (no
``kind`` column) and version 2 (payouts reconciled): wall and process CPU, best of ``--repeat``.

    PYTHONPATH=src POLARS_MAX_THREADS=2 .venv/bin/python benchmarks/bench_settlement_read.py --n 1000000

The file is made in memory (debits, one in ten failed); no database. Run it on two checkouts back to back
to compare (a checkout before version 2 refuses the version 2 file: reported as refused).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date

from xiaodai.payments.reconcile_file import read_file
from xiaodai.payments.settlement_file import SettlementFileError

DAY = date(2026, 2, 10)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def files(n: int) -> dict[str, bytes]:
    rows = [
        f"debit:{k}:0,2026-02-10,succeeded,902.58" if k % 10 else f"debit:{k}:0,2026-02-10,failed,0.00"
        for k in range(n)
    ]
    return {
        "v1": ("channel_ref,settled_on,status,amount\n" + "\n".join(rows) + "\n").encode(),
        "v2": ("channel_ref,settled_on,status,amount,kind\n" + ",debit\n".join(rows) + ",debit\n").encode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, data in files(args.n).items():
        best: tuple[float, float] | None = None
        try:
            for _ in range(args.repeat):
                cpu, wall = _cpu(), time.perf_counter()
                height = read_file(data, on=DAY).height
                took = (time.perf_counter() - wall, _cpu() - cpu)
                best = took if best is None or took[0] < best[0] else best
        except SettlementFileError as exc:
            print(f"{name}: refused ({exc})")
            continue
        assert best is not None
        assert height == args.n
        print(
            f"{name}: {height:,} lines, wall {best[0]:.3f} s, CPU {best[1]:.3f} s, "
            f"load {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
