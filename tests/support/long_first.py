"""The known long tests start first, spread over the xdist workers (``make pytest``: ``--dist worksteal``).

Work stealing moves queued tests from a busy worker to an idle one, but a test that is running cannot move:
a 2–4 minute test picked up near the end leaves the other CPU idle for that long. xdist's work stealing hands
each worker one contiguous block of the collection (the first ``n // workers`` tests to the first, and so
on), and an idle worker steals from the *end* of the busiest block. So each long test goes to the head of a
block, the longest first, each to the block with the least long work so far: every worker starts on its
long tests and the short ones fill in after them.

``LONG`` holds node-id prefixes (both backends of a parametrised test) with a rough weight in seconds: the
wall seconds of the coordinator's quieter run (2026-12-05, scaled to today's example counts) where it was
recorded, else CPU seconds from the per-test log (docs/BENCHMARKS.md, "Test suite time"). Only the order
and the balance between the blocks depend on it: a test missing from the list runs as before, and a name
in it that no longer exists is ignored. Do not list a test whose time is a module-scoped fixture's (the unit
training tests' models): moved away from its module it would set the fixture up twice.
"""

from __future__ import annotations

import pytest

_SERVICING = "tests/integration/servicing/"
LONG: dict[str, float] = {
    f"{_SERVICING}test_ledger_stateful.py::test_random_servicing_keeps_the_books[sqlite]": 170,
    f"{_SERVICING}test_eod_crash.py::test_killed_eod_resumes_to_the_same_books[postgresql]": 166,
    f"{_SERVICING}test_eod_crash.py::test_killed_eod_resumes_to_the_same_books[sqlite]": 60,
    f"{_SERVICING}test_ledger_stateful.py::test_random_servicing_keeps_the_books[postgresql]": 32,
    "tests/integration/demo/test_demo_world.py::test_demo_world[postgresql]": 40,
    "tests/integration/demo/test_demo_world.py::test_demo_world[sqlite]": 30,
    "tests/integration/privacy/test_demo_no_plaintext.py::": 42,
    f"{_SERVICING}test_eod_crash.py::test_catch_up_in_one_call_equals_day_by_day": 20,
    "tests/integration/privacy/test_key_rotation.py::test_rotation_killed_and_resumed": 12,
    f"{_SERVICING}test_eod.py::test_running_a_day_twice_equals_once": 7,
    f"{_SERVICING}test_eod.py::test_eod_bills_penalises_and_buckets": 6,
    f"{_SERVICING}test_eod_concurrent_payment.py::": 5,
    "tests/cli/test_conformance_cli.py::test_the_console_command_exit_codes": 5,
}


def _cost(item: pytest.Item) -> float:
    return max((cpu for prefix, cpu in LONG.items() if item.nodeid.startswith(prefix)), default=0.0)


def block_sizes(count: int, workers: int) -> list[int]:
    """How xdist's work stealing first splits ``count`` tests over ``workers`` idle workers."""
    sizes = []
    for i in range(workers):
        size = count // (workers - i)
        sizes.append(size)
        count -= size
    return sizes


def long_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    costs = {id(item): _cost(item) for item in items}
    long = sorted((i for i in items if costs[id(i)] > 0), key=lambda i: -costs[id(i)])
    rest = [i for i in items if costs[id(i)] == 0]
    sizes = block_sizes(len(items), max(1, workers))
    heads: list[list[pytest.Item]] = [[] for _ in sizes]
    load = [0.0 for _ in sizes]
    for item in long:
        room = [b for b in range(len(sizes)) if len(heads[b]) < sizes[b]]
        block = min(room, key=lambda b: load[b])
        heads[block].append(item)
        load[block] += costs[id(item)]
    ordered: list[pytest.Item] = []
    for head, size in zip(heads, sizes, strict=True):
        fill = size - len(head)
        ordered += head + rest[:fill]
        rest = rest[fill:]
    return ordered
