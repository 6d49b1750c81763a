"""The sandbox's draw per (seed, card, reference) is the documented one — sha256 of ``seed|card|ref``, its
first 4 bytes modulo the total weight, walked through ``WEIGHTS`` — whatever shortcut computes it."""

from __future__ import annotations

from xiaodai.payments.sandbox_channel import WEIGHTS, SandboxChannel, Scenario


def _reference(channel: SandboxChannel, card: str, ref: str) -> Scenario:
    draw = int.from_bytes(channel._digest(card, ref)[:4], "big") % sum(w for _, w in WEIGHTS)
    for scenario, weight in WEIGHTS:
        if draw < weight:
            return scenario
        draw -= weight
    raise AssertionError("unreachable")


def test_the_draw_is_the_documented_one_for_every_seed() -> None:
    seen: set[Scenario] = set()
    for seed in (0, 7, 11):
        channel = SandboxChannel(seed=seed)
        for i in range(3_000):
            card, ref = f"62220200{i % 97:08d}", f"debit:{i}:{i % 4}"
            drawn = channel.scenario(card, ref)
            assert drawn is _reference(channel, card, ref)
            seen.add(drawn)
        channel.seed = seed + 1  # a changed seed is taken into account
        assert channel.scenario("6222020000000001", "debit:1:0") is _reference(
            channel, "6222020000000001", "debit:1:0"
        )
    assert seen == {s for s, _ in WEIGHTS}


def test_a_scripted_card_is_not_drawn() -> None:
    channel = SandboxChannel(seed=7, scripted={"0666": Scenario.FROZEN})
    assert all(channel.scenario("6222020000000666", f"debit:{i}:0") is Scenario.FROZEN for i in range(50))


def test_the_batch_answers_and_records_exactly_as_one_debit_at_a_time() -> None:
    """``debit_batch`` (one loop, for the debit batch) against ``debit`` per request on a twin sandbox: the
    same answers, outcomes, late callbacks — with scripted cards, 1-fen debits, a reference sent twice in
    one batch, and a batch re-sent (timeouts drawn again, the others answered from memory)."""
    from datetime import date

    from xiaodai.payments.channel import DebitRequest

    def twins() -> tuple[SandboxChannel, SandboxChannel]:
        scripted = {"0666": Scenario.FROZEN, "0777": Scenario.TIMEOUT_SUCCESS, "0888": Scenario.PARTIAL}
        return SandboxChannel(seed=7, scripted=dict(scripted)), SandboxChannel(
            seed=7, scripted=dict(scripted)
        )

    day = date(2026, 2, 10)
    requests = [
        DebitRequest(
            f"debit:{i}:0", f"62220200{i % 1_000:08d}", 1 if i % 50 == 0 else 90_258, date(2026, 2, 10)
        )
        for i in range(4_000)
    ]
    requests.insert(100, requests[7])  # the same reference twice in one batch
    batched, single = twins()
    for _ in range(2):  # the second time: everything is known (timeouts are drawn again)
        assert batched.debit_batch(requests) == [single.debit(r) for r in requests]
        assert batched.outcomes == single.outcomes
        assert batched.late == single.late
        assert batched._late_refs == single._late_refs
    answers = {a.status for a in batched.debit_batch(requests)}
    assert len(answers) == 4  # every status occurs
    assert {s for _, s, _ in batched.outcomes.values()} == {s for s in answers if s.value != "pending"}
    assert batched.late_callbacks() == single.late_callbacks()
    assert batched.settlement_lines(day) == single.settlement_lines(day)
