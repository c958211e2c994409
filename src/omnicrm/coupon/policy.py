"""The coupon policy: for each person, the expected incremental revenue, margin and cost of
every "spend X get Y off" offer on the menu, and the best one (or none).

Expected outcomes of sending offer (X, Y) to a person with features x, per campaign window:

    P0 = P(buy | x, no offer)                                 purchase model (untreated rows)
    P1 = 1 - (1 - P0) exp(-theta(x) A^gamma)                  offer-effect model (effect.py),
        A = Y/X x P(basket within reach of X)                 or the purchase model's own
                                                              offer features without it
    basket ~ LogNormal(mu(x), sigma(x))                       basket model (quantile reg.)
    rho = P(redeem | buy, x, X, Y)                            redemption model
    E[basket | buy, offer] = E[basket] + o * q * (1.025 X P(band) - E[basket; band])
        band = the top-up range just under X, q = top-up share, o = implied open share
    margin(offer) = P1 (gm E[basket | buy, offer] - Y rho) - send cost
    margin(none)  = P0 gm E[basket]
    incremental margin = margin(offer) - margin(none); cost = P1 Y rho + send cost

The discount paid on orders that would have happened anyway is inside ``P1 Y rho``: every
redeemer pays with the coupon, incremental or not. In the planning window P0's hazard is
scaled by the season factor (returning buyers' or first purchases'); the coupon's extra
hazard stays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from xgboost import XGBClassifier

from omnicrm.config import parse

from .basket import BasketModel, lognormal_tail
from .budget import allocate_by_segment, plan_summary
from .effect import OfferEffectModel, select_effect_model
from .settings import CouponSettings
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
                 params: CouponSettings | dict, seed: int = 0):
        self.feature_names = list(feature_names)
        self.model_features = list(model_features)
        self.menu = [tuple(map(float, o)) for o in menu]
        settings = parse(CouponSettings, params, "coupon")
        params = settings.model_dump()
        self.gross_margin = float(params["gross_margin"])
        self.cost_per_offer = float(params["cost_per_offer"])
        self.topup_range = float(params["topup_range"])
        self.topup_share = float(params["topup_share"])
        self.min_incremental_margin = float(params["min_incremental_margin"])
        seg = params["offer_segments"]
        self.basket_bins = int(seg["basket_bins"])
        self.lift_bins = int(seg["lift_bins"])
        self.lift_axis = seg["lift_axis"]  # offer_model or uplift_score
        self.segment_edges = None     # set by choose_segment_offers
        self.segment_offers = None    # segment id -> menu index, or -1 for no offer
        self.xgb = dict(params["xgb"])
        # settings chosen on held-out campaigns at fit time (observed data only)
        self.purchase_params = params["purchase"]
        self.redemption_params = params["redemption"]
        self.selection: dict[str, pd.DataFrame] = {}
        self.seed = seed
        # the offer's effect as an extra purchase hazard theta(x) A^gamma (effect.py); None
        # or enabled: false = the purchase model's own offer features give P(buy | offer)
        self.effect_params = params["effect"]
        self.effect_model = None
        self.uplift_model = None
        self.uplift_model_name = None
        # baseline purchase hazard of the planning window relative to the campaign windows
        # learned from (seasonality: a Double 11 fortnight sells more with or without coupons)
        self.season_factor = 1.0
        self.first_purchase_season_factor = None  # None: season_factor for everyone

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
        self.basket_model = BasketModel(self.model_features, seed=self.seed)
        self.basket_model.fit(basket_rows, basket_rows["log_basket"].to_numpy())
        mu, sigma = self.basket_model.predict(train)
        X, Y = train["coupon_threshold"].to_numpy(float), train["discount"].to_numpy(float)
        design = self._design(train, mu, sigma, X, Y)
        bought = train["bought"].to_numpy(int)
        campaign = train["campaign_id"].to_numpy()
        if untreated is not None and len(untreated):
            mu_u, sigma_u = self.basket_model.predict(untreated)
            zero = np.zeros(len(untreated))
            design_all = np.vstack([design, self._design(untreated, mu_u, sigma_u, zero, zero)])
            bought_all = np.r_[bought, untreated["bought"].to_numpy(int)]
            campaign_all = np.r_[campaign, untreated["campaign_id"].to_numpy()]
        else:
            design_all, bought_all, campaign_all = design, bought, campaign
        effect = bool(self.effect_params["enabled"])
        if effect:
            # with an effect model the purchase model is the no-offer baseline, learnt from
            # untreated rows only: fitted on treated rows too, its "no offer" answer absorbs
            # part of the coupon's effect (on the 3,000-person world the effect model then
            # came out 35% below the campaigns' observed lifts)
            untreated_rows = np.r_[X <= 0, np.ones(len(bought_all) - len(bought), bool)]
            design_all, bought_all, campaign_all = (design_all[untreated_rows],
                                                    bought_all[untreated_rows],
                                                    campaign_all[untreated_rows])
        latest = (train.groupby("campaign_id")["window_start"].min().sort_values()
                  .index.to_numpy())
        held = np.isin(campaign_all,
                       latest[-int(self.purchase_params["holdout_campaigns"]):])
        self._fit_purchase(design_all, bought_all, held)
        if effect:
            self.window_scale = self._window_scales(design_all, bought_all, campaign_all)
            self._fit_effect(train, mu, sigma, X, Y)
        buyers = (train["bought"].to_numpy() > 0) & (X > 0)
        self._fit_redeem(design[buyers], (train["redeemed"].to_numpy()[buyers] > 0).astype(int),
                         campaign[buyers])
        return self

    def _fit_purchase(self, design: np.ndarray, bought: np.ndarray, held: np.ndarray) -> None:
        """The purchase model. Its leaf size (a share of the data's information, the sum of
        the logistic hessians ~ buyers, so the same resolution at any data size) and its
        rounds are chosen by early stopping on the log-loss of the latest campaigns, held out
        whole; then it is refitted on every campaign with the chosen pair."""
        pp = self.purchase_params
        shares = [float(v) for v in pp["leaf_shares"]]
        max_rounds, patience = int(pp["max_rounds"]), int(pp["patience"])

        def info(y):
            p = float(np.mean(y))
            return len(y) * p * (1 - p)

        rows = []
        for share in shares:
            clf = self._classifier(PURCHASE_MONOTONE, n_estimators=max_rounds,
                                   min_child_weight=max(1.0, share * info(bought[~held])),
                                   early_stopping_rounds=patience, eval_metric="logloss")
            clf.fit(design[~held], bought[~held], eval_set=[(design[held], bought[held])],
                    verbose=False)
            rows.append({"leaf_share": share, "rounds": int(clf.best_iteration) + 1,
                         "heldout_logloss": float(clf.best_score)})
        table = pd.DataFrame(rows)
        best = table.loc[table["heldout_logloss"].idxmin()]
        table["chosen"] = table.index == best.name
        self.selection["purchase"] = table
        self.purchase_model = AveragedClassifier([self._classifier(
            PURCHASE_MONOTONE, n_estimators=int(best["rounds"]),
            min_child_weight=max(1.0, float(best["leaf_share"]) * info(bought))
        ).fit(design, bought)])

    def _fit_redeem(self, design: np.ndarray, redeemed: np.ndarray, campaign: np.ndarray
                    ) -> None:
        """P(redeem | bought with an offer): its min_child_weight by the log-loss of
        campaigns held out in turn (redemption is observed directly, so held-out log-loss
        is the criterion that matters)."""
        rp = self.redemption_params
        grid = [float(v) for v in rp["min_child_weights"]]
        rounds, folds = int(rp["rounds"]), int(rp["folds"])
        camps = np.unique(campaign)
        fold = np.searchsorted(camps, campaign) * min(folds, len(camps)) // len(camps)
        rows = []
        for mcw in grid:
            loss = 0.0
            for k in np.unique(fold):
                fit, out = fold != k, fold == k
                if len(np.unique(redeemed[fit])) < 2:
                    continue
                m = self._classifier(REDEEM_MONOTONE, n_estimators=rounds,
                                     min_child_weight=mcw).fit(design[fit], redeemed[fit])
                q = np.clip(m.predict_proba(design[out])[:, 1], 1e-6, 1 - 1e-6)
                loss -= float(np.sum(redeemed[out] * np.log(q)
                                     + (1 - redeemed[out]) * np.log(1 - q)))
            rows.append({"min_child_weight": mcw, "heldout_logloss": loss / len(redeemed)})
        table = pd.DataFrame(rows)
        best = table.loc[table["heldout_logloss"].idxmin()]
        table["chosen"] = table.index == best.name
        self.selection["redemption"] = table
        self.redeem_model = self._classifier(
            REDEEM_MONOTONE, n_estimators=rounds,
            min_child_weight=float(best["min_child_weight"])).fit(design, redeemed)

    def _window_scales(self, design: np.ndarray, bought: np.ndarray, campaign: np.ndarray
                       ) -> dict:
        """Per campaign, the factor on the no-offer hazard that makes the baseline's expected
        buyers among the campaign's untreated rows (its control group and the persons it did
        not address) equal to those observed. The features at the cut-off do not know the
        window's calendar: without it the effect model reads a busy window's (618) extra
        buyers as coupon effect."""
        h0 = -np.log1p(-np.clip(self.purchase_model.predict_proba(design)[:, 1], 0, 1 - 1e-9))
        out = {}
        for c in np.unique(campaign):
            h, y = h0[campaign == c], float(bought[campaign == c].sum())
            lo, hi = 0.05, 20.0
            for _ in range(50):  # expected buyers increase with the factor: bisection
                mid = np.sqrt(lo * hi)
                lo, hi = (mid, hi) if np.sum(-np.expm1(-mid * h)) < y else (lo, mid)
            out[str(c)] = float(np.sqrt(lo * hi))
        return out

    def _fit_effect(self, train: pd.DataFrame, mu, sigma, X, Y) -> None:
        """The offer-effect model on the treated members, over the purchase model's no-offer
        hazard (times its campaign window's factor); gamma and rounds by held-out campaigns
        (effect.select_effect_model)."""
        e = self.effect_params
        t = X > 0
        p0 = self._p_none(train[t], mu[t], sigma[t])
        scale = train["campaign_id"].astype(str).map(self.window_scale).fillna(1.0).to_numpy()
        h0 = -np.log1p(-np.clip(p0, 0.0, 1 - 1e-9)) * scale[t]
        a = offer_features(mu[t], sigma[t], X[t], Y[t], self.topup_range)["offer_attractiveness"]
        Xp = as_matrix(train[t], self.model_features)
        y = train["bought"].to_numpy(float)[t]
        leaf = float(e["leaf_share"])
        best, rows = select_effect_model(
            Xp, h0, a, y, train["campaign_id"].to_numpy()[t], e["gammas"],
            e["rounds"], e["xgb"], leaf, int(e["folds"]),
            self.seed)
        table = pd.DataFrame(rows)
        table["chosen"] = ((table["gamma"] == best["gamma"])
                           & (table["rounds"] == best["rounds"]))
        self.selection["effect"] = table
        self.effect_model = OfferEffectModel(best["gamma"], max(best["rounds"], 1),
                                             e["xgb"], leaf, self.seed).fit(Xp, h0, a, y)
        self.effect_rounds = int(best["rounds"])

    def _p_offer(self, features: pd.DataFrame, design: np.ndarray, p0: np.ndarray, mu, sigma,
                 X: float, Y: float) -> np.ndarray:
        """P(buy | offer) in the campaign windows: the effect model's extra hazard over p0,
        or the purchase model's own answer when there is no effect model."""
        if getattr(self, "effect_model", None) is None:  # also policies pickled before it
            return self.purchase_model.predict_proba(design)[:, 1]
        n = len(features)
        a = offer_features(mu, sigma, np.full(n, X), np.full(n, Y),
                           self.topup_range)["offer_attractiveness"]
        extra = self.effect_model.extra_hazard(as_matrix(features, self.model_features), a,
                                               self.effect_rounds)
        return 1 - (1 - np.clip(p0, 0.0, 1.0)) * np.exp(-extra)

    def chosen_settings(self) -> dict:
        """The settings chosen on held-out campaigns, by model (for the plan's totals)."""
        out = {}
        for name, table in self.selection.items():
            row = table[table["chosen"]].drop(columns="chosen")
            if len(row):
                out[name] = {k: (float(v) if isinstance(v, (float, np.floating)) else int(v))
                             for k, v in row.iloc[0].items()}
        return out

    def set_uplift_model(self, model, name: str) -> CouponPolicy:
        """The uplift learner chosen on held-out campaigns: its score ranks who to target."""
        self.uplift_model, self.uplift_model_name = model, name
        return self

    # --- scoring ---------------------------------------------------------------------------
    def _p_none(self, features, mu, sigma) -> np.ndarray:
        n = len(features)
        return self.purchase_model.predict_proba(
            self._design(features, mu, sigma, np.zeros(n), np.zeros(n)))[:, 1]

    def _season(self, features: pd.DataFrame) -> np.ndarray:
        """Season factor per row: returning buyers' for persons with a purchase history, first
        purchases' for the rest (a first order follows registration more than the calendar)."""
        first = getattr(self, "first_purchase_season_factor", None)
        if first is None or "frequency" not in features:
            return np.full(len(features), float(self.season_factor))
        bought = pd.to_numeric(features["frequency"], errors="coerce").fillna(0).to_numpy() > 0
        return np.where(bought, float(self.season_factor), float(first))

    @staticmethod
    def _seasonal(p0, p1, factor) -> tuple[np.ndarray, np.ndarray]:
        """Scale the baseline hazard by the season factor; the coupon's extra hazard stays."""
        h0 = -np.log1p(-np.clip(p0, 0.0, 1 - 1e-9))
        h_offer = np.maximum(-np.log1p(-np.clip(p1, 0.0, 1 - 1e-9)) - h0, 0.0)
        h0 = h0 * factor
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
        p0, p1 = self._seasonal(p0, self._p_offer(features, d, p0, mu, sigma, X, Y),
                                self._season(features))
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

    def plan(self, features: pd.DataFrame, budget: float | None = None,
             max_discount: float | None = None, candidates: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, dict]:
        """The campaign plan for a population under a total expected-cost budget and a
        per-customer limit on the discount: the offer segments choose again among the
        allowed offers, at the price lambda on each yuan that makes the plan fit the budget
        (budget.allocate_by_segment). With neither, it is ``recommend``'s offers. Returns the
        rows of the persons with an offer (PLAN_COLUMNS) and the expected totals.
        ``candidates``: ``self.candidates(features)`` when the caller has it already."""
        features = features.reset_index(drop=True)
        n, k = len(features), len(self.menu)
        cand = self.candidates(features) if candidates is None else candidates
        gain = cand["expected_incremental_margin"].to_numpy().reshape(k, n)
        cost = cand["expected_cost"].to_numpy().reshape(k, n)
        if max_discount is not None:
            allowed = np.array([y <= float(max_discount) for _, y in self.menu])
            gain = np.where(allowed[:, None], gain, -np.inf)
        seg = (self._segments(features, cand) if self.segment_edges is not None
               else np.arange(n))
        choice, lam = allocate_by_segment(gain, cost, seg, budget, self.min_incremental_margin)
        sel = np.flatnonzero(choice >= 0)
        pick = cand.iloc[choice[sel] * n + sel]
        out = pd.DataFrame({"person_id": features["person_id"].astype(str).to_numpy()[sel]})
        for c in ("coupon_threshold", "discount", "expected_incremental_revenue",
                  "expected_incremental_margin", "expected_cost"):
            out[c] = pick[c].to_numpy(float)
        out["uplift_score"] = self.uplift_score(features)[sel]
        return out[PLAN_COLUMNS].reset_index(drop=True), plan_summary(out, n, budget, lam)
