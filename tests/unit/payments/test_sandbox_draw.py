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
