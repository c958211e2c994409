"""Nodes of the coupon pipeline: campaign training set -> balance checks -> uplift model
choice on held-out campaigns -> offer policy -> budgeted campaign plan; and (evaluation only)
the plan against the synthetic world's potential outcomes."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from omnicrm.config import parse  # noqa: E402
from omnicrm.coupon import uplift as U  # noqa: E402
from omnicrm.coupon.balance import check_campaigns  # noqa: E402
from omnicrm.coupon.basket import basket_training_rows  # noqa: E402
from omnicrm.coupon.evaluation import (  # noqa: E402
    global_best_offer,
    heuristic_offers,
    oneid_to_true,
    oracle_plan,
    true_profit,
)
from omnicrm.coupon.mlflow_models import log_coupon_models  # noqa: E402
from omnicrm.coupon.policy import CouponPolicy, menu_offers  # noqa: E402
from omnicrm.coupon.settings import CouponSettings  # noqa: E402
from omnicrm.coupon.training import (  # noqa: E402
    as_matrix,
    campaign_training_set,
    features_function,
    model_columns,
    non_member_rows,
    season_factors,
)
from omnicrm.features import source_tables  # noqa: E402
from omnicrm.features.settings import engine_settings, feature_settings  # noqa: E402
from omnicrm.tracking import mlflow_metrics  # noqa: E402

log = logging.getLogger(__name__)


def _settings(params: dict | CouponSettings) -> CouponSettings:
    return parse(CouponSettings, params, "coupon")


def _metrics(prefix: str, values: dict) -> dict:
    """MLflow metrics (kedro-mlflow prefixes them with the dataset's name)."""
    return mlflow_metrics({k: v for k, v in values.items() if v is not None}, prefix,
                          finite_only=True)


def build_training_set(campaigns: pd.DataFrame, campaign_offers: pd.DataFrame,
                       campaign_members: pd.DataFrame, orders: pd.DataFrame,
                       order_items: pd.DataFrame, products: pd.DataFrame,
                       events: pd.DataFrame, coupon_redemptions: pd.DataFrame,
                       member_registrations: pd.DataFrame, person_index: pd.DataFrame,
                       feature_params: dict, engine: dict, params: dict
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Campaign members with features at their assignment date and window outcomes, the
    basket-model rows (features at each assignment date + later non-coupon baskets) and the
    untreated rows of the no-offer purchase model (everyone a campaign did not address, with
    their outcomes in its window)."""
    s, where = _settings(params), engine_settings(engine)
    tables = source_tables(orders, order_items, events, campaign_members,
                           coupon_redemptions, member_registrations, person_index)
    features_at = features_function(tables, products, feature_settings(feature_params),
                                    where.name, dict(where.options))
    data, tables_by_cutoff = campaign_training_set(
        campaigns, campaign_offers, campaign_members, orders, person_index, features_at,
        s.gross_margin)
    baskets = basket_training_rows(tables_by_cutoff, orders, person_index,
                                   s.basket.horizon_days)
    untreated = non_member_rows(tables_by_cutoff, data, campaigns, orders, person_index,
                                s.gross_margin, s.purchase.non_member_sample, s.seed)
    return data, baskets, untreated


def check_training_campaigns(coupon_training_set: pd.DataFrame, params: dict
                             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop campaigns that are not valid experiments (no control, imbalanced), with warnings."""
    return check_campaigns(coupon_training_set, _settings(params).balance)


def _split(data: pd.DataFrame, holdout: int):
    order = (data.groupby("campaign_id")["window_start"].min().sort_values().index.tolist())
    if len(order) <= holdout:
        raise ValueError(f"coupon.uplift.holdout_campaigns={holdout} leaves no campaign to "
                         f"train on ({len(order)} usable campaigns)")
    held = order[-holdout:]
    return data[~data["campaign_id"].isin(held)], data[data["campaign_id"].isin(held)], held


def select_uplift_model(train_set: pd.DataFrame, person_features: pd.DataFrame, params: dict):
    """Fit every uplift learner on the earlier campaigns, score Qini/AUUC on the latest
    (held out whole), pick the best by ``select_by`` and refit it on every campaign."""
    cfg = _settings(params)
    up = cfg.uplift
    cols = model_columns(person_features)
    fit, held, held_ids = _split(train_set, up.holdout_campaigns)
    y_col = up.outcome
    Xf, Xh = as_matrix(fit, cols), as_matrix(held, cols)
    rows, curves = [], {}
    for name in up.learners:
        model = U.make_learner(name, dict(up.xgb), cfg.seed).fit(
            Xf, fit["treated"].to_numpy(), fit[y_col].to_numpy(float))
        score = model.predict(Xh)
        s = U.uplift_scores(held[y_col], held["treated"], score, held["campaign_id"])
        s_margin = U.uplift_scores(held["margin"], held["treated"], score)
        rows.append({"learner": name, **s, "qini_margin": s_margin["qini"],
                     "auuc_margin": s_margin["auuc"]})
        curves[name] = U.qini_curve(held[y_col], held["treated"], score)
    table = pd.DataFrame(rows).sort_values(up.select_by, ascending=False)
    best = table["learner"].iloc[0]
    table["chosen"] = table["learner"] == best
    table["holdout_campaigns"] = ",".join(held_ids)
    log.info("uplift learners on held-out campaigns %s:\n%s\nchosen: %s", held_ids,
             table.to_string(index=False), best)
    final = U.make_learner(best, dict(up.xgb), cfg.seed).fit(
        as_matrix(train_set, cols), train_set["treated"].to_numpy(),
        train_set[y_col].to_numpy(float))
    metrics = {}
    for r in rows:
        metrics.update(_metrics(r["learner"],
                                {k: r[k] for k in ("qini", "auuc", "qini_per_campaign",
                                                   "qini_margin")}))
    return final, best, table, _qini_plot(curves, held[y_col], held["treated"], best,
                                          held_ids), metrics


def _qini_plot(curves: dict, y, treated, best: str, held: list[str]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, (frac, q) in curves.items():
        ax.plot(frac, q, lw=2.5 if name == best else 1.2,
                label=f"{name}{' (chosen)' if name == best else ''}")
    frac, q = next(iter(curves.values()))
    ax.plot([0, 1], [0, q[-1]], "k--", lw=1, label="random")
    ax.set_xlabel("share of held-out members targeted (by uplift score)")
    ax.set_ylabel("incremental buyers among the treated (Qini)")
    ax.set_title(f"Qini curves on held-out campaigns {', '.join(held)}")
    ax.legend()
    fig.tight_layout()
    return fig


def fit_policy(train_set: pd.DataFrame, basket_rows: pd.DataFrame,
               untreated_rows: pd.DataFrame, person_features: pd.DataFrame, uplift_model,
               uplift_name: str,
               orders: pd.DataFrame, campaigns: pd.DataFrame, person_index: pd.DataFrame,
               params: dict):
    """The offer policy (purchase, offer-effect, basket and redemption models, each with its
    settings chosen on held-out campaigns) on every usable campaign, with the chosen uplift
    learner and the planning window's season factors attached."""
    feature_cols = list(person_features.columns)
    cols = model_columns(person_features)
    s = _settings(params)
    menu = menu_offers(s.menu.thresholds, s.menu.discounts)
    policy = CouponPolicy(feature_cols, cols, menu, s, s.seed)
    used_ids = train_set["campaign_id"].unique()  # campaigns that passed the balance checks
    policy.fit(train_set, basket_rows,
               untreated_rows[untreated_rows["campaign_id"].isin(used_ids)])
    policy.set_uplift_model(uplift_model, uplift_name)
    plan_start = pd.Timestamp(person_features["cutoff_date"].iloc[0])  # the data's "today"
    used = campaigns[campaigns["campaign_id"].isin(used_ids)]
    factors = season_factors(orders, person_index, used, plan_start, s.window_days)
    policy.season_factor = factors["repeat"]
    policy.first_purchase_season_factor = factors["first"]
    segments = policy.choose_segment_offers(person_features)
    log.info("coupon policy fitted on %d member rows; season factor of the planning window "
             "%.2f (returning buyers), %.2f (first purchases)", len(train_set),
             factors["repeat"], factors["first"])
    for name, table in policy.selection.items():
        log.info("coupon %s model, settings on held-out campaigns:\n%s", name,
                 table.to_string(index=False))
    log.info("offer segments (predicted basket x predicted lift):\n%s",
             segments.to_string(index=False))
    return policy, segments


def register_coupon_models(coupon_policy: CouponPolicy, person_features: pd.DataFrame,
                           params: dict) -> dict:
    """Log the uplift and policy models to MLflow from code and register them."""
    s = _settings(params)
    example = person_features.head(5).reset_index(drop=True)
    return log_coupon_models(coupon_policy, example, dict(s.registered_models))


def plan_campaign(coupon_policy: CouponPolicy, person_features: pd.DataFrame,
                  customer_segments: pd.DataFrame, params: dict):
    """The campaign plan: the policy's offer per person, then the budget allocation."""
    b = _settings(params).budget
    cand = coupon_policy.candidates(person_features)
    chosen, summary = coupon_policy.plan(person_features, b.total,
                                         b.max_discount_per_customer, cand)
    plan = pd.DataFrame({"person_id": person_features["person_id"].astype(str)})
    plan = plan.merge(chosen.drop(columns=["uplift_score"]), on="person_id", how="left")
    for c in ("coupon_threshold", "discount", "expected_incremental_revenue",
              "expected_incremental_margin", "expected_cost"):
        plan[c] = plan[c].fillna(0.0).astype("float64")
    plan["offer"] = np.where(plan["coupon_threshold"] > 0,
                             "spend " + plan["coupon_threshold"].astype(int).astype(str)
                             + " get " + plan["discount"].astype(int).astype(str) + " off",
                             "none")
    plan["uplift_score"] = coupon_policy.uplift_score(person_features).astype("float64")
    seg = customer_segments[["person_id", "value_tier_name", "lifecycle_stage"]]
    plan = plan.merge(seg, on="person_id", how="left")
    plan["segment"] = (plan["value_tier_name"].fillna("unknown") + " / "
                       + plan["lifecycle_stage"].fillna("unknown"))
    plan = plan[["person_id", "offer", "coupon_threshold", "discount",
                 "expected_incremental_revenue", "expected_incremental_margin",
                 "expected_cost", "uplift_score", "segment", "value_tier_name",
                 "lifecycle_stage"]]
    summary["uplift_model"] = coupon_policy.uplift_model_name
    summary["season_factor"] = coupon_policy.season_factor
    summary["first_purchase_season_factor"] = coupon_policy.first_purchase_season_factor
    summary["model_settings"] = coupon_policy.chosen_settings()
    log.info("coupon plan: %d offers, expected incremental margin %.0f CNY at cost %.0f CNY",
             summary["offers"], summary["expected_incremental_margin"],
             summary["expected_cost"])
    metrics = _metrics("", {k: v for k, v in summary.items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)})
    return plan, summary, metrics, _profit_by_threshold_plot(cand, plan)


def _profit_by_threshold_plot(cand: pd.DataFrame, plan: pd.DataFrame) -> plt.Figure:
    """Expected incremental margin if everyone worth it got threshold X, per discount Y."""
    pos = cand.assign(m=cand["expected_incremental_margin"].clip(lower=0))
    tot = pos.groupby(["coupon_threshold", "discount"])["m"].sum().unstack("discount")
    fig, ax = plt.subplots(figsize=(7, 5))
    for y in tot.columns:
        ax.plot(tot.index, tot[y], marker="o", label=f"Y = {int(y)}")
    chosen = plan[plan["coupon_threshold"] > 0].groupby("coupon_threshold")[
        "expected_incremental_margin"].sum()
    ax.bar(chosen.index, chosen.to_numpy(), width=18, alpha=0.3, color="grey",
           label="the plan, by its chosen X")
    ax.set_xlabel("threshold X (CNY)")
    ax.set_ylabel("expected incremental margin (CNY)")
    ax.set_title("Expected profit by threshold (offers with positive expected margin)")
    ax.legend()
    fig.tight_layout()
    return fig


def evaluate_plan(coupon_plan: pd.DataFrame, coupon_policy: CouponPolicy,
                  person_features: pd.DataFrame, coupon_training_set: pd.DataFrame,
                  person_index: pd.DataFrame, truth_records: pd.DataFrame,
                  truth_offer_outcomes: pd.DataFrame, params: dict):
    """Our plan, the oracle and the baselines, in true incremental margin of the planning
    window (truth_offer_outcomes)."""
    s = _settings(params)
    ev = s.evaluation
    send = s.cost_per_offer
    mapping = oneid_to_true(person_index, truth_records)
    truth = truth_offer_outcomes
    reached = mapping["true_person_id"].unique()
    oracle = oracle_plan(truth, pd.Index(reached))
    oracle_all = oracle_plan(truth)
    ident = pd.DataFrame({"person_id": truth["person_id"].unique()})
    ident["true_person_id"] = ident["person_id"]
    rows = {"ours": true_profit(coupon_plan, mapping, truth, send),
            "oracle": true_profit(oracle, ident, truth, send),
            "oracle_all_true_persons": true_profit(oracle_all, ident, truth, send)}
    x, y = global_best_offer(coupon_training_set)
    everyone = pd.DataFrame({"person_id": person_features["person_id"], "coupon_threshold": x,
                             "discount": y})
    rows[f"no_targeting_{int(x)}_{int(y)}"] = true_profit(everyone, mapping, truth, send)
    # propensity targeting: the most likely buyers (no offer) get the one global offer, a
    # fixed top share of the base (not our plan's count: that is everyone when we offer
    # everyone) and, under the budget, as many as its expected cost allows
    cand = coupon_policy.candidates(person_features)
    p_buy = cand.groupby("person_id")["p_buy_none"].first().sort_values(ascending=False)
    top_share = ev.propensity_top_share
    top = p_buy.index[:int(round(top_share * len(p_buy)))]
    rows[f"propensity_top{int(round(100 * top_share))}pct_{int(x)}_{int(y)}"] = true_profit(
        everyone[everyone["person_id"].isin(top)], mapping, truth, send)
    heur = heuristic_offers(person_features, s.menu.thresholds, s.menu.discounts,
                            ev.heuristic_discount_rate)
    rows["heuristic_x_from_avg_spend"] = true_profit(heur, mapping, truth, send)
    # the same comparison under a binding budget: a share of our unconstrained plan's cost
    budget = ev.budget_share * float(coupon_plan["expected_cost"].sum())
    chosen, _ = coupon_policy.plan(person_features, budget, None, cand)
    rows["ours_budget"] = true_profit(chosen, mapping, truth, send)
    offer_cost = (cand[(cand["coupon_threshold"] == x) & (cand["discount"] == y)]
                  .groupby("person_id")["expected_cost"].first().reindex(p_buy.index))
    k = int(np.searchsorted(np.cumsum(offer_cost.fillna(0).to_numpy()), budget, side="right"))
    rows["propensity_budget"] = true_profit(
        everyone[everyone["person_id"].isin(p_buy.index[:k])], mapping, truth, send)
    oracle_b = oracle_plan(truth, pd.Index(reached), budget=budget)
    rows["oracle_budget"] = true_profit(oracle_b, ident, truth, send)
    table = pd.DataFrame([{"policy": k, **v} for k, v in rows.items()])
    o = rows["oracle"]["true_incremental_margin"]
    table["share_of_oracle"] = table["true_incremental_margin"] / o
    ob = rows["oracle_budget"]["true_incremental_margin"]
    table.loc[table["policy"].str.endswith("_budget"), "share_of_oracle"] = (
        table["true_incremental_margin"] / ob)
    table["budget"] = np.where(table["policy"].str.endswith("_budget"), budget, np.nan)
    log.info("coupon plan vs truth:\n%s", table.to_string(index=False))
    metrics = {}
    for r in table.itertuples(index=False):
        metrics.update(_metrics(r.policy,
                                {"true_incremental_margin": r.true_incremental_margin,
                                 "share_of_oracle": r.share_of_oracle}))
    return table, metrics
