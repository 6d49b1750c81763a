"""Who a new collection case goes to (strategy.assign_cases) and the strategy's ``cases`` block."""

from __future__ import annotations

from xiaodai.collections.strategy import CasePolicy, assign_cases, default_strategy


def test_least_loaded_collector_first_and_lowest_id_on_a_tie() -> None:
    # 7 has 2 open cases, 9 has none: the first two new cases go to 9, the third to 7 (tie at 2: lower id)
    assert assign_cases([103, 101, 102], [9, 7], {7: 2}) == {101: 9, 102: 9, 103: 7}


def test_equal_load_alternates_in_loan_order() -> None:
    assert assign_cases([1, 2, 3, 4], [5, 6], {}) == {1: 5, 2: 6, 3: 5, 4: 6}


def test_no_collector_leaves_cases_unassigned() -> None:
    assert assign_cases([1, 2], [], {}) == {1: None, 2: None}


def test_no_new_case_assigns_nothing() -> None:
    assert assign_cases([], [5], {5: 3}) == {}


def test_packaged_strategy_collects_every_overdue_bucket_and_not_current_loans() -> None:
    policy = CasePolicy.from_strategy(default_strategy())
    assert policy.open_in_buckets == {"M1", "M2", "M3", "M4+"}
    assert "M0" not in policy.open_in_buckets
    assert policy.assign_to_role == "collector"
    assert policy.profile == "CN"


def test_a_strategy_without_a_cases_block_gets_the_defaults() -> None:
    policy = CasePolicy.from_strategy({"steps": []})
    assert policy.open_in_buckets == {"M1", "M2", "M3", "M4+"}
    assert policy.borrower_timezone == "Asia/Shanghai"
