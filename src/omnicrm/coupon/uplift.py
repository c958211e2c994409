"""Uplift learners over XGBoost (T-, X- and DR-learner, and the transformed-outcome direct
method) and the Qini / AUUC metrics they are chosen by on held-out campaigns.

Every learner has ``fit(X, treated, y)`` and ``predict(X) -> tau`` (the incremental effect of
an offer on the outcome); campaigns are randomised, so the propensity is the treated share."""

from __future__ import annotations

import numpy as np
from xgboost import XGBRegressor

DEFAULT_XGB = {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.05, "subsample": 0.8,
               "colsample_bytree": 0.8, "min_child_weight": 5.0, "reg_lambda": 1.0,
               "n_jobs": 2, "tree_method": "hist"}


def xgb_regressor(params: dict | None = None, seed: int = 0, **overrides) -> XGBRegressor:
    return XGBRegressor(**{**DEFAULT_XGB, **(params or {}), **overrides, "random_state": seed})


class _Learner:
    name = "base"

    def __init__(self, xgb: dict | None = None, seed: int = 0):
        self.xgb, self.seed = dict(xgb or {}), seed

    def _reg(self, **overrides) -> XGBRegressor:
        return xgb_regressor(self.xgb, self.seed, **overrides)


class TLearner(_Learner):
    """Two outcome models, one per group; tau = mu1(x) - mu0(x)."""
    name = "t_learner"

    def fit(self, X, treated, y):
        t = np.asarray(treated) == 1
        self.mu0 = self._reg().fit(X[~t], y[~t])
        self.mu1 = self._reg().fit(X[t], y[t])
        return self

    def predict(self, X):
        return self.mu1.predict(X) - self.mu0.predict(X)


class XLearner(_Learner):
    """Kuenzel et al.: imputed effects in each group from the other group's outcome model,
    blended by the propensity (constant in a randomised campaign)."""
    name = "x_learner"

    def fit(self, X, treated, y):
        t = np.asarray(treated) == 1
        mu0 = self._reg().fit(X[~t], y[~t])
        mu1 = self._reg().fit(X[t], y[t])
        self.e = float(t.mean())
        self.tau1 = self._reg(min_child_weight=20.0).fit(X[t], y[t] - mu0.predict(X[t]))
        self.tau0 = self._reg(min_child_weight=20.0).fit(X[~t], mu1.predict(X[~t]) - y[~t])
        return self

    def predict(self, X):
        return self.e * self.tau0.predict(X) + (1 - self.e) * self.tau1.predict(X)


class DRLearner(_Learner):
    """Doubly robust (AIPW) pseudo-outcomes from cross-fitted outcome models, regressed on x."""
    name = "dr_learner"

    def fit(self, X, treated, y, folds: int = 2):
        t = np.asarray(treated) == 1
        e = float(t.mean())
        rng = np.random.default_rng(self.seed)
        fold = rng.integers(0, folds, len(y))
        mu0, mu1 = np.zeros(len(y)), np.zeros(len(y))
        for k in range(folds):
            fit, out = fold != k, fold == k
            mu0[out] = self._reg().fit(X[fit & ~t], y[fit & ~t]).predict(X[out])
            mu1[out] = self._reg().fit(X[fit & t], y[fit & t]).predict(X[out])
        pseudo = mu1 - mu0 + t * (y - mu1) / e - (~t) * (y - mu0) / (1 - e)
        self.tau = self._reg(min_child_weight=50.0, n_estimators=150).fit(X, pseudo)
        return self

    def predict(self, X):
        return self.tau.predict(X)


class TransformedOutcome(_Learner):
    """Direct uplift method (Athey & Imbens' transformed outcome): E[Y (T - e) / (e (1 - e)) | x]
    is the effect itself, so one regression on the transformed outcome estimates it."""
    name = "transformed_outcome"

    def fit(self, X, treated, y):
        t = np.asarray(treated, float)
        e = float(t.mean())
        z = y * (t - e) / (e * (1 - e))
        self.tau = self._reg(min_child_weight=50.0, n_estimators=150).fit(X, z)
        return self

    def predict(self, X):
        return self.tau.predict(X)


LEARNERS = {c.name: c for c in (TLearner, XLearner, DRLearner, TransformedOutcome)}


def make_learner(name: str, xgb: dict | None = None, seed: int = 0):
    if name not in LEARNERS:
        raise KeyError(f"unknown uplift learner '{name}'; one of {sorted(LEARNERS)}")
    return LEARNERS[name](xgb, seed)


# --- metrics ----------------------------------------------------------------------------------

def _cumulative(y, treated, score):
    order = np.argsort(-np.asarray(score, float), kind="stable")
    y = np.asarray(y, float)[order]
    t = np.asarray(treated, float)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(1 - t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * (1 - t))
    z = np.zeros(1)
    return (np.r_[z, n_t], np.r_[z, n_c], np.r_[z, y_t], np.r_[z, y_c])


def qini_curve(y, treated, score) -> tuple[np.ndarray, np.ndarray]:
    """Fraction targeted (0..1) and the Qini curve: incremental outcomes among the treated of
    the top k, y_t(k) - y_c(k) n_t(k) / n_c(k)."""
    n_t, n_c, y_t, y_c = _cumulative(y, treated, score)
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    q = y_t - y_c * ratio
    return np.linspace(0, 1, len(q)), q


def qini_coefficient(y, treated, score) -> float:
    """Area between the Qini curve and the random-targeting line, per treated member (0 for
    random targeting, higher is better; the unit is the outcome's)."""
    frac, q = qini_curve(y, treated, score)
    random = frac * q[-1]
    n_t = max(float(np.sum(treated)), 1.0)
    return float(np.trapezoid(q - random, frac) / n_t)


def auuc(y, treated, score) -> float:
    """Area under the uplift curve: mean over k of (mean y treated - mean y control in the top
    k) x k / n. Random targeting gives about ATE / 2."""
    n_t, n_c, y_t, y_c = _cumulative(y, treated, score)
    ok = (n_t > 0) & (n_c > 0)
    gap = np.zeros_like(n_t)
    gap[ok] = y_t[ok] / n_t[ok] - y_c[ok] / n_c[ok]
    frac = np.linspace(0, 1, len(gap))
    return float(np.trapezoid(gap * frac, frac))


def uplift_scores(y, treated, score, campaign=None) -> dict[str, float]:
    """Qini and AUUC, pooled and averaged over campaigns (when ``campaign`` is given)."""
    out = {"qini": qini_coefficient(y, treated, score), "auuc": auuc(y, treated, score)}
    if campaign is not None:
        camp = np.asarray(campaign)
        per = [qini_coefficient(np.asarray(y)[camp == c], np.asarray(treated)[camp == c],
                                np.asarray(score)[camp == c]) for c in np.unique(camp)]
        out["qini_per_campaign"] = float(np.mean(per))
    return out
