"""Vectorised APR for portfolios: many loans at once with numpy (periodic flows, integer periods).

``amounts`` is an (N, T) array: column k is the flow at period k (column 0 is minus the net amount
received; later columns are payments). All rows are solved together by Newton's method on the NPV
polynomial in v = 1/(1+i), evaluated by Horner's rule over contiguous columns. A row whose Newton
iteration leaves the safe region or fails to converge is re-solved by the scalar bracketed solver
(``solver.bracketed_newton``), so the fast path never trades correctness for speed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from xiaodai.pricing.solver import NoRateError, bracketed_newton

FloatArray = npt.NDArray[np.float64]


def periodic_irr(
    amounts: npt.ArrayLike, *, tol: float = 1e-12, max_iter: int = 30, chunk: int = 32768
) -> FloatArray:
    """Periodic IRR per row; NaN where no rate exists (no sign change, or no root in (-99.99%, 1e6))."""
    flows = np.asarray(amounts, dtype=np.float64)
    if flows.ndim != 2:
        raise ValueError("amounts must be a 2-D array (loans x periods)")
    out = np.empty(flows.shape[0], dtype=np.float64)
    for begin in range(0, flows.shape[0], chunk):
        out[begin : begin + chunk] = _solve_chunk(flows[begin : begin + chunk], tol, max_iter)
    return out


def _horner(columns: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """NPV(v) = Σ c_k v^k and its derivative in v; ``columns`` is (T, n), contiguous per period."""
    value = columns[-1].copy()
    deriv = np.zeros_like(value)
    for k in range(columns.shape[0] - 2, -1, -1):
        deriv *= v
        deriv += value
        value *= v
        value += columns[k]
    return value, deriv


def _solve_chunk(flows: FloatArray, tol: float, max_iter: int) -> FloatArray:
    columns = np.ascontiguousarray(flows.T)
    paid = np.where(flows > 0, flows, 0.0).sum(axis=1)
    received = -np.where(flows < 0, flows, 0.0).sum(axis=1)
    span = max(1, flows.shape[1] - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = np.clip((paid - received) / received / span * 2.0, -0.5, 5.0)
    guess[~np.isfinite(guess)] = 0.01
    v = 1.0 / (1.0 + guess)
    converged = np.zeros(flows.shape[0], dtype=bool)
    idx = np.arange(flows.shape[0])
    cols = columns
    for _ in range(max_iter):
        fv, dfv = _horner(cols, v[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = v[idx] - fv / dfv
        done = np.abs(nxt - v[idx]) <= tol * np.abs(nxt)
        v[idx] = nxt
        converged[idx[done]] = True
        keep = ~done & np.isfinite(nxt) & (nxt > 0)
        if not keep.any():
            break
        if keep.sum() < idx.size:
            idx = idx[keep]
            cols = columns[:, idx]
    rate: FloatArray = 1.0 / v - 1.0
    ok = converged & (rate > -0.9999) & np.isfinite(rate) & (paid > 0) & (received > 0)
    for row in np.nonzero(~ok)[0]:
        rate[row] = _scalar(flows[row])
    return rate


def _scalar(row: FloatArray) -> float:
    """Bracketed scalar solve of one row; NaN when no rate exists."""
    if not ((row < 0).any() and (row > 0).any()):
        return float("nan")  # float-ok: a rate, not money
    periods = np.arange(row.size, dtype=np.float64)

    def objective(i: float) -> tuple[float, float]:
        disc = (1.0 + i) ** -periods
        value = float((row * disc).sum())  # float-ok: rate solver, not money
        slope = float((-periods * row * disc).sum() / (1.0 + i))  # float-ok: rate solver, not money
        return value, slope

    try:
        return bracketed_newton(objective, guess=0.01)
    except NoRateError:
        return float("nan")  # float-ok: a rate, not money


def apr_cn_percent(amounts: npt.ArrayLike) -> FloatArray:
    """CN headline figure for monthly flows: 12 × monthly IRR, in percent."""
    return periodic_irr(amounts) * 1200.0
