"""Fast periodic IRR for equally spaced cash flows, in pure Python (stdlib ``math`` only).

``amounts[k]`` is the net flow at period ``k`` (the pyxirr.irr / numpy_financial.irr convention: the amount
the borrower receives is negative, what they pay back is positive; the opposite convention gives the
same rate). The periodic rate ``i`` solves ``Σ amounts[k] (1+i)^-k = 0``.

How it is fast
--------------
* One pass compresses runs of equal consecutive amounts. An instalment loan is then three runs (the
  advance, the level instalments, the odd last one), whatever its term.
* The unknown is ``x = ln(1+i)``. A run of ``c`` equal amounts ``a`` from period ``t`` is the closed-form
  geometric series ``a e^{-tx} (1-e^{-cx})/(1-e^{-x})`` (``expm1`` keeps it accurate for small ``x``),
  so one NPV-and-derivative evaluation costs a handful of ``exp`` calls instead of one per period. Very
  near ``x = 0`` (``|x|·T < 1e-6``, T the last period) the cubic Taylor expansion in the moments
  ``M_j = Σ k^j a_k`` is used instead (exact to ~1e-24 there; the geometric form would divide 0 by 0).
* The start is the root of the [1/2] Padé approximant of that Taylor series (equivalently, one
  third-order Householder step from ``x = 0``; a refinement of the constant-ratio / direct-ratio
  approximations such as ``i ≈ 2·FC/(A·(n+1))``). It is typically within 1e-4 (relative) of the root
  for consumer loans, so two Newton steps finish.
* When every flow after period 0 has the same sign (any normal loan), ``|f''| <= T·|f'|``, so the error
  left after a Newton step of size ``dx`` is at most about ``T·dx²/2``. Iteration stops once that bound
  is at least 40 times inside the tolerance, which saves the usual "confirming" step. Otherwise it
  stops when the step itself is inside the tolerance.

Tolerance: ``|Δx| <= 1e-13·|x| + 1e-17`` (x ≈ i for small rates), i.e. ~1e-13 relative for any rate above
1e-4 per period. Against a 40-digit reference (on the same float inputs) random consumer loans come out
within ~1e-16 absolute in i: ~1e-15 relative at usual rates, up to ~5e-14 relative at rates near 1% a
year. That floor is the floating-point noise of the NPV itself (about 1e-16 of the flows), which bounds
any float solver. Leading zeros only move the clock: time is counted from the first non-zero flow.

Input: a list or tuple of floats (ints work too). A NumPy row works but is about twice as slow to
iterate; pass ``row.tolist()``, or use :mod:`xiaodai.pricing.apr_vector` for many loans at once.

Safety: when a Newton step leaves the supported range (-99.99% .. 1e8% per period), overflows, or does not
converge in a few steps, the rate is re-solved by :func:`xiaodai.pricing.solver.bracketed_newton` (bracketed,
bisection-safeguarded) on the same NPV, so the fast path never trades correctness for speed. With
several sign changes the equation can have more than one root; like every IRR routine this returns one
of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from math import exp, expm1, log1p

from xiaodai.pricing.solver import HIGHEST_RATE, LOWEST_RATE, NoRateError, bracketed_newton

__all__ = ["periodic_irr"]

_RTOL = 1e-13  # relative tolerance on x = ln(1+i)
_ATOL = 1e-17  # absolute floor (only matters for |i| < 1e-4)
_MAX_NEWTON = 10  # after this many steps without converging, hand over to the bracketed solver
_TAYLOR_BELOW = 1e-6  # use the Taylor expansion when |x| * T is below this
_X_LOW = log1p(LOWEST_RATE)
_X_HIGH = log1p(HIGHEST_RATE)
_FALLBACK_TOL = 1e-15  # bracketed_newton: |step| <= tol * max(1, |i|)

# (amount, first period) for a lone amount; (amount, first period, count) for a run of equal amounts
Single = tuple[float, int]
Run = tuple[float, int, int]
# what the NPV needs: (flow at period 0, singles, runs, last period T, M0, M1, M2, M3)
Model = tuple[float, list[Single], list[Run], int, float, float, float, float]


def periodic_irr(amounts: Sequence[float]) -> float:
    """Periodic IRR of equally spaced flows ``amounts[0..T]`` (period k at index k).

    Raises :class:`~xiaodai.pricing.solver.NoRateError` when the flows do not change sign (or no rate exists
    in the supported range) and :class:`ValueError` when an amount is not finite.
    """
    # ---- one pass: runs of equal consecutive amounts (zeros dropped; they only advance the clock)
    runs: list[Run] = []
    prev: float = 0.0
    start = 0
    t = 0
    for a in amounts:
        if a != prev:
            if prev:
                runs.append((prev, start, t - start))
            prev = a
            start = t
        t += 1
    if prev:
        runs.append((prev, start, t - start))
    if runs and runs[0][2] > 1:  # the first flow is a constant (below): split it off its run
        a, t0, c = runs[0]
        runs[0:1] = [(a, t0, 1), (a, t0 + 1, c - 1)]
    # Leading zeros: measure time from the first flow instead (the rate is the same, and the NPV is
    # better conditioned); so the first run is a lone amount at period 0.
    shift = runs[0][1] if runs else 0

    # ---- split the runs by shape; moments M_j = Σ k^j a_k for the start and the Taylor branch
    const = 0.0  # the flow at period 0 (discount factor 1)
    singles: list[Single] = []
    geos: list[Run] = []
    m0 = m1 = m2 = m3 = 0.0
    later_pos = later_neg = False  # signs of the flows after period 0
    for a, first, c in runs:
        t0 = first - shift
        if not t0:  # period 0 (a lone amount after the split above)
            const = a
            m0 = a
            continue
        if a > 0:
            later_pos = True
        else:
            later_neg = True
        if c == 1:
            singles.append((a, t0))
            m0 += a
            a1 = a * t0
            m1 += a1
            a2 = a1 * t0
            m2 += a2
            m3 += a2 * t0
        else:
            geos.append((a, t0, c))
            # exact integer power sums over t0..e = (sums over 1..e) - (sums over 1..b)
            e = t0 + c - 1
            b = t0 - 1
            s1_e = e * (e + 1) // 2
            s1_b = b * t0 // 2
            m0 += a * c
            m1 += a * (s1_e - s1_b)
            m2 += a * ((s1_e * (2 * e + 1) - s1_b * (2 * b + 1)) // 3)
            m3 += a * (s1_e * s1_e - s1_b * s1_b)
    has_pos = later_pos or const > 0
    has_neg = later_neg or const < 0
    if not (has_pos and has_neg):
        if not math.isfinite(m0):
            raise ValueError("cash flow amounts must be finite numbers")
        raise NoRateError("cash flows need both signs: a negative amount received and positive payments")
    if not (math.isfinite(m0) and math.isfinite(m3)):
        raise ValueError("cash flow amounts must be finite numbers")
    if m0 == 0:
        return 0.0  # Σ amounts = 0: the rate is zero (to the precision of the sum)
    last = runs[-1]
    span = last[1] + last[2] - 1 - shift  # T, the last period with a flow (>= 1 here)
    one_signed = not (later_pos and later_neg)

    # ---- start: root of the [1/2] Padé approximant of f(x) = m0 - m1 x + m2 x²/2 - m3 x³/6 + ...
    c1 = -m1
    c2 = 0.5 * m2
    c3 = -m3 / 6.0
    det = c1 * c1 - m0 * c2
    x = math.nan
    if det:
        p1 = c1 + (c3 * m0 - c2 * c1) / det * m0
        if p1:
            x = -m0 / p1
    if not _X_LOW < x < _X_HIGH and m1:
        x = m0 / m1  # first-order (duration) approximation
    if not _X_LOW < x < _X_HIGH:
        x = 0.01
    guess = x

    # ---- Newton on x
    model: Model = (const, singles, geos, span, m0, m1, m2, m3)
    limit_sq = 0.05 / span  # one-signed flows: stop once span·dx² <= 0.05·tolerance
    try:
        for _ in range(_MAX_NEWTON):
            f, df = _npv(x, model)
            dx = f / df
            x -= dx
            if not _X_LOW < x < _X_HIGH:
                break
            tol = _RTOL * abs(x) + _ATOL
            if (dx * dx <= limit_sq * tol) if one_signed else (abs(dx) <= tol):
                return expm1(x)
    except (OverflowError, ZeroDivisionError):
        pass
    return _bracketed(model, runs[0][0], runs[-1][0], guess)


def _npv(x: float, model: Model) -> tuple[float, float]:
    """f(x) = Σ a_k e^{-kx} and df/dx, run by run (closed-form geometric series)."""
    const, singles, geos, span, m0, m1, m2, m3 = model
    if abs(x) * span < _TAYLOR_BELOW:
        # cubic Taylor series in the moments; the next term is below 1e-24 of Σ|a_k| here
        return (m0 - x * (m1 - x * (0.5 * m2 - x * m3 / 6.0)), -m1 + x * (m2 - 0.5 * x * m3))
    f = const
    df = 0.0
    for a, t0 in singles:
        term = a * exp(-t0 * x)
        f += term
        df -= t0 * term
    if geos:
        e1 = -expm1(-x)  # 1 - e^{-x}, accurate for small x
        q = 1.0 - e1
        for a, t0, c in geos:
            head = exp(-t0 * x)
            ec = -expm1(-c * x)  # 1 - e^{-cx}
            ratio = ec / e1  # Σ_{j<c} e^{-jx}
            # d/dx ratio = (c e^{-cx} (1-e^{-x}) - (1-e^{-cx}) e^{-x}) / (1-e^{-x})²
            dratio = (c * (1.0 - ec) * e1 - ec * q) / (e1 * e1)
            f += a * head * ratio
            df += a * head * (dratio - t0 * ratio)
    return f, df


def _bracketed(model: Model, earliest: float, latest: float, guess_x: float) -> float:
    """The safe path: bracketed, bisection-guarded Newton in i (solver.bracketed_newton).

    ``earliest`` and ``latest`` are the first and last non-zero flows.
    """
    # bracketed_newton wants g > 0 below the root: orient so that the earliest flow is negative
    # (then g < 0 for large i, where the earliest flow dominates).
    orient = -1.0 if earliest > 0 else 1.0
    # as i -> -1 the latest flow dominates (its sign, as oriented)
    towards_minus_one = math.copysign(math.inf, orient * latest)

    def objective(i: float) -> tuple[float, float]:
        try:
            f, df = _npv(log1p(i), model)
        except OverflowError:
            return towards_minus_one, math.nan
        return orient * f, orient * df / (1.0 + i)

    guess = min(max(expm1(guess_x), -0.5), 5.0) if math.isfinite(guess_x) else 0.01
    return bracketed_newton(objective, guess=guess, tol=_FALLBACK_TOL)
