"""Root finding for annualised rates: safeguarded (bracketed) Newton.

Cash flows are positioned in time by a *discount model*; the solver only sees a function returning
(g(x), g'(x)) that is positive below the root and negative above it for a normal loan (money received
first, paid back later). Float arithmetic is used for the *rate* only; money stays Decimal. Results are
accurate to ~1e-13 in the rate, far inside every disclosure tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Objective = Callable[[float], tuple[float, float]]


class NoRateError(ValueError):
    """No annualised rate exists for these cash flows (or none in the supported range)."""


# Per-period rate search limits. 10,000% a year monthly is 8.33 per period; a daily unit is far smaller.
LOWEST_RATE = -0.9999
HIGHEST_RATE = 1.0e6


def bracketed_newton(
    objective: Objective,
    *,
    guess: float = 0.01,
    tol: float = 1e-14,
    lowest: float = LOWEST_RATE,
    highest: float = HIGHEST_RATE,
) -> float:
    """Find x with objective(x)=0 inside (lowest, highest). Newton steps, bisection when they misbehave."""
    g_guess, _ = objective(guess)
    if g_guess == 0:
        return guess
    # Bracket the root around the guess: g is decreasing for a normal loan.
    if g_guess > 0:
        lo, hi = guess, guess
        while True:
            hi = hi * 2 + 0.5 if hi > 0 else 0.5
            if hi > highest:
                raise NoRateError("no rate up to the supported maximum: the flows never pay back at any rate")
            g_hi, _ = objective(hi)
            if g_hi <= 0:
                break
            lo = hi
    else:
        lo, hi = guess, guess
        while True:
            lo = lo - (lo - lowest) / 2 if lo > lowest + 1e-12 else lowest
            g_lo, _ = objective(lo)
            if g_lo >= 0:
                break
            hi = lo
            if lo <= lowest:
                raise NoRateError("no rate above -100%: the payments never amount to anything")
    x = guess if lo < guess < hi else (lo + hi) / 2
    for _ in range(200):
        g, dg = objective(x)
        if g == 0:
            return x
        if g > 0:
            lo = x
        else:
            hi = x
        step_ok = dg != 0 and math.isfinite(dg)
        nxt = x - g / dg if step_ok else (lo + hi) / 2
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - x) <= tol * max(1.0, abs(x)):
            return nxt
        x = nxt
    raise NoRateError("rate did not converge")
