"""The coupon policy: for each person, the expected incremental revenue, margin and cost of
every "spend X get Y off" offer on the menu, and the best one (or none).

Expected outcomes of sending offer (X, Y) to a person with features x, per campaign window:

    P1 = P(buy | x, X, Y) and P0 = P(buy | x, no offer)       offer-aware purchase model
    basket ~ LogNormal(mu(x), sigma(x))                       basket model (quantile reg.)
    rho = P(redeem | buy, x, X, Y)                            redemption model
    E[basket | buy, offer] = E[basket] + o * q * (1.025 X P(band) - E[basket; band])
        band = the top-up range just under X, q = top-up share, o = implied open share
    margin(offer) = P1 (gm E[basket | buy, offer] - Y rho) - send cost
    margin(none)  = P0 gm E[basket]
    incremental margin = margin(offer) - margin(none); cost = P1 Y rho + send cost

The discount paid on orders that would have happened anyway is inside ``P1 Y rho``: every
redeemer pays with the coupon, incremental or not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from xgboost import XGBClassifier

from .basket import BasketModel, lognormal_tail
from .training import as_matrix

# The offer enters the models only through economic descriptors (not raw X and Y), so what is
# learnt from the few menu cells the campaigns tried carries over to the cells they did not.
OFFER_FEATURES = ["offer_treated", "offer_discount_ratio", "offer_reach", "offer_near_reach",
                  "offer_attractiveness"]
# monotone: more discount, a more reachable threshold -> at least as likely to buy
PURCHASE_MONOTONE = {"offer_treated": 1, "offer_discount": 1, "offer_discount_ratio": 1,
                     "offer_attractiveness": 1}
REDEEM_MONOTONE = {"offer_reach": 1, "offer_near_reach": 1}
PLAN_COLUMNS = ["person_id", "coupon_threshold", "discount", "uplift_score",
                "expected_incremental_revenue", "expected_incremental_margin", "expected_cost"]


class AveragedClassifier:
    """Mean predicted probability of several classifiers (bagged over seeds and leaf sizes):
    the offer choice compares totals that differ by a few percent, and one model's knife-edge
    splits would flip it."""

    def __init__(self, models: list):
        self.models = models

    def predict_proba(self, X):
        return np.mean([m.predict_proba(X) for m in self.models], axis=0)


def menu_offers(thresholds, discounts) -> list[tuple[float, float]]:
    """The offer menu: every (X, Y) with Y < X."""
    return [(float(x), float(y)) for x in thresholds for y in discounts if y < x]


def offer_features(mu, sigma, X, Y, topup_range: float) -> dict[str, np.ndarray]:
    """Offer descriptors per row: treated flag, X, Y, Y/X, P(basket >= X), P(basket within
    the top-up range under X or above) and the reachable discount rate (Y/X x near reach)."""
    n = len(mu)
    X = np.broadcast_to(np.asarray(X, float), (n,))
    Y = np.broadcast_to(np.asarray(Y, float), (n,))
    treated = (X > 0).astype(float)
    Xs = np.where(X > 0, X, 1.0)
    reach, _ = lognormal_tail(Xs, mu, sigma)
    near, _ = lognormal_tail(Xs * (1 - topup_range), mu, sigma)
    ratio = np.where(X > 0, Y / Xs, 0.0)
    return {"offer_treated": treated, "offer_threshold": X, "offer_discount": Y,
            "offer_discount_ratio": ratio, "offer_reach": np.where(X > 0, reach, 0.0),
            "offer_near_reach": np.where(X > 0, near, 0.0),
            "offer_attractiveness": ratio * np.where(X > 0, near, 0.0)}


class CouponPolicy:
    """The chosen coupon policy, as the production scorer uses it.

    ``feature_names``: every column of the ``person_features`` table; ``recommend(features)``
    returns one row per input row with the best offer (0/0 = no offer) and its expectations;
    ``candidates(features)`` every menu offer per person, for the budget allocation."""

    def __init__(self, feature_names: list[str], model_features: list[str], menu,
                 params: dict, seed: int = 0):
        self.feature_names = list(feature_names)
        self.model_features = list(model_features)
        self.menu = [tuple(map(float, o)) for o in menu]
        self.gross_margin = float(params["gross_margin"])
        self.cost_per_offer = float(params["cost_per_offer"])
        self.topup_range = float(params["topup_range"])
        self.topup_share = float(params["topup_share"])
        self.min_incremental_margin = float(params.get("min_incremental_margin", 0.0))
        seg = params.get("offer_segments") or {}
        self.basket_bins = int(seg.get("basket_bins", 5))
        self.lift_bins = int(seg.get("lift_bins", 5))
        self.lift_axis = seg.get("lift_axis", "offer_model")  # or uplift_score
        self.segment_edges = None     # set by choose_segment_offers
        self.segment_offers = None    # segment id -> menu index, or -1 for no offer
        self.xgb = dict(params.get("xgb") or {})
        self.leaf_share = params.get("leaf_share")
        # the purchase model is bagged over these multiples of min_child_weight (and seeds)
        self.bag_scales = [float(v) for v in params.get("bag_leaf_scales", [1.0])]
        self.seed = seed
        self.uplift_model = None
        self.uplift_model_name = None
        # baseline purchase hazard of the planning window relative to the campaign windows
        # learned from (seasonality: a Double 11 fortnight sells more with or without coupons)
        self.season_factor = 1.0

    # --- fitting ---------------------------------------------------------------------------
    def _design(self, features: pd.DataFrame, mu, sigma, X, Y) -> np.ndarray:
        base = as_matrix(features, self.model_features)
        off = offer_features(mu, sigma, X, Y, self.topup_range)
        return np.column_stack([base] + [off[c] for c in OFFER_FEATURES])

    def _classifier(self, monotone: dict, **overrides) -> XGBClassifier:
        names = self.model_features + OFFER_FEATURES
        cons = tuple(int(monotone.get(c, 0)) for c in names)
        p = {"n_estimators": 300, "max_depth": 4, "learning_rate": 0.05, "subsample": 0.8,
             "colsample_bytree": 0.8, "min_child_weight": 50.0, "n_jobs": 2,
             "tree_method": "hist", **self.xgb, **overrides}
        p.setdefault("random_state", self.seed)
        return XGBClassifier(monotone_constraints=cons, **p)

    def fit(self, train: pd.DataFrame, basket_rows: pd.DataFrame,
            untreated: pd.DataFrame | None = None) -> CouponPolicy:
        """``train``: the campaign training set (features, coupon_threshold, discount, bought,
        redeemed); ``basket_rows``: features + log_basket of later non-coupon orders;
        ``untreated``: optional extra no-offer rows (non-members in the campaign windows)
        for the purchase model."""
        if self.leaf_share is not None:
            # a leaf must hold this share of the purchase data's information (the sum of the
            # logistic hessians, ~ buyers): the same statistical resolution at any data size
            p = float(train["bought"].mean())
            self.xgb["min_child_weight"] = max(
                1.0, float(self.leaf_share) * len(train) * p * (1 - p))
        self.basket_model = BasketModel(self.model_features, self.xgb, self.seed)
        self.basket_model.fit(basket_rows, basket_rows["log_basket"].to_numpy())
        mu, sigma = self.basket_model.predict(train)
        X, Y = train["coupon_threshold"].to_numpy(float), train["discount"].to_numpy(float)
        design = self._design(train, mu, sigma, X, Y)
        bought = train["bought"].to_numpy(int)
        if untreated is not None and len(untreated):
            mu_u, sigma_u = self.basket_model.predict(untreated)
            zero = np.zeros(len(untreated))
            design_all = np.vstack([design, self._design(untreated, mu_u, sigma_u, zero, zero)])
            bought_all = np.r_[bought, untreated["bought"].to_numpy(int)]
        else:
            design_all, bought_all = design, bought
        base = float(self.xgb.get("min_child_weight", 50.0))
        self.purchase_model = AveragedClassifier([
            self._classifier(PURCHASE_MONOTONE, min_child_weight=base * scale,
                             random_state=self.seed + i).fit(design_all, bought_all)
            for i, scale in enumerate(self.bag_scales)])
        buyers = (train["bought"].to_numpy() > 0) & (X > 0)
        self.redeem_model = self._classifier(REDEEM_MONOTONE, n_estimators=150).fit(
            design[buyers], (train["redeemed"].to_numpy()[buyers] > 0).astype(int))
        return self

    def set_uplift_model(self, model, name: str) -> CouponPolicy:
        """The uplift learner chosen on held-out campaigns: its score ranks who to target."""
        self.uplift_model, self.uplift_model_name = model, name
        return self

    # --- scoring ---------------------------------------------------------------------------
    def _p_none(self, features, mu, sigma) -> np.ndarray:
        n = len(features)
        return self.purchase_model.predict_proba(
            self._design(features, mu, sigma, np.zeros(n), np.zeros(n)))[:, 1]

    def _seasonal(self, p0, p1) -> tuple[np.ndarray, np.ndarray]:
        """Scale the baseline hazard by the season factor; the coupon's extra hazard stays."""
        h0 = -np.log1p(-np.clip(p0, 0.0, 1 - 1e-9))
        h_offer = np.maximum(-np.log1p(-np.clip(p1, 0.0, 1 - 1e-9)) - h0, 0.0)
        h0 = h0 * self.season_factor
        return -np.expm1(-h0), -np.expm1(-h0 - h_offer)

    def uplift_score(self, features: pd.DataFrame) -> np.ndarray:
        if self.uplift_model is None:
            return np.full(len(features), np.nan)
        return self.uplift_model.predict(as_matrix(features, self.model_features))

    def offer_expectations(self, features: pd.DataFrame, X: float, Y: float, mu=None,
                           sigma=None, p0=None) -> dict[str, np.ndarray]:
        """Expected P(buy), revenue, margin, cost and increments of offer (X, Y) per row."""
        if mu is None:
            mu, sigma = self.basket_model.predict(features)
        n = len(features)
        if p0 is None:
            p0 = self._p_none(features, mu, sigma)
        gm, send = self.gross_margin, self.cost_per_offer
        mean = np.exp(mu + sigma**2 / 2)
        d = self._design(features, mu, sigma, np.full(n, X), np.full(n, Y))
        p0, p1 = self._seasonal(p0, self.purchase_model.predict_proba(d)[:, 1])
        rho = self.redeem_model.predict_proba(d)[:, 1]
        s_x, e_x = lognormal_tail(X, mu, sigma)
        s_a, e_a = lognormal_tail(X * (1 - self.topup_range), mu, sigma)
        band_p, band_e = s_a - s_x, e_a - e_x
        reach = s_x + self.topup_share * band_p
        opened = np.clip(rho / np.maximum(reach, 1e-6), 0.0, 1.0)  # implied open share
        e_basket = mean + opened * self.topup_share * (X * 1.025 * band_p - band_e)
        revenue1 = p1 * (e_basket - Y * rho)
        margin1 = p1 * (gm * e_basket - Y * rho) - send
        revenue0, margin0 = p0 * mean, p0 * gm * mean
        return {"p_buy": p1, "p_buy_none": p0, "expected_revenue": revenue1,
                "expected_margin": margin1, "expected_cost": p1 * Y * rho + send,
                "expected_incremental_revenue": revenue1 - revenue0,
                "expected_incremental_margin": margin1 - margin0}

    def candidates(self, features: pd.DataFrame) -> pd.DataFrame:
        """Every menu offer for every person (long table): person_id, coupon_threshold,
        discount, expected incremental revenue and margin, expected cost."""
        mu, sigma = self.basket_model.predict(features)
        p0 = self._p_none(features, mu, sigma)
        parts = []
        for x, y in self.menu:
            e = self.offer_expectations(features, x, y, mu, sigma, p0)
            parts.append(pd.DataFrame({
                "person_id": features["person_id"].to_numpy(), "coupon_threshold": x,
                "discount": y, "p_buy": e["p_buy"], "p_buy_none": e["p_buy_none"],
                "expected_incremental_revenue": e["expected_incremental_revenue"],
                "expected_incremental_margin": e["expected_incremental_margin"],
                "expected_cost": e["expected_cost"]}))
        return pd.concat(parts, ignore_index=True)

    # --- offer segments ----------------------------------------------------------------------
    def _segment_keys(self, features: pd.DataFrame, cand: pd.DataFrame
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted log basket and mean offer lift in P(buy) per person (the two axes of the
        offer segments)."""
        n, k = len(features), len(self.menu)
        mu, _ = self.basket_model.predict(features)
        if self.lift_axis == "uplift_score" and self.uplift_model is not None:
            return mu, self.uplift_score(features)
        lift = (cand["p_buy"].to_numpy() - cand["p_buy_none"].to_numpy()).reshape(k, n)
        return mu, lift.mean(axis=0)

    def _segments(self, features: pd.DataFrame, cand: pd.DataFrame) -> np.ndarray:
        mu, lift = self._segment_keys(features, cand)
        e_mu, e_lift = self.segment_edges
        return (np.searchsorted(e_mu, mu, side="right") * (len(e_lift) + 1)
                + np.searchsorted(e_lift, lift, side="right"))

    def choose_segment_offers(self, population: pd.DataFrame) -> pd.DataFrame:
        """One offer (or none) per offer segment: bins of predicted basket x predicted lift,
        cut at the population's quantiles, each taking the menu offer with the highest total
        expected incremental margin over its members. Choosing per segment, not per person,
        avoids the winner's curse of taking each person's maximum over 16 noisy estimates."""
        cand = self.candidates(population)
        mu, lift = self._segment_keys(population, cand)
        inner = lambda v, b: np.quantile(v, np.linspace(0, 1, b + 1)[1:-1])  # noqa: E731
        self.segment_edges = (inner(mu, self.basket_bins), inner(lift, self.lift_bins))
        seg = self._segments(population, cand)
        n, k = len(population), len(self.menu)
        gain = cand["expected_incremental_margin"].to_numpy().reshape(k, n)
        self.segment_offers, rows = {}, []
        for s in np.unique(seg):
            total = gain[:, seg == s].sum(axis=1)
            best = int(total.argmax())
            offer = best if total[best] > self.min_incremental_margin * (seg == s).sum() else -1
            self.segment_offers[int(s)] = offer
            x, y = self.menu[offer] if offer >= 0 else (0.0, 0.0)
            rows.append({"offer_segment": int(s), "persons": int((seg == s).sum()),
                         "coupon_threshold": x, "discount": y,
                         "expected_incremental_margin": float(max(total[best], 0.0)
                                                              if offer >= 0 else 0.0)})
        return pd.DataFrame(rows)

    def recommend(self, features: pd.DataFrame) -> pd.DataFrame:
        """One row per input row: the offer of the person's offer segment (when segments were
        chosen), else the person's own best offer; none (threshold and discount 0,
        expectations 0) when it earns no more than ``min_incremental_margin``."""
        features = features.reset_index(drop=True)
        n = len(features)
        cand = self.candidates(features)
        k = len(self.menu)
        gain = cand["expected_incremental_margin"].to_numpy().reshape(k, n)
        if self.segment_offers is not None:
            seg = self._segments(features, cand)
            best = np.array([self.segment_offers.get(int(s), -1) for s in seg])
            offer = best >= 0
            best = np.maximum(best, 0)
        else:
            best = gain.argmax(axis=0)
            offer = gain[best, np.arange(n)] > self.min_incremental_margin
        pick = cand.iloc[best * n + np.arange(n)].reset_index(drop=True)
        out = pd.DataFrame({"person_id": features["person_id"].astype(str).to_numpy()})
        for c in ("coupon_threshold", "discount", "expected_incremental_revenue",
                  "expected_incremental_margin", "expected_cost"):
            out[c] = np.where(offer, pick[c].to_numpy(float), 0.0)
        out["uplift_score"] = self.uplift_score(features)
        return out[PLAN_COLUMNS]
