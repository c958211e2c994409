"""Maximum likelihood shared by the customer-base models: several L-BFGS-B starts on log
parameters. With an analytic gradient L-BFGS-B runs to tight tolerances itself; without one,
a Nelder-Mead polish of the best start takes the fit to the optimum and not to the
optimiser's default tolerance."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits


def maximise_log_likelihood(log_likelihood: Callable[[np.ndarray], float], n: float,
                            starts: Sequence[Sequence[float]], bound: float = 12.0,
                            gradient: Callable[[np.ndarray], np.ndarray] | None = None,
                            ) -> tuple[np.ndarray, float]:
    """Parameters (on the natural scale) maximising ``log_likelihood(params)``, a sum over
    ``n`` customers, and the maximum. The optimisers see the mean per customer on log
    parameters: an O(1) objective whatever n is, so tolerances mean the same on 2k or 1M.
    ``gradient(params)``, when given, is d log_likelihood / d params (natural scale)."""
    # the optimiser's BLAS calls are on vectors of a few numbers: OpenBLAS waking its threads
    # for each made one BG/NBD fit 4x slower (0.24 s vs 0.05 s on 1,500 customers)
    with threadpool_limits(limits=1, user_api="blas"):
        if gradient is not None:
            return _with_gradient(log_likelihood, gradient, n, starts, bound)
        return _without_gradient(log_likelihood, n, starts, bound)


def _without_gradient(log_likelihood, n, starts, bound) -> tuple[np.ndarray, float]:
    def objective(log_params: np.ndarray) -> float:
        if np.any(np.abs(log_params) > bound):
            return np.inf
        value = -log_likelihood(np.exp(log_params)) / n
        return value if np.isfinite(value) else np.inf

    # cheap starts (L-BFGS-B's default tolerances) find the basin, but its pgtol 1e-5 and
    # factr 1e7 stop short of the optimum in the last digits
    best = None
    for start in starts:
        res = minimize(objective, np.asarray(start, float), method="L-BFGS-B",
                       bounds=[(-bound, bound)] * len(start))
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ValueError("the likelihood is not finite at any starting point")
    # near the optimum finite-difference gradients are mostly noise, so tightening L-BFGS-B
    # costs more evaluations than a derivative-free polish of the best start
    simplex = best.x + 1e-3 * np.vstack([np.zeros(len(best.x)), np.eye(len(best.x))])
    polish = minimize(objective, best.x, method="Nelder-Mead",
                      options={"xatol": 1e-8, "fatol": 1e-14, "maxiter": 1000,
                               "initial_simplex": simplex})
    final = polish if polish.fun <= best.fun else best
    return np.exp(final.x), -float(final.fun) * n


def pooled_histories(x, t_x, T, model: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t_x, T) rows and how many customers share each: the likelihood is
    evaluated once per distinct history, so 1M customers in days cost a few 100k terms."""
    x, t_x, T = (np.asarray(v, float).ravel() for v in (x, t_x, T))
    if not len(x) == len(t_x) == len(T):
        raise ValueError(f"{model}: x, t_x and T have different lengths "
                         f"({len(x)}, {len(t_x)}, {len(T)})")
    if len(x) == 0:
        raise ValueError(f"{model} needs at least one customer")
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError(f"{model}: x, t_x and T must be finite (no NaN or inf)")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T).any():
        raise ValueError(f"{model}: need x >= 0 and 0 <= t_x <= T for every customer")
    if (x != np.round(x)).any():
        raise ValueError(f"{model}: x counts repeat purchases and must be whole numbers")
    rows = np.stack([x, t_x, T], axis=1)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    return distinct[:, 0], distinct[:, 1], distinct[:, 2], counts.astype(float)


def _with_gradient(log_likelihood, gradient, n, starts, bound) -> tuple[np.ndarray, float]:
    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = -log_likelihood(params) / n
        if not np.isfinite(value):
            return np.inf, np.zeros_like(log_params)
        return value, -gradient(params) * params / n   # chain rule onto log parameters

    best = None
    for start in starts:
        # exact gradients let L-BFGS-B itself run to the optimum's last digits
        res = minimize(objective, np.asarray(start, float), jac=True, method="L-BFGS-B",
                       bounds=[(-bound, bound)] * len(start),
                       options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ValueError("the likelihood is not finite at any starting point")
    return np.exp(best.x), -float(best.fun) * n
