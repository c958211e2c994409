"""The Bayes-optimal value tier: each person's posterior over the synthetic world's latent value
tiers given their own orders, computed from the generator's own model and parameters. Its MAP
tier is the most any value-tier method can recover from buying data: the ceiling that
segment ARIs are judged against (issue 4).

The generator (``persons.py``, ``commerce.py``) draws, per person with latent tier ``t``
(the numbers are ``synthetic.latent`` in conf/base/parameters_synthetic.yml, read by both):

- purchases: a first order, then a Poisson process at ``purchases_per_year[t] x G`` a year
  (``G ~ Gamma(6, 1/6)``) shaped by the seasonal calendar, stopped after each order with the
  dropout probability ``clip(Beta(2, 7) x (1.3 - 0.12 t), 0.01, 0.9)`` (BG/NBD style);
- baskets: ``log basket ~ N(mu, sigma^2)`` per order with ``mu = log(basket_median[t]) +
  N(0, 0.12^2)`` and ``sigma ~ U(0.3, 0.5)``;
- promotions: an order is on promotion with ``clip(0.15 + 0.6 s + 0.4 festival, 0, 0.95)``,
  ``s = clip(Beta(2, 2.2) - 0.06 (t - 2.5), 0.01, 0.99)`` the price sensitivity.

Given tier ``t`` these three parts are independent, and each likelihood is integrated over its
nuisance traits: the rate factor ``G`` in closed form (Gamma-Poisson), the person's basket mean
``mu`` in closed form (normal-normal), ``sigma``, the dropout and the price sensitivity by
quadrature. The sufficient statistics are the order count, the first and last order day, the
mean and spread of the log baskets and the promotion counts (festival days apart); the
seasonal product over order days is the same for every tier and cancels.

Left out, so the ceiling is (slightly) optimistic for the model-blind and slightly pessimistic
against an oracle that used them: campaign windows (audience members' natural orders in a
window are replaced by one coupon-response draw), coupon top-ups, the new-arrival preference of
trend-chasers (``P = 0.12 + 0.04 t``), browse sessions (their rate grows with the purchase
rate) and spouses who share a tier. :func:`latent_trait_posterior` bounds all of them: it is
told each person's latent rate, dropout, price sensitivity and trend-chaser flag, through which
every other observable depends on the tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp

from omnicrm.synthetic.commerce import FESTIVAL_DAYS
from omnicrm.synthetic.common import calendar, seasonality

FESTIVALS = tuple(FESTIVAL_DAYS)  # promotion days of commerce.build_orders


@dataclass(frozen=True)
class TierModel:
    """The generator's value-tier model, read from the same ``synthetic`` parameters the
    generator draws from (``value_tier_share``, ``purchases_per_year``, ``basket_median`` and
    the ``latent`` trait distributions): nothing is copied, so the ceiling follows the world."""

    tier_share: tuple[float, ...]
    purchases_per_year: tuple[float, ...]
    basket_median: tuple[float, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    rate_shape: float                   # G ~ Gamma(shape, 1/shape): mean 1
    basket_person_sd: float             # mu = log(median[t]) + N(0, sd^2)
    basket_sigma: tuple[float, float]   # per-order sd of log basket ~ U(lo, hi)
    dropout_beta: tuple[float, float]
    dropout_scale: tuple[float, float]  # x (a + b t)
    dropout_clip: tuple[float, float]
    sensitivity_beta: tuple[float, float]
    sensitivity_slope: float            # per tier above 2.5
    sensitivity_clip: tuple[float, float]
    promo: tuple[float, float, float, float]   # base, x s, festival, max
    trend_chaser: tuple[float, float]   # P(trend-chaser) = a + b t

    @classmethod
    def from_params(cls, synthetic: dict) -> TierModel:
        lat = synthetic["latent"]
        return cls(tier_share=tuple(synthetic["value_tier_share"]),
                   purchases_per_year=tuple(synthetic["purchases_per_year"]),
                   basket_median=tuple(synthetic["basket_median"]),
                   start=pd.Timestamp(synthetic["start_date"]),
                   end=pd.Timestamp(synthetic["end_date"]),
                   rate_shape=float(lat["rate_shape"]),
                   basket_person_sd=float(lat["basket_person_sd"]),
                   **{k: tuple(float(v) for v in lat[k])
                      for k in ("basket_sigma", "dropout_beta", "dropout_scale", "dropout_clip",
                                "sensitivity_beta", "sensitivity_clip", "promo",
                                "trend_chaser")},
                   sensitivity_slope=float(lat["sensitivity_slope"]))

    @property
    def tiers(self) -> np.ndarray:
        return np.arange(len(self.tier_share))

    def dropout_factor(self) -> np.ndarray:
        return self.dropout_scale[0] + self.dropout_scale[1] * self.tiers

    def sensitivity_shift(self) -> np.ndarray:
        return self.sensitivity_slope * (self.tiers - 2.5)


def order_histories(orders: pd.DataFrame, person_of: pd.DataFrame, cutoff: pd.Timestamp,
                    start: pd.Timestamp) -> pd.DataFrame:
    """Per person, the sufficient statistics of their orders before ``cutoff``: ``n``,
    ``log_basket_mean``, ``log_basket_ss`` (sum of squared deviations), ``first_day``,
    ``last_day`` (days since ``start``), ``festival_orders``, ``promo_orders``,
    ``festival_promo_orders``. ``person_of`` maps record_id -> person_id (a OneID person
    index or the truth's records). The basket is what the person paid before any coupon."""
    o = orders[orders["ordered_at"] < cutoff].merge(
        person_of[["record_id", "person_id"]], on="record_id", how="inner")
    at = pd.to_datetime(o["ordered_at"])
    y = np.log(np.maximum((o["paid_amount"] + o["coupon_discount"]).to_numpy(float), 1.0))
    fest = at.dt.strftime("%m%d").isin(FESTIVALS).to_numpy()
    promo = (o["discount_amount"] > 0).to_numpy()
    t = pd.DataFrame({"person_id": o["person_id"].to_numpy(), "y": y, "y2": y * y,
                      "day": (at.dt.normalize() - start).dt.days.to_numpy(),
                      "fest": fest, "promo": promo & ~fest, "fest_promo": promo & fest})
    g = t.groupby("person_id", sort=True).agg(
        n=("y", "size"), y=("y", "sum"), y2=("y2", "sum"), first_day=("day", "min"),
        last_day=("day", "max"), festival_orders=("fest", "sum"),
        promo_orders=("promo", "sum"), festival_promo_orders=("fest_promo", "sum"))
    mean = g["y"] / g["n"]
    return pd.DataFrame({
        "n": g["n"].astype(int), "log_basket_mean": mean,
        "log_basket_ss": np.maximum(g["y2"] - g["n"] * mean**2, 0.0),
        "first_day": g["first_day"].astype(int), "last_day": g["last_day"].astype(int),
        "festival_orders": g["festival_orders"].astype(int),
        "promo_orders": g["promo_orders"].astype(int),
        "festival_promo_orders": g["festival_promo_orders"].astype(int)}, index=g.index)


def _quantile_grid(dist, size: int) -> np.ndarray:
    """Equal-probability quadrature nodes (quantile midpoints) of a scipy distribution."""
    return dist.ppf((np.arange(size) + 0.5) / size)


def _basket_loglik(h: pd.DataFrame, m: TierModel, nodes: int = 24) -> np.ndarray:
    """log p(log baskets | tier), mu integrated out exactly, sigma by quadrature."""
    n = h["n"].to_numpy(float)[:, None, None]
    ybar = h["log_basket_mean"].to_numpy(float)[:, None, None]
    ss = h["log_basket_ss"].to_numpy(float)[:, None, None]
    lo, hi = m.basket_sigma
    sigma = (lo + (hi - lo) * (np.arange(nodes) + 0.5) / nodes)[None, None, :]
    centre = np.log(np.asarray(m.basket_median, float))[None, :, None]
    var = m.basket_person_sd**2 + sigma**2 / n
    ll = (-(n - 1) * np.log(sigma) - ss / (2 * sigma**2)
          - 0.5 * np.log(var) - (ybar - centre) ** 2 / (2 * var))
    return logsumexp(ll, axis=2) - np.log(nodes)


def _timing_loglik(h: pd.DataFrame, m: TierModel, cutoff: pd.Timestamp,
                   nodes: int = 512) -> np.ndarray:
    """log p(repeat orders and their span | tier): BG/NBD-style likelihood of the generator's
    process, the rate factor integrated in closed form, the dropout by quadrature. Terms that
    are the same for every tier (the seasonal intensity on the order days) are dropped."""
    season = seasonality(calendar(m.start, m.end))
    cum = np.r_[0.0, np.cumsum(season)]
    horizon = len(season)
    c = int(min(max((cutoff.normalize() - m.start).days, 0), horizon))
    x = (h["n"].to_numpy() - 1).astype(int)
    first = np.clip(h["first_day"].to_numpy(), 0, horizon - 1)
    last = np.clip(h["last_day"].to_numpy(), first, horizon - 1)
    # seasonal mass (mean-1 days) the process ran over: to the cut-off if still active ...
    mass_alive = np.maximum(cum[c] - cum[first + 1], 0.0)[:, None]
    # ... or only to the last order, if it dropped out right after it
    mass_dead = np.maximum(cum[last + 1] - cum[first + 1], 0.0)[:, None]
    a = m.rate_shape
    rate = np.asarray(m.purchases_per_year, float)[None, :] / 365.0
    # E[(1-p)^(x+1)] (still active) and E[(1-p)^x p] (dropped after the last order) per tier
    b = _quantile_grid(stats.beta(*m.dropout_beta), nodes)
    p = np.clip(b[None, :] * m.dropout_factor()[:, None], *m.dropout_clip)   # tiers x nodes
    xs = np.arange(int(x.max()) + 2 if len(x) else 2)[None, :, None]
    log_survive = xs * np.log1p(-p)[:, None, :]                               # tiers x x x nodes
    e_alive = logsumexp(log_survive + np.log1p(-p)[:, None, :], axis=2) - np.log(nodes)
    e_dead = logsumexp(log_survive + np.log(p)[:, None, :], axis=2) - np.log(nodes)
    xx = x[:, None]
    alive = e_alive.T[x] - (a + xx) * np.log(a + rate * mass_alive)
    dead = e_dead.T[x] - (a + xx) * np.log(a + rate * mass_dead)
    return xx * np.log(rate) + np.logaddexp(alive, dead)


def _promo_loglik(h: pd.DataFrame, m: TierModel, nodes: int = 128) -> np.ndarray:
    """log p(promotion counts | tier), price sensitivity by quadrature."""
    base, slope, festival, top = m.promo
    s0 = _quantile_grid(stats.beta(*m.sensitivity_beta), nodes)
    s = np.clip(s0[None, :] + m.sensitivity_shift()[:, None], *m.sensitivity_clip)
    q = np.clip(base + slope * s, 1e-9, top)[None]                 # 1 x tiers x nodes
    qf = np.clip(base + slope * s + festival, 1e-9, top)[None]
    n_f = h["festival_orders"].to_numpy(float)[:, None, None]
    n_o = h["n"].to_numpy(float)[:, None, None] - n_f
    k_o = h["promo_orders"].to_numpy(float)[:, None, None]
    k_f = h["festival_promo_orders"].to_numpy(float)[:, None, None]
    ll = (k_o * np.log(q) + (n_o - k_o) * np.log1p(-q)
          + k_f * np.log(qf) + (n_f - k_f) * np.log1p(-qf))
    return logsumexp(ll, axis=2) - np.log(nodes)


def tier_posterior(histories: pd.DataFrame, model: TierModel, cutoff: pd.Timestamp,
                   persons: pd.Index | None = None, chunk: int = 50_000) -> pd.DataFrame:
    """P(latent tier | the person's own orders before ``cutoff``) per person, one column per
    tier. ``persons``: the rows wanted (those without orders get the prior)."""
    index = histories.index if persons is None else pd.Index(persons)
    log_prior = np.log(np.asarray(model.tier_share, float))
    out = np.tile(np.exp(log_prior - logsumexp(log_prior)), (len(index), 1))
    h = histories.reindex(index)
    has = h["n"].notna().to_numpy()
    h = h[has].astype({"n": int, "first_day": int, "last_day": int})
    rows = np.flatnonzero(has)
    for lo in range(0, len(h), chunk):
        part = h.iloc[lo:lo + chunk]
        ll = (log_prior[None, :] + _basket_loglik(part, model)
              + _timing_loglik(part, model, cutoff) + _promo_loglik(part, model))
        out[rows[lo:lo + chunk]] = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
    return pd.DataFrame(out, index=index, columns=list(model.tiers))


def latent_trait_posterior(traits: pd.DataFrame, model: TierModel,
                           histories: pd.DataFrame | None = None) -> pd.DataFrame:
    """P(tier | the person's latent traits): purchase rate, dropout probability, price
    sensitivity and trend-chaser flag from ``traits`` (truth_persons rows), and the basket
    level either from the orders in ``histories`` (:func:`order_histories` rows aligned with
    ``traits``; given the true per-order spread) or, without them, the latent ``basket_mu``.
    Every observable of a person depends on the tier only through these, so with
    ``histories`` this bounds what anything observable about the person reveals; without, it
    is the world's own overlap between tiers (infinitely many orders)."""
    k = model.tiers
    ll = np.tile(np.log(np.asarray(model.tier_share, float)), (len(traits), 1))
    # rate = purchases_per_year[t] x Gamma(a, 1/a)
    a = model.rate_shape
    ppy = np.asarray(model.purchases_per_year, float)[None, :]
    r = traits["purchase_rate"].to_numpy(float)[:, None]
    ll += stats.gamma(a, scale=1 / a).logpdf(r / ppy) - np.log(ppy)
    ll += _clipped_logpdf(traits["dropout_prob"].to_numpy(float), stats.beta(*model.dropout_beta),
                          scale=model.dropout_factor(), shift=np.zeros(len(k)),
                          clip=model.dropout_clip)
    ll += _clipped_logpdf(traits["price_sensitivity"].to_numpy(float),
                          stats.beta(*model.sensitivity_beta), scale=np.ones(len(k)),
                          shift=model.sensitivity_shift(), clip=model.sensitivity_clip)
    pt = model.trend_chaser[0] + model.trend_chaser[1] * k
    trend = traits["trend_chaser"].to_numpy(bool)[:, None]
    ll += np.where(trend, np.log(pt)[None, :], np.log1p(-pt)[None, :])
    centre = np.log(np.asarray(model.basket_median, float))[None, :]
    if histories is None:
        mu = traits["basket_mu"].to_numpy(float)[:, None]
        ll += stats.norm(centre, model.basket_person_sd).logpdf(mu)
    else:
        n = histories["n"].fillna(0).to_numpy(float)[:, None]
        ybar = histories["log_basket_mean"].fillna(0).to_numpy(float)[:, None]
        sd = np.sqrt(model.basket_person_sd**2 + traits["basket_sigma"].to_numpy(float)[:, None]
                     ** 2 / np.maximum(n, 1))
        ll += np.where(n > 0, stats.norm(centre, sd).logpdf(ybar), 0.0)
    post = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
    return pd.DataFrame(post, index=traits.index, columns=list(k))


def _clipped_logpdf(v: np.ndarray, dist, scale: np.ndarray, shift: np.ndarray,
                    clip: tuple[float, float]) -> np.ndarray:
    """log density of ``v = clip(B x scale[t] + shift[t], lo, hi)``, B ~ dist, per tier;
    the clip points carry the clipped probability mass."""
    lo, hi = clip
    v = v[:, None]
    with np.errstate(divide="ignore"):
        inner = dist.logpdf((v - shift[None, :]) / scale[None, :]) - np.log(scale[None, :])
        at_lo = np.log(dist.cdf((lo - shift[None, :]) / scale[None, :]))
        at_hi = np.log(dist.sf((hi - shift[None, :]) / scale[None, :]))
    return np.where(np.isclose(v, lo), at_lo, np.where(np.isclose(v, hi), at_hi, inner))


def map_tiers(posterior: pd.DataFrame) -> np.ndarray:
    """The Bayes decision for accuracy: each person's most probable tier."""
    return posterior.to_numpy().argmax(axis=1)
