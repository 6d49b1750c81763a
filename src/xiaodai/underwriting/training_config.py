"""What a training run is asked to do (:class:`TrainingConfig`) and the one error bad input raises."""

from __future__ import annotations

from dataclasses import dataclass


class TrainingError(ValueError):
    """Bad input to training: the message is meant for the user, one line."""


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    target: str
    bad_value: str
    exclude: tuple[str, ...] = ()
    protected: tuple[str, ...] | None = None  # None → detect by name (PROTECTED_KEYWORDS)
    allow_protected: tuple[str, ...] = ()
    folds: int = 5
    seed: int = 42
    cutoff: float | None = None  # approval PD cutoff for fairness metrics; None → the median PD
    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0
    tune: bool = True  # the challenger's inner-CV search with early stopping; False → the fixed old setting
    true_pd: str | None = None  # a column with the known true PD (synthetic data): calibration vs the truth

    def validate(self) -> None:
        if not self.target:
            raise TrainingError("--target is required")
        if self.bad_value == "":
            raise TrainingError("--bad is required (the target value that means default)")
        if not 2 <= self.folds <= 20:
            raise TrainingError(f"--folds must be between 2 and 20, not {self.folds}")
        if self.cutoff is not None and not 0.0 < self.cutoff < 1.0:
            raise TrainingError(
                f"--cutoff is a probability of default strictly between 0 and 1, not {self.cutoff}"
            )
        if self.pdo <= 0 or self.base_odds <= 0:
            raise TrainingError("pdo and base odds must be positive")
