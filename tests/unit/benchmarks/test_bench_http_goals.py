"""``benchmarks/bench_http.goal_lines``: issue 14's goals judged on the medians of the rounds, each also
shown as a share of the ceiling measured in the same round."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_http", ROOT / "benchmarks" / "bench_http.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_http", module)
    spec.loader.exec_module(module)
    return module


def run(rps: float, p99: float) -> dict[str, float]:
    return {"requests": 1000, "rps": rps, "p99_ms": p99}


def test_goals_are_judged_on_medians_and_shown_against_their_ceiling() -> None:
    b = bench()
    labels = dict(b.ENDPOINTS)
    rounds = [
        {
            "bare": {"rps": bare},
            "pg": {"tps": tps},
            "runs": [
                (labels["loans"], run(loans, 12.0)),
                (labels["repay"], run(repay, p99)),
                (labels["apply"], run(apply, 90.0)),
            ],
        }
        for bare, tps, loans, repay, p99, apply in (
            (3400, 1400, 2900, 530, 59.0, 280),
            (3500, 1500, 3000, 650, 48.0, 320),
            (3300, 1450, 2800, 610, 49.5, 310),
        )
    ]
    lines = b.goal_lines(rounds)
    loans = next(line for line in lines if labels["loans"] in line)
    repay = next(line for line in lines if labels["repay"] in line)
    apply = next(line for line in lines if labels["apply"] in line)
    assert " met " in loans
    assert "2,900/s" in loans
    assert "0.85 of bare FastAPI (the goal was 0.33-0.40 of it)" in loans
    assert " met " in repay  # medians: 610/s, p99 49.5 ms
    assert "0.42 of pgbench TPC-B (the goal was 0.19 of it)" in repay
    assert " met " in apply  # 310/s
    assert not [line for line in lines if labels["loan"] in line]  # not measured: no line
    rounds[2]["runs"][1] = (labels["repay"], run(610, 51.0))  # the median p99 is now 51.0
    assert "NOT met" in next(line for line in b.goal_lines(rounds) if labels["repay"] in line)
