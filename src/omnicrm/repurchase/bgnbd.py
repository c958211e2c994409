"""BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"), fitted with
scipy: the classic likelihood, P(alive), conditional expected purchases and P(any purchase).

Per customer: ``x`` repeat purchases, ``t_x`` time of the last purchase and ``T`` age, both
measured from the first purchase (in days here). While alive, purchases are Poisson(lambda),
lambda ~ Gamma(r, alpha); after each purchase the customer drops out with probability p,
p ~ Beta(a, b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

from .mle import maximise_log_likelihood, pooled_histories


def summary_from_transactions(transactions: pd.DataFrame, cutoff: pd.Timestamp,
                              customer: str = "customer_id", date: str = "date",
                              amount: str | None = None) -> pd.DataFrame:
    """x, t_x, T (days) per customer from purchases strictly before ``cutoff``; one purchase
    per customer-day, as BG/NBD counts purchase occasions.

    With ``amount``, each occasion's amounts are summed and the spend columns added:
    ``frequency`` (= x, the repeat purchases), ``monetary_value`` (mean spend of the repeat
    occasions, the first excluded as in FHL 2005; 0 without repeats) and ``total_spend``
    (all occasions)."""
    days = pd.to_datetime(transactions[date]).dt.normalize()
    if days.isna().any():
        raise ValueError(f"{days.isna().sum()} transactions have no valid {date}")
    before = pd.DataFrame({"customer": transactions[customer].astype(str), "day": days})
    if amount is not None:
        spend = pd.to_numeric(transactions[amount], errors="coerce").to_numpy(float)
        if not np.isfinite(spend).all():
            raise ValueError(f"{amount} must be a finite number on every transaction "
                             f"({(~np.isfinite(spend)).sum()} are missing or infinite)")
        if (spend < 0).any():
            raise ValueError(f"{(spend < 0).sum()} transactions have a negative {amount}: "
                             "net returns against their purchases first")
        before["spend"] = spend
    before = before[before["day"] < cutoff]
    if amount is None:
        before = before.drop_duplicates()
    else:
        before = before.groupby(["customer", "day"], as_index=False, sort=False)["spend"].sum()
    if before.empty:
        raise ValueError(f"no customer has a purchase before the cut-off {cutoff:%Y-%m-%d}")
    g = before.groupby("customer")["day"]
    first, last, n = g.min(), g.max(), g.size()
    day = pd.Timedelta(days=1)
    out = pd.DataFrame({"x": (n - 1).astype(float), "t_x": (last - first) / day,
                        "T": (cutoff - first) / day})
    if amount is not None:
        is_first = before["day"].to_numpy() == first.reindex(before["customer"]).to_numpy()
        total = before.groupby("customer")["spend"].sum()
        first_spend = before[is_first].groupby("customer")["spend"].sum()
        out["frequency"] = out["x"]
        repeat_spend = (total - first_spend).reindex(out.index)
        out["monetary_value"] = np.where(out["x"] > 0, repeat_spend / out["x"].clip(lower=1),
                                         0.0)
        out["total_spend"] = total.reindex(out.index)
    return out.rename_axis(customer)


def _log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                    weights: np.ndarray) -> float:
    r, alpha, a, b = params
    # Fader-Hardie-Lee (2005) eq. 6, in logs
    ln_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    ln_a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    ln_a3 = -(r + x) * np.log(alpha + T)
    ln_a4 = (np.log(a) - np.log(b + np.maximum(x, 1) - 1)
             - (r + x) * np.log(alpha + t_x))
    second = np.where(x > 0, np.exp(np.minimum(ln_a4 - ln_a3, 700)), 0.0)
    ll = ln_a1 + ln_a2 + ln_a3 + np.log1p(second)
    return float(np.sum(weights * ll))


def _gradient(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
              weights: np.ndarray) -> np.ndarray:
    """d/d(r, alpha, a, b) of :func:`_log_likelihood`: with ll = A1 + A2 + A3 + log(1 + e^(A4
    - A3)) for x > 0, the last term's derivative is w (dA4 - dA3), w = sigmoid(A4 - A3)."""
    r, alpha, a, b = params
    x1 = np.maximum(x, 1)
    ln_a3 = -(r + x) * np.log(alpha + T)
    ln_a4 = np.log(a) - np.log(b + x1 - 1) - (r + x) * np.log(alpha + t_x)
    w = np.where(x > 0, 1.0 / (1.0 + np.exp(np.clip(ln_a3 - ln_a4, -700, 700))), 0.0)
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha) - np.log(alpha + T)
           + w * (np.log(alpha + T) - np.log(alpha + t_x)))
    d_alpha = r / alpha - (r + x) / (alpha + T) + w * (r + x) * (1 / (alpha + T)
                                                                  - 1 / (alpha + t_x))
    ab = digamma(a + b) - digamma(a + b + x)
    d_a = ab + w / a
    d_b = ab + digamma(b + x) - digamma(b) - w / (b + x1 - 1)
    return np.array([float(np.sum(weights * d)) for d in (d_r, d_alpha, d_a, d_b)])


@dataclass
class BGNBD:
    """Fitted BG/NBD parameters (time unit: days)."""

    r: float
    alpha: float
    a: float
    b: float

    @classmethod
    def fit(cls, x, t_x, T, penalizer: float = 0.0) -> BGNBD:
        """Maximum likelihood on customers' (x, t_x, T); identical rows are pooled first."""
        xs, txs, Ts, ws = pooled_histories(x, t_x, T, "BG/NBD")
        scale = max(float(Ts.max()), 1.0)  # starts for alpha relative to the longest age

        def log_likelihood(params: np.ndarray) -> float:
            ll = _log_likelihood(params, xs, txs, Ts, ws)
            return ll - penalizer * ws.sum() * float(np.sum(params ** 2))

        def gradient(params: np.ndarray) -> np.ndarray:
            return _gradient(params, xs, txs, Ts, ws) - 2 * penalizer * ws.sum() * params

        log_scale = np.log(scale)
        starts = [[0.0, log_scale - 2.0, 0.0, 0.0], [-1.0, log_scale - 4.0, -1.0, 1.0],
                  [1.0, log_scale, 0.5, 2.0]]
        (r, alpha, a, b), _ = maximise_log_likelihood(log_likelihood, ws.sum(), starts,
                                                      gradient=gradient)
        return cls(float(r), float(alpha), float(a), float(b))

    def log_likelihood(self, x, t_x, T) -> float:
        """Sum of the customers' log-likelihoods at these parameters."""
        xs, txs, Ts, ws = pooled_histories(x, t_x, T, "BG/NBD")
        return _log_likelihood(np.array([self.r, self.alpha, self.a, self.b]), xs, txs, Ts, ws)

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(still a customer at T | x, t_x, T); 1 for customers with no repeat purchase."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        log_ratio = (np.log(a) - np.log(b + np.maximum(x, 1) - 1)
                     + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)

    def expected_purchases(self, t: float, x, t_x, T) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005 eq. 10)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
                                              * hyp)
        log_rest = (np.log(a) - np.log(b + np.maximum(x, 1) - 1)
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        rest = 1 + np.where(x > 0, np.exp(np.minimum(log_rest, 700)), 0.0)
        out = first / rest
        # a <= 1 or numerical trouble: fall back to the alive-customer Poisson-gamma mean
        fallback = self.p_alive(x, t_x, T) * (r + x) / (alpha + T) * t
        return np.where(np.isfinite(out) & (out >= 0), out, fallback)

    def p_any_purchase(self, t: float, x, t_x, T) -> np.ndarray:
        """P(at least one purchase in (T, T + t] | history): alive at T (dropout happens only
        right after a purchase, so none in a purchase-free window) times 1 - the posterior
        Gamma(r + x, alpha + T) probability of zero Poisson events in t."""
        x, T = np.asarray(x, float), np.asarray(T, float)
        none_if_alive = ((self.alpha + T) / (self.alpha + T + t)) ** (self.r + x)
        return self.p_alive(x, t_x, T) * (1 - none_if_alive)


def simulate(n: int, r: float, alpha: float, a: float, b: float, T: float | np.ndarray,
             seed: int = 0) -> pd.DataFrame:
    """Customers drawn from BG/NBD, observed for ``T`` after their first purchase: x, t_x, T
    (used to test that :meth:`BGNBD.fit` recovers the parameters)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = np.broadcast_to(np.asarray(T, float), (n,)).copy()
    x = np.zeros(n)
    t_x = np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, bool)
    while active.any():
        idx = np.flatnonzero(active)
        t_next = t[idx] + rng.exponential(1 / lam[idx])
        inside = t_next < T[idx]
        stop = idx[~inside]
        active[stop] = False
        go = idx[inside]
        t[go] = t_next[inside]
        x[go] += 1
        t_x[go] = t[go]
        died = rng.random(go.size) < p[go]  # dropout right after this purchase
        active[go[died]] = False
    return pd.DataFrame({"x": x, "t_x": t_x, "T": T})
