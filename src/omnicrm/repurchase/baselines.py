"""Baselines the repurchase model must beat on the same split: a recency/frequency heuristic,
logistic regression on the same features, and BG/NBD on each person's purchase history."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from .bgnbd import BGNBD


def rf_heuristic_score(features: pd.DataFrame) -> np.ndarray:
    """The marketer's rule: frequent, recent buyers first (purchases per year, discounted by
    days since the last purchase); never-buyers last."""
    recency = features["recency_days"].to_numpy(float)
    freq = features["frequency"].to_numpy(float)
    score = np.log1p(freq) - np.log1p(np.nan_to_num(recency, nan=1e6))
    return np.where(np.isnan(recency), -50.0, score)


class BinnedCalibrator:
    """Score -> probability as the observed buy rate in the score's quantile bin on training
    data (so a pure ranking rule gets a Brier score too)."""

    def __init__(self, bins: int = 20):
        self.bins = bins

    def fit(self, score: np.ndarray, y: np.ndarray) -> BinnedCalibrator:
        score, y = np.asarray(score, float), np.asarray(y, float)
        edges = np.unique(np.quantile(score, np.linspace(0, 1, self.bins + 1)))
        self.edges_ = edges[1:-1]
        idx = np.searchsorted(self.edges_, score, side="right")
        counts = np.bincount(idx, minlength=len(self.edges_) + 1)
        hits = np.bincount(idx, weights=y, minlength=len(self.edges_) + 1)
        prior = y.mean() if len(y) else 0.0
        self.rates_ = (hits + prior) / (counts + 1)  # one pseudo-observation at the base rate
        return self

    def predict(self, score: np.ndarray) -> np.ndarray:
        return self.rates_[np.searchsorted(self.edges_, np.asarray(score, float), side="right")]


def signed_log(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|), missing as 0: counts and amounts on a scale a linear model fits."""
    x = np.nan_to_num(np.asarray(x, float), nan=0.0)
    return np.sign(x) * np.log1p(np.abs(x))


def fit_logistic(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """Logistic regression on signed-log, standardised features (missing as 0: a NaN recency
    means 'never bought', which frequency = 0 already says)."""
    model = make_pipeline(
        FunctionTransformer(signed_log),
        StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))
    return model.fit(x, y)


def bgnbd_inputs(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD's (x, t_x, T) in days from the feature table: x = orders - 1, T = days since
    the first order, t_x = T - recency. Never-buyers get x = 0, t_x = 0 and their age since
    registration as T (a member waiting for a first purchase)."""
    freq = features["frequency"].to_numpy(float)
    recency = features["recency_days"].to_numpy(float)
    tenure = features["tenure_days"].to_numpy(float)
    age = np.nan_to_num(features["days_since_registration"].to_numpy(float), nan=0.0)
    buyer = freq > 0
    x = np.where(buyer, freq - 1, 0.0)
    T = np.where(buyer, tenure, np.maximum(age, 0.0))
    t_x = np.where(buyer, np.clip(tenure - recency, 0, None), 0.0)
    return x, np.nan_to_num(t_x), np.nan_to_num(T)


def fit_bgnbd(features: pd.DataFrame) -> BGNBD:
    """BG/NBD fitted on the buyers of one cut-off's feature table (its calibration period:
    all history before the cut-off)."""
    x, t_x, T = bgnbd_inputs(features)
    buyer = features["frequency"].to_numpy(float) > 0
    return BGNBD.fit(x[buyer], t_x[buyer], T[buyer])


def bgnbd_probability(model: BGNBD, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """P(at least one purchase within the horizon) per person."""
    x, t_x, T = bgnbd_inputs(features)
    return model.p_any_purchase(horizon_days, x, t_x, T)


def bgnbd_expected(model: BGNBD, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """Expected purchases within the horizon per person: what BG/NBD ranks customers by in
    the customer-base literature and in lifetimes. As a ranking it beats P(at least one)
    when the model is misspecified: on CDNOW's 13-week holdout (4 weekly cut-offs) AUC 0.8275
    against 0.8241, equal to lifetimes' 0.8275 with the same parameters."""
    x, t_x, T = bgnbd_inputs(features)
    return model.expected_purchases(horizon_days, x, t_x, T)


def add_bgnbd_features(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """``frame`` plus BG/NBD's view of each person (``bgnbd_p_alive``,
    ``bgnbd_expected``: expected purchases in the horizon, ``bgnbd_p_buy``: P(at least one)),
    fitted separately at each cut-off on the history before it, so it is as point-in-time as
    the features."""
    out = frame.copy()
    out["bgnbd_p_alive"] = np.nan
    out["bgnbd_expected"] = np.nan
    out["bgnbd_p_buy"] = np.nan
    for _, rows in out.groupby("cutoff_date").groups.items():
        part = out.loc[rows]
        if (part["frequency"] > 0).sum() < 10:
            continue
        model = fit_bgnbd(part)
        x, t_x, T = bgnbd_inputs(part)
        out.loc[rows, "bgnbd_p_alive"] = model.p_alive(x, t_x, T)
        out.loc[rows, "bgnbd_expected"] = model.expected_purchases(horizon_days, x, t_x, T)
        out.loc[rows, "bgnbd_p_buy"] = model.p_any_purchase(horizon_days, x, t_x, T)
    return out


def add_segment_bgnbd_features(frame: pd.DataFrame, horizon_days: int,
                               segment_by: str = "avg_order_value", segments: int = 4,
                               min_buyers: int = 100) -> pd.DataFrame:
    """``frame`` plus BG/NBD fitted separately within quantile segments of ``segment_by``
    (at each cut-off, on the history before it): ``bgnbd_seg_p_alive``,
    ``bgnbd_seg_expected``, ``bgnbd_seg_p_buy``. Plain BG/NBD shrinks every customer towards
    one population's purchase and dropout rates; big-basket customers buy at other rates than
    small-basket ones, so a prior per segment is a better start for the few-purchase
    customers. A segment with fewer than ``min_buyers`` buyers uses the cut-off's one fit."""
    out = frame.copy()
    cols = ("bgnbd_seg_p_alive", "bgnbd_seg_expected", "bgnbd_seg_p_buy")
    for c in cols:
        out[c] = np.nan
    for _, rows in out.groupby("cutoff_date").groups.items():
        part = out.loc[rows]
        buyer = part["frequency"].to_numpy(float) > 0
        if buyer.sum() < 10:
            continue
        value = np.log1p(np.nan_to_num(part[segment_by].to_numpy(float)))
        edges = np.quantile(value[buyer], np.linspace(0, 1, segments + 1)[1:-1])
        seg = np.searchsorted(edges, value, side="right")
        overall = fit_bgnbd(part)
        x, t_x, T = bgnbd_inputs(part)
        for k in range(segments):
            inside = seg == k
            if not inside.any():
                continue
            model = (BGNBD.fit(x[inside & buyer], t_x[inside & buyer], T[inside & buyer])
                     if (inside & buyer).sum() >= min_buyers else overall)
            idx = part.index[inside]
            xs, ts, Ts = x[inside], t_x[inside], T[inside]
            out.loc[idx, "bgnbd_seg_p_alive"] = model.p_alive(xs, ts, Ts)
            out.loc[idx, "bgnbd_seg_expected"] = model.expected_purchases(horizon_days, xs, ts,
                                                                          Ts)
            out.loc[idx, "bgnbd_seg_p_buy"] = model.p_any_purchase(horizon_days, xs, ts, Ts)
    return out
