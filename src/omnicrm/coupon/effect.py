"""The coupon's effect on the purchase hazard ("coupon sensitivity"): an offer adds
theta(x) * A^gamma to the person's purchase hazard in the window, where A is the offer's
reachable discount rate (Y/X times the chance the usual basket is within reach of X) and
theta(x) >= 0 the person's sensitivity, boosted on the person features:

    P(buy | x, offer) = 1 - (1 - p0(x)) exp(-theta(x) A^gamma)

Every campaign arm informs the one function theta, so what the few arms tried carries over
to the menu cells no campaign tried, and the model's capacity goes to who responds rather
than to the baseline (p0 comes from the purchase model). gamma and the number of boosting
rounds are chosen by the Bernoulli log-likelihood of the treated members of held-out
campaigns (observed data only)."""

from __future__ import annotations

import numpy as np
from xgboost import DMatrix, XGBRegressor

EPS = 1e-12


def _objective(h0: np.ndarray, a: np.ndarray):
    """Gradient and Fisher information of the log-loss in F = log theta, for
    P = 1 - exp(-(h0 + exp(F) a))."""
    def obj(y, f):
        u = np.exp(np.clip(f, -30, 10)) * a
        lam = h0 + u
        em1 = np.maximum(np.expm1(lam), EPS)
        grad = u * ((1 - y) - y / em1)
        hess = np.maximum(u * u / em1, EPS)
        return grad, hess
    return obj


def log_likelihood(y, h0, extra) -> float:
    """Mean Bernoulli log-likelihood of P = 1 - exp(-(h0 + extra))."""
    lam = np.maximum(h0 + extra, EPS)
    y = np.asarray(y, float)
    return float(np.mean(y * np.log(-np.expm1(-lam)) - (1 - y) * lam))


def _global_theta(y, h0, a) -> float:
    """Maximum-likelihood constant theta (no person features): the boosting's start."""
    lo, hi = -12.0, 4.0
    for _ in range(60):  # the score is monotone in log theta: bisection on its sign
        mid = (lo + hi) / 2
        u = np.exp(mid) * a
        score = np.sum(u * ((1 - y) - y / np.maximum(np.expm1(h0 + u), EPS)))
        lo, hi = (mid, hi) if score < 0 else (lo, mid)
    return (lo + hi) / 2


class OfferEffectModel:
    """theta(x) by gradient boosting; ``extra_hazard(X, A)`` = theta(x) A^gamma."""

    def __init__(self, gamma: float = 1.0, n_estimators: int = 200, xgb: dict | None = None,
                 leaf_share: float = 0.02, seed: int = 0):
        self.gamma, self.n_estimators = float(gamma), int(n_estimators)
        self.xgb = {"max_depth": 3, "learning_rate": 0.05, "subsample": 0.8,
                    "colsample_bytree": 0.8, "reg_lambda": 1.0, "n_jobs": 2,
                    "tree_method": "hist", **(xgb or {})}
        self.leaf_share, self.seed = float(leaf_share), seed

    def fit(self, X, h0, a, y) -> OfferEffectModel:
        """X: person features of treated members; h0: their no-offer hazard in the window;
        a: the offer's reachable discount rate; y: bought (0/1)."""
        a = np.power(np.maximum(np.asarray(a, float), 0.0), self.gamma)
        h0, y = np.asarray(h0, float), np.asarray(y, float)
        self.base = _global_theta(y, h0, a)
        # a leaf must hold this share of the data's Fisher information at the start: the
        # same statistical resolution at any data size
        u = np.exp(self.base) * a
        info = float(np.sum(u * u / np.maximum(np.expm1(h0 + u), EPS)))
        self.model = XGBRegressor(objective=_objective(h0, a), base_score=self.base,
                                  n_estimators=self.n_estimators,
                                  min_child_weight=max(self.leaf_share * info, 1e-6),
                                  random_state=self.seed, **self.xgb)
        self.model.fit(X, y)
        # keep the booster only: the objective is a closure over the training arrays, which
        # would neither pickle nor belong in the registered model
        self.booster = self.model.get_booster()
        del self.model
        return self

    def theta(self, X, rounds: int | None = None) -> np.ndarray:
        """Sensitivity per row; ``rounds`` = 0: the constant start (no person features)."""
        if rounds == 0:
            return np.full(len(X), np.exp(self.base))
        r = (0, rounds) if rounds else (0, 0)
        f = self.booster.predict(DMatrix(np.asarray(X, float)), output_margin=True,
                                 iteration_range=r)
        return np.exp(np.clip(f, -30, 10))

    def extra_hazard(self, X, a, rounds: int | None = None) -> np.ndarray:
        a = np.power(np.maximum(np.asarray(a, float), 0.0), self.gamma)
        return self.theta(X, rounds) * a


def select_effect_model(X, h0, a, y, groups, gammas, rounds, xgb: dict | None = None,
                        leaf_share: float = 0.02, folds: int = 4, seed: int = 0
                        ) -> tuple[dict, list[dict]]:
    """gamma and boosting rounds by the held-out log-likelihood of the treated members,
    campaigns held out whole (``folds`` groups of campaigns, the latest together)."""
    camps = np.unique(groups)
    fold_of = {c: i * folds // len(camps) for i, c in enumerate(camps)}
    fold = np.array([fold_of[g] for g in groups])
    rows = []
    for gamma in gammas:
        ll = np.zeros(len(rounds))
        for k in range(min(folds, len(camps))):
            fit, out = fold != k, fold == k
            m = OfferEffectModel(gamma, max(rounds), xgb, leaf_share, seed).fit(
                X[fit], h0[fit], a[fit], y[fit])
            for j, r in enumerate(rounds):
                ll[j] += out.sum() * log_likelihood(
                    y[out], h0[out], m.extra_hazard(X[out], a[out], r))
        for j, r in enumerate(rounds):
            rows.append({"gamma": float(gamma), "rounds": int(r),
                         "heldout_loglik": float(ll[j] / len(y))})
    best = max(rows, key=lambda r: r["heldout_loglik"])
    return best, rows
