"""When an instalment is debited (pure): attempt ``n`` on due date + ``offsets[n]`` days (data file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    offsets_days: tuple[int, ...] = (0, 1, 3)

    def __post_init__(self) -> None:
        if not self.offsets_days or list(self.offsets_days) != sorted(set(self.offsets_days)):
            raise ValueError("retry offsets must be distinct and increasing")
        if self.offsets_days[0] < 0:
            raise ValueError("the first attempt cannot be before the due date")

    def attempt_on(self, due_on: date, on: date) -> int | None:
        """The attempt scheduled for ``on`` (a missed day is not made up: its attempt is skipped), or None."""
        for n, offset in enumerate(self.offsets_days):
            if due_on + timedelta(days=offset) == on:
                return n
        return None


def default_policy() -> RetryPolicy:
    text = resources.files("xiaodai.payments").joinpath("data/debit_policy.json").read_text(encoding="utf-8")
    return RetryPolicy(tuple(int(d) for d in json.loads(text)["retry_offsets_days"]))
