"""``benchmarks/soak_payments.py``'s verdict (``judge``): what the clients were answered against what the
journal holds — a payment settled as a prepayment is still that payment; a lost, a doubled, an unanswered
and a refused-but-posted payment are each counted. Importing the script also proves it still runs against
``bench_http``'s helpers (it once stopped at its import)."""

from __future__ import annotations

from typing import Any

from support.scripts import benchmark_script

soak: Any = benchmark_script("soak_payments")
USERS = {10: 7, 11: 8}  # loan id -> borrower id


def _tally(**paid: tuple[int, int, int]) -> Any:
    tally = soak.Tally()
    tally.paid.update(paid)
    return tally


def test_every_answered_payment_found_once_is_clean_a_settling_prepayment_included() -> None:
    tally = _tally(a=(10, 150, 1), b=(11, 99, 2))
    rows = [(1, "repay:u7:a", 10, 150), (2, "prepay:u8:b", 11, 99)]
    verdict = soak.judge(rows, {10: 150, 11: 99}, tally, USERS)
    assert all(verdict[name] == 0 for name in soak.ZERO_EXPECTED if name in verdict), verdict
    assert verdict["settled_by_the_payment"] == 1
    assert verdict["journal_payments"] == verdict["payments_2xx"] == 2


def test_lost_doubled_mismatched_unanswered_and_refused_but_posted_are_counted() -> None:
    tally = _tally(a=(10, 150, 1), b=(10, 20, 2), c=(11, 5, 3), d=(11, 6, 9))
    tally.refused["e"] = 409
    rows = [
        (1, "repay:u7:a", 10, 150),
        (4, "repay:u7:a", 10, 150),  # a twice: doubled
        (2, "repay:u7:b", 10, 21),  # b: another amount than answered
        # c: never posted (lost)
        (9, "repay:u8:d", 11, 6),
        (5, "repay:u8:x", 11, 3),  # nobody was answered for x
        (6, "repay:u8:e", 11, 4),  # e was refused, yet posted
    ]
    verdict = soak.judge(rows, {10: 170, 11: 11}, tally, USERS)
    assert (verdict["lost"], verdict["doubled"], verdict["mismatched"]) == (1, 1, 1)
    assert verdict["posted_without_2xx"] == 2  # x and e
    assert verdict["refused_but_posted"] == 1
    assert verdict["loans_with_wrong_paid_total"] == 0  # the totals given agree with the answers
    assert soak.judge(rows, {10: 171, 11: 11}, tally, USERS)["loans_with_wrong_paid_total"] == 1
