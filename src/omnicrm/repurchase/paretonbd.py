"""Pareto/NBD (Schmittlein, Morrison and Colombo 1987), fitted with scipy: the likelihood in
logs (Fader and Hardie's implementation note), P(alive), expected and P(any) purchases.

Same inputs as :mod:`.bgnbd` (x repeat purchases, t_x last purchase, T age, from the first
purchase): while alive, purchases are Poisson(lambda), lambda ~ Gamma(r, alpha); the lifetime
is Exponential(mu), mu ~ Gamma(s, beta), so a customer can drop out at any moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln, hyp2f1

from .mle import maximise_log_likelihood, pooled_histories

_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _log_integral_quadrature(r, alpha, s, beta, x, t_x, T):
    """log of int_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du by Gauss-Legendre on
    log(alpha+u): the fallback where hyp2f1 overflows or its difference cancels."""
    lo, hi = np.log(alpha + t_x), np.log(alpha + T)
    half = (hi - lo) / 2
    v = (lo + hi)[..., None] / 2 + half[..., None] * _GAUSS_NODES  # v = log(alpha + u)
    u = np.exp(v) - alpha[..., None]
    log_f = (1 - (r + x)[..., None]) * v - (s + 1)[..., None] * np.log(beta[..., None] + u)
    peak = log_f.max(axis=-1, keepdims=True)
    total = np.sum(_GAUSS_WEIGHTS * np.exp(log_f - peak), axis=-1)
    with np.errstate(divide="ignore"):
        return peak[..., 0] + np.log(total) + np.log(half)


def _log_integral(r, alpha, s, beta, x, t_x, T):
    """log of int_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du (0 width: -inf), the
    probability mass of dying between the last purchase and T, up to constants.

    Fader and Hardie's closed form: with a = r+s+x and the larger of alpha and beta as
    ``big``, the integral is [F(t_x) - F(T)] / a, F(u) = 2F1(a, c; a+1; z(u)) / (big+u)^a,
    z(u) = |alpha-beta| / (big+u), c = s+1 if alpha >= beta else r+x. Evaluated in logs;
    where the two terms nearly cancel (t_x close to T) or hyp2f1 overflows, quadrature."""
    r, alpha, s, beta, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, float) for v in
                                                        (r, alpha, s, beta, x, t_x, T)))
    a = r + s + x
    alpha_big = alpha >= beta
    big = np.where(alpha_big, alpha, beta)
    c = np.where(alpha_big, s + 1, r + x)
    gap = np.abs(alpha - beta)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_f_tx = np.log(hyp2f1(a, c, a + 1, gap / (big + t_x))) - a * np.log(big + t_x)
        log_f_T = np.log(hyp2f1(a, c, a + 1, gap / (big + T))) - a * np.log(big + T)
        diff = log_f_T - log_f_tx  # <= 0: F decreases in u
        closed = log_f_tx + np.log(-np.expm1(diff)) - np.log(a)
    # relative error of the difference ~ 1e-13 / (1 - e^diff): keep it below ~1e-9
    ok = np.isfinite(closed) & (diff < -1e-4)
    out = np.where(T > t_x, closed, -np.inf)
    redo = (T > t_x) & ~ok
    if redo.any():
        out[redo] = _log_integral_quadrature(r[redo], alpha[redo], s[redo], beta[redo],
                                             x[redo], t_x[redo], T[redo])
    return out


def _log_likelihood_terms(r, alpha, s, beta, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood (parameters may be arrays: the posterior updates used by
    P(any purchase) broadcast through here)."""
    x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive_at_T = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died_after_last = np.log(s) + _log_integral(r, alpha, s, beta, x, t_x, T)
    return head + np.logaddexp(alive_at_T, died_after_last)


@dataclass
class ParetoNBD:
    """Fitted Pareto/NBD parameters (time unit: that of the data, days here)."""

    r: float
    alpha: float
    s: float
    beta: float

    @classmethod
    def fit(cls, x, t_x, T, penalizer: float = 0.0) -> ParetoNBD:
        """Maximum likelihood on customers' (x, t_x, T); identical rows are pooled first."""
        xs, txs, Ts, ws = pooled_histories(x, t_x, T, "Pareto/NBD")

        def log_likelihood(params: np.ndarray) -> float:
            ll = float(np.sum(ws * _log_likelihood_terms(*params, xs, txs, Ts)))
            return ll - penalizer * ws.sum() * float(np.sum(params ** 2))

        log_scale = np.log(max(float(Ts.max()), 1.0))  # alpha, beta start relative to ages
        starts = [[0.0, log_scale - 2.0, 0.0, log_scale - 2.0],
                  [-1.0, log_scale - 4.0, -1.0, log_scale - 1.0],
                  [1.0, log_scale, 1.0, log_scale]]
        (r, alpha, s, beta), _ = maximise_log_likelihood(log_likelihood, ws.sum(), starts)
        return cls(float(r), float(alpha), float(s), float(beta))

    def log_likelihood(self, x, t_x, T) -> float:
        """Sum of the customers' log-likelihoods at these parameters."""
        xs, txs, Ts, ws = pooled_histories(x, t_x, T, "Pareto/NBD")
        return float(np.sum(ws * _log_likelihood_terms(self.r, self.alpha, self.s, self.beta,
                                                       xs, txs, Ts)))

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(still a customer at T | x, t_x, T)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        # the 'alive at T' share of the likelihood's two terms
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died = np.log(s) + _log_integral(r, alpha, s, beta, x, t_x, T)
        return np.exp(alive - np.logaddexp(alive, died))

    def expected_purchases(self, t: float, x, t_x, T) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T]: P(alive) times the posterior mean rate
        (r+x)/(alpha+T) times the expected remaining lifetime within t,
        E[(1 - e^-mu t) / mu] with mu ~ Gamma(s, beta + T)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        if abs(s - 1) < 1e-8:  # the limit s -> 1 of the expression below
            lifetime = (beta + T) * np.log1p(t / (beta + T))
        else:
            lifetime = (beta + T) / (s - 1) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
        return self.p_alive(x, t_x, T) * (r + x) / (alpha + T) * lifetime

    def p_any_purchase(self, t: float, x, t_x, T) -> np.ndarray:
        """P(at least one purchase in (T, T + t] | history). Given alive at T, the posterior
        is Pareto/NBD again with r+x, alpha+T, s, beta+T (memoryless lifetimes), and 'no
        purchase in the next t' is exactly a new customer's x = 0 over age t: its
        likelihood."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        zero = np.zeros_like(x + T)
        log_none = _log_likelihood_terms(self.r + x, self.alpha + T, self.s, self.beta + T,
                                         zero, zero, zero + t)
        return self.p_alive(x, t_x, T) * -np.expm1(log_none)

    def simulate(self, n: int, T: float | np.ndarray, seed: int = 0,
                 horizon: float = 0.0) -> pd.DataFrame:
        """Customers drawn from these parameters: see :func:`simulate`."""
        return simulate(n, self.r, self.alpha, self.s, self.beta, T, seed, horizon)


def simulate(n: int, r: float, alpha: float, s: float, beta: float,
             T: float | np.ndarray, seed: int = 0, horizon: float = 0.0) -> pd.DataFrame:
    """Customers drawn from Pareto/NBD, observed for ``T`` after their first purchase: x, t_x,
    T, and with ``horizon`` > 0 also ``future``, their purchases in (T, T + horizon]."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    lifetime = rng.exponential(1 / mu)
    T = np.broadcast_to(np.asarray(T, float), (n,)).copy()
    active = np.minimum(lifetime, T)
    x = rng.poisson(lam * active).astype(float)
    # the last of x uniform purchase times on [0, active]
    t_x = np.where(x > 0, active * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    out = pd.DataFrame({"x": x, "t_x": t_x, "T": T})
    if horizon > 0:
        out["future"] = rng.poisson(lam * np.clip(np.minimum(lifetime, T + horizon) - T, 0,
                                                  None)).astype(float)
    return out
