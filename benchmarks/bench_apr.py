"""APR benchmarks, side by side in one run (see docs/BENCHMARKS.md).

    .venv/bin/python benchmarks/bench_apr.py            # full run (the figures in docs/BENCHMARKS.md)
    .venv/bin/python benchmarks/bench_apr.py --quick    # fewer repetitions and loans (a smoke run)
    .venv/bin/python benchmarks/bench_apr.py --repeat 9 # more warm rounds of (b) (default 5)

(a) one APR of a 24-payment loan: xiaodai.pricing.irr_fast.periodic_irr and
    xiaodai.pricing.apr.solve_unit_rate vs pyxirr.irr and numpy_financial.irr on the same flows
    (goal: irr_fast within 2x of pyxirr);
(b) APR of 1,000,000 loans at once: xiaodai.pricing.apr_vector.periodic_irr vs a Python loop of pyxirr.irr
    over the same rows, both timed in each of --repeat rounds; the median of the per-round ratios
    (goal: at least 2x faster);
(c) a full 24-row quote (schedule + APR in three conventions + cap check): build_quote, per call.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import numpy_financial as npf
import pyxirr

from xiaodai.pricing.apr import solve_unit_rate
from xiaodai.pricing.apr_vector import periodic_irr as vector_irr
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.cashflow import Positioned
from xiaodai.pricing.irr_fast import periodic_irr
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method, build_schedule

SINGLE_GOAL = 2.0  # irr_fast / pyxirr, per call: at most this
VECTOR_GOAL = 2.0  # pyxirr loop / apr_vector: at least this
TERM = 24
SEED = 20260110

FloatArray = npt.NDArray[np.float64]


def _terms() -> LoanTerms:
    return LoanTerms(
        principal=Decimal("10000"),
        term=TERM,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.18"),
        start_on=date(2026, 1, 10),
    )


def _package_version(module: object) -> str:
    return str(getattr(module, "__version__", "?"))


def machine_info() -> None:
    print("machine")
    print(
        f"  python            {platform.python_implementation()} {sys.version.split()[0]} ({sys.executable})"
    )
    print(f"  platform          {platform.platform()}")
    print(f"  processor         {platform.machine()} {platform.processor() or ''}".rstrip())
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"  cpu count         {os.cpu_count()} (usable by this process: {usable})")
    print(f"  numpy             {np.__version__}")
    print(f"  pyxirr            {_package_version(pyxirr)}")
    print(f"  numpy_financial   {_package_version(npf)}")
    print(f"  OPENBLAS_CORETYPE {os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print()


# ---------------------------------------------------------------- (a) one APR of a 24-payment loan


def _per_call_us(func: Callable[[], object], repeat: int, min_batch_s: float) -> list[float]:
    """Per-call times (µs) of ``repeat`` timeit batches, each lasting at least ``min_batch_s``."""
    timer = timeit.Timer(func)
    number = 1
    while timer.timeit(number) < min_batch_s:
        number *= 2
    return [t / number * 1e6 for t in timer.repeat(repeat=repeat, number=number)]


def bench_single(quick: bool) -> float:
    schedule = build_schedule(_terms())
    payments = [row.payment for row in schedule.rows]
    flows = [-10000.0] + [float(p) for p in payments]  # float-ok: benchmark input
    advances = [Positioned(Decimal("10000"), 0, Fraction(0))]
    positioned = [Positioned(p, k, Fraction(0)) for k, p in enumerate(payments, start=1)]
    shape = (
        f"1 advance + {TERM} payments ({payments[0]} x {payments.count(payments[0])}, then {payments[-1]})"
    )

    candidates: list[tuple[str, Callable[[], float | None]]] = [
        ("xiaodai irr_fast.periodic_irr", lambda: periodic_irr(flows)),
        ("xiaodai apr.solve_unit_rate", lambda: solve_unit_rate(advances, positioned)),
        ("pyxirr.irr", lambda: pyxirr.irr(flows)),
        ("numpy_financial.irr", lambda: npf.irr(flows)),
    ]
    rounds = 5 if quick else 15
    min_batch = 0.02 if quick else 0.05
    # Interleave the candidates round by round so that a burst of load elsewhere hits them all alike.
    samples: dict[str, list[float]] = {name: [] for name, _ in candidates}
    for _ in range(rounds):
        for name, func in candidates:
            samples[name].extend(_per_call_us(func, 1, min_batch))
    reference = pyxirr.irr(flows)
    assert reference is not None
    ref_median = statistics.median(samples["pyxirr.irr"])

    print(f"(a) one APR of a {TERM}-payment loan: {shape}")
    print(f"    {rounds} interleaved timeit batches per candidate; median and best µs per call")
    print(f"    {'candidate':<31} {'median µs':>10} {'best µs':>9} {'vs pyxirr':>10} {'|rate - pyxirr|':>16}")
    for name, func in candidates:
        median = statistics.median(samples[name])
        value = func()
        diff = math.nan if value is None else abs(value - reference)
        print(
            f"    {name:<31} {median:>10.2f} {min(samples[name]):>9.2f} "
            f"{median / ref_median:>9.2f}x {diff:>16.1e}"
        )
    ratio = statistics.median(samples["xiaodai irr_fast.periodic_irr"]) / ref_median
    verdict = "MET" if ratio <= SINGLE_GOAL else "MISSED"
    print(f"    goal: irr_fast within {SINGLE_GOAL:.0f}x of pyxirr -> {ratio:.2f}x  [{verdict}]")
    print(f"    monthly rate {reference!r}; CN APR {reference * 1200:.10f}%")
    print()
    return ratio


# ---------------------------------------------------------------- (b) one million loans at once


def _round_cents(x: FloatArray) -> FloatArray:
    """Half-up to cents (what the schedules do), elementwise."""
    return np.floor(x * 100.0 + 0.5) / 100.0


def random_loans(n: int, term: int, seed: int) -> FloatArray:
    """(n, term+1) flows of random equal-instalment loans: principal 500-30000.00, 0-36% a year
    (whole basis points), payment rounded to cents, interest rounded to cents each month, the last
    payment clearing the balance."""
    rng = np.random.default_rng(seed)
    principal = rng.integers(50_000, 3_000_001, size=n) / 100.0
    monthly = rng.integers(0, 3601, size=n) / 10_000.0 / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        level = principal * monthly / (1.0 - (1.0 + monthly) ** -term)
    level = np.where(monthly > 0, level, principal / term)
    payment = _round_cents(level)
    balance = principal.copy()
    for _ in range(term - 1):
        balance = _round_cents(balance + _round_cents(balance * monthly) - payment)
    last = _round_cents(balance + _round_cents(balance * monthly))
    flows = np.empty((n, term + 1), dtype=np.float64)
    flows[:, 0] = -principal
    flows[:, 1:term] = payment[:, None]
    flows[:, term] = last
    return flows


def _seconds(func: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def bench_vector(quick: bool, n_loans: int, repeat: int) -> float:
    flows = random_loans(n_loans, TERM, SEED)
    # The row lists for the scalar loops are built outside the timing (as a caller would hold them).
    rows = [
        [-p, *([m] * (TERM - 1)), last]
        for p, m, last in zip(
            (-flows[:, 0]).tolist(), flows[:, 1].tolist(), flows[:, TERM].tolist(), strict=True
        )
    ]
    assert all(len(r) == TERM + 1 for r in rows[:10])

    # One cold run of each (first touch of the big temporaries), then ``repeat`` warm rounds. Each round
    # times both sides back to back, so a burst of load elsewhere hits a round's two sides alike; the
    # headline is the median of the per-round ratios.
    vec_result: list[FloatArray] = []
    loop_result: list[list[float | None]] = []
    vec_cold = _seconds(lambda: vec_result.append(vector_irr(flows)), 1)[0]
    loop_cold = _seconds(lambda: loop_result.append([pyxirr.irr(r) for r in rows]), 1)[0]
    vec_times: list[float] = []
    loop_times: list[float] = []
    for _ in range(repeat):
        vec_times += _seconds(lambda: vec_result.append(vector_irr(flows)), 1)
        loop_times += _seconds(lambda: loop_result.append([pyxirr.irr(r) for r in rows]), 1)
        del vec_result[:-1], loop_result[:-1]
    fast_result: list[list[float]] = []
    fast_times = _seconds(lambda: fast_result.append([periodic_irr(r) for r in rows]), 1)

    vec = vec_result[-1]
    ref = np.array(loop_result[-1], dtype=np.float64)
    fast = np.array(fast_result[-1], dtype=np.float64)
    ratios = [loop / vec_s for vec_s, loop in zip(vec_times, loop_times, strict=True)]
    speedup = statistics.median(ratios)
    vec_s = statistics.median(vec_times)
    loop_s = statistics.median(loop_times)
    fast_s = fast_times[0]

    print(f"(b) APR of {n_loans:,} random {TERM}-payment loans at once (seed {SEED}; 0-36% a year)")
    print(
        f"    {repeat} warm rounds after 1 cold run, both sides back to back in each round; medians; "
        "row lists pre-built outside the timing"
    )
    print(f"    {'candidate':<45} {'seconds':>8} {'µs/loan':>8} {'speed-up':>9} {'cold s':>7}")

    def row(name: str, seconds: float, cold: float | None) -> None:
        cold_text = f"{cold:>7.3f}" if cold is not None else f"{'-':>7}"
        print(
            f"    {name:<45} {seconds:>8.3f} {seconds / n_loans * 1e6:>8.3f} "
            f"{loop_s / seconds:>8.2f}x {cold_text}"
        )

    row("xiaodai apr_vector.periodic_irr (N,T) array", vec_s, vec_cold)
    row("Python loop of pyxirr.irr", loop_s, loop_cold)
    row("Python loop of irr_fast.periodic_irr (1 run)", fast_s, None)
    rounds = zip(vec_times, loop_times, ratios, strict=True)
    print("    per round: " + ", ".join(f"{v:.3f}s vs {lp:.3f}s = {r:.2f}x" for v, lp, r in rounds))
    worst = np.max(np.abs(vec - ref))
    print(
        f"    max |apr_vector - pyxirr| = {worst:.2e} (monthly rate; {worst * 1200:.1e} percentage points "
        f"of APR), NaN rows: {int(np.isnan(vec).sum())}"
    )
    print(
        f"    max |irr_fast - pyxirr| = {np.max(np.abs(fast - ref)):.2e}; "
        f"max |irr_fast - apr_vector| = {np.max(np.abs(fast - vec)):.2e}"
    )
    verdict = "MET" if speedup >= VECTOR_GOAL else "MISSED"
    print(
        f"    goal: apr_vector at least {VECTOR_GOAL:.0f}x faster than the pyxirr loop -> median of "
        f"{repeat} rounds {speedup:.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}x)  [{verdict}] "
        f"(cold runs: {loop_cold / vec_cold:.2f}x)"
    )
    print()
    return speedup


# ---------------------------------------------------------------- (c) a full quote


def bench_quote(quick: bool) -> tuple[float, float]:
    terms = _terms()
    book = default_cap_book()
    cap = book.profile("cn-consumer-24")
    calls = 200 if quick else 3000
    for _ in range(20):  # warm-up: imports, caches, the cap book
        build_quote(terms, cap=cap, cap_book=book)
    times_us = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        build_quote(terms, cap=cap, cap_book=book)
        times_us.append((time.perf_counter_ns() - start) / 1000.0)
    quote = build_quote(terms, cap=cap, cap_book=book)
    median = statistics.median(times_us)
    p99 = statistics.quantiles(times_us, n=100, method="inclusive")[98]
    print(f"(c) full {TERM}-row quote: build_quote(10000 CNY, 18%, equal instalment, cap cn-consumer-24)")
    print(
        f"    {calls} individual calls after 20 warm-up calls; CN APR {quote.apr_percent}%, "
        f"cap verdict {quote.cap.reason.value if quote.cap else '-'}"
    )
    print(f"    median {median:>9.1f} µs  ({median / 1000:.3f} ms)")
    print(f"    p99    {p99:>9.1f} µs  ({p99 / 1000:.3f} ms)")
    print(f"    best   {min(times_us):>9.1f} µs   mean {statistics.fmean(times_us):.1f} µs")
    print()
    return median, p99


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and 100,000 loans")
    parser.add_argument("--loans", type=int, default=None, help="loans for (b) (default 1,000,000)")
    parser.add_argument(
        "--repeat", type=int, default=None, help="warm rounds of both sides in (b) (default 5; --quick 2)"
    )
    args = parser.parse_args(argv)
    n_loans = args.loans or (100_000 if args.quick else 1_000_000)

    print(f"xiaodai APR benchmarks ({'quick' if args.quick else 'full'} run)")
    print()
    machine_info()
    ratio = bench_single(args.quick)
    repeat = args.repeat or (2 if args.quick else 5)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    speedup = bench_vector(args.quick, n_loans, repeat)
    median, p99 = bench_quote(args.quick)
    print("summary")
    print(f"  (a) irr_fast / pyxirr, one 24-payment APR:  {ratio:.2f}x  (goal <= {SINGLE_GOAL:.0f}x)")
    print(
        f"  (b) apr_vector vs pyxirr loop, {n_loans:,} loans: {speedup:.2f}x faster, median of {repeat} "
        f"rounds  (goal >= {VECTOR_GOAL:.0f}x)"
    )
    print(f"  (c) build_quote: median {median:.0f} µs, p99 {p99:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
