"""``metrics.LatencyTally``: request latencies added up in the process give exactly the histogram that
observing each request would (buckets, sum, count, per series), reach it within ``FLUSH_AFTER`` on a
running event loop, at once without one, and by ``/metrics`` (``exposition``) at once."""

from __future__ import annotations

import asyncio
import random
import threading

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from xiaodai.metrics import LATENCY_BUCKETS, LatencyTally


def histogram(registry: CollectorRegistry) -> Histogram:
    labels = ["method", "route", "status"]
    return Histogram("t_seconds", "t", labels, buckets=LATENCY_BUCKETS, registry=registry)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }


def test_the_tally_gives_the_histogram_that_each_observation_gives() -> None:
    direct_registry, tallied_registry = CollectorRegistry(), CollectorRegistry()
    direct, tallied = histogram(direct_registry), histogram(tallied_registry)
    tally = LatencyTally(tallied)
    assert not tally.direct
    rng = random.Random(7)
    edges = [*LATENCY_BUCKETS, 0.0, 1e-9, 30.0]  # on a bound, zero, tiny, past the last bound
    for n in range(3000):
        labels = (rng.choice(["GET", "POST"]), rng.choice(["/api/loans", "/api/loans/{loan_id}"]), "200")
        seconds = edges[n % len(edges)] if n % 5 == 0 else rng.expovariate(20)
        direct.labels(*labels).observe(seconds)
        tally.observe(labels, seconds)  # no event loop here: flushed at once
    tally.flush()
    want, got = samples(direct_registry), samples(tallied_registry)
    assert want.keys() == got.keys()
    for key, value in want.items():
        assert abs(got[key] - value) <= 1e-9 * max(1.0, abs(value)), key


def test_on_an_event_loop_the_flush_comes_within_a_second_and_threads_may_count_too() -> None:
    registry = CollectorRegistry()
    tally = LatencyTally(histogram(registry))
    count = ("t_seconds_count", (("method", "GET"), ("route", "/x"), ("status", "200")))

    async def requests() -> tuple[float, float]:
        for _ in range(100):
            tally.observe(("GET", "/x", "200"), 0.002)
        workers = [
            threading.Thread(target=lambda: [tally.observe(("GET", "/x", "200"), 0.02) for _ in range(500)])
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        at_once = samples(registry).get(count, 0.0)
        await asyncio.sleep(tally.FLUSH_AFTER + 0.3)
        return at_once, samples(registry)[count]

    at_once, later = asyncio.run(requests())
    assert at_once < 2100  # what the loop counted waits for its flush
    assert later == 2100


def test_metrics_exposition_flushes_this_process() -> None:
    from xiaodai.metrics import LATENCY_TALLY, exposition

    async def one() -> None:
        LATENCY_TALLY.observe(("PATCH", "/tally-test", "418"), 0.003)

    asyncio.run(one())  # counted on a loop whose flush never ran (the loop is gone)
    text = exposition()[0].decode()
    line = 'xiaodai_http_request_duration_seconds_count{method="PATCH",route="/tally-test",status="418"}'
    assert line in text
    assert float(text.split(line, 1)[1].split()[0]) >= 1.0
    assert "t_seconds" not in generate_latest().decode()


def test_a_flush_whose_loop_went_away_is_made_up_by_the_next_request() -> None:
    registry = CollectorRegistry()
    tally = LatencyTally(histogram(registry))
    tally.FLUSH_AFTER = 0.05  # type: ignore[misc]
    count = ("t_seconds_count", (("method", "GET"), ("route", "/y"), ("status", "200")))

    async def one() -> None:
        tally.observe(("GET", "/y", "200"), 0.001)

    asyncio.run(one())  # its flush was scheduled on a loop that is now closed
    asyncio.run(asyncio.sleep(0.2))
    asyncio.run(one())  # overdue: this request flushes both
    assert samples(registry)[count] == 2
