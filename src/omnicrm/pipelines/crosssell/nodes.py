"""Nodes of the cross-sell pipeline: association rules and bundles, the next best category.
Labels come from observed orders only; the truth is read by the `evaluation` node alone. The
logic is in omnicrm.crosssell."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from omnicrm.config import parse
from omnicrm.crosssell import nextbest as nb
from omnicrm.crosssell.evaluation import against_true_preferences
from omnicrm.crosssell.rules import basket_items, bundle_table, rules_overall_and_by_segment
from omnicrm.crosssell.settings import CrossSellSettings
from omnicrm.evaluation.persons import oneid_to_true
from omnicrm.repurchase.labels import item_purchases
from omnicrm.repurchase.split import data_end
from omnicrm.repurchase.training import features_from_raw
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)


def _settings(params: dict | CrossSellSettings) -> CrossSellSettings:
    return parse(CrossSellSettings, params, "crosssell")


def mine_association_rules(orders: pd.DataFrame, order_items: pd.DataFrame,
                           products: pd.DataFrame, person_index: pd.DataFrame,
                           customer_segments: pd.DataFrame, params: dict
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Association rules at category and SKU level on the last ``window_days`` of baskets,
    overall, per channel and per value tier; and the bundle table (pairs and triples with
    their margin) at ``bundles.level``."""
    s = _settings(params)
    end = data_end(orders)
    items = basket_items(orders, order_items, products, person_index,
                         start=end - pd.Timedelta(days=s.rules.window_days), end=end)
    tiers = customer_segments.set_index("person_id")["value_tier"]
    items["value_tier"] = items["person_id"].map(tiers).astype("Int64")   # NA: no tier
    tables, bundles = [], None
    for level in s.rules.min_support:
        rules, itemsets = rules_overall_and_by_segment(items, level, s.rules)
        tables.append(rules)
        if level == s.bundles.level:
            bundles = bundle_table(items, itemsets, items["order_id"].nunique(), level,
                                   s.bundles.gross_margin, s.bundles.top)
    rules = pd.concat(tables, ignore_index=True)
    log.info("association rules: %s; %d bundles",
             rules.groupby(["level", "segment"]).size().to_dict(),
             0 if bundles is None else len(bundles))
    return rules, bundles if bundles is not None else pd.DataFrame()


def _browse(events, products, person_index, features, days) -> Any:
    cutoff = pd.Timestamp(features["cutoff_date"].iloc[0])
    return nb.category_browse(events, products, person_index, features["person_id"],
                              nb.categories_of(features), cutoff, days)


def train_next_best_category(orders: pd.DataFrame, order_items: pd.DataFrame,
                             products: pd.DataFrame, events: pd.DataFrame,
                             campaign_members: pd.DataFrame,
                             coupon_redemptions: pd.DataFrame,
                             member_registrations: pd.DataFrame, person_index: pd.DataFrame,
                             person_features: pd.DataFrame, params: dict,
                             feature_params: dict, engine: dict):
    """The next best category model (from person_features: what the scoring model serves),
    its browse-aware twin (evaluated only), their held-out ranking table against item-item,
    most popular and the rules, and today's top-k unbought categories per person."""
    s = _settings(params)
    h = s.next_best.horizon_days
    end = data_end(orders)
    cutoffs = [end - pd.Timedelta(days=k * h)
               for k in range(s.next_best.test_windows + 1, 0, -1)]
    stacked = features_from_raw(cutoffs, orders, order_items, products, events, campaign_members,
                           coupon_redemptions, member_registrations, person_index,
                           feature_params, engine)
    by_cutoff = {c: stacked[stacked["cutoff_date"] == c].reset_index(drop=True)
                 for c in cutoffs}
    browse = {c: _browse(events, products, person_index, f, s.next_best.browse_days)
              for c, f in by_cutoff.items()}
    items = basket_items(orders, order_items, products, person_index)
    purchases = item_purchases(orders, order_items, products, person_index, "category")
    model, twin, table = nb.fit_next_best(by_cutoff, person_features, items, purchases,
                                          s.next_best, s.rules, s.seed, browse)
    log.info("next best category on the %d-day windows after %s ... %s:\n%s", h,
             cutoffs[1].date(), cutoffs[-1].date(), table.to_string())
    top = model.recommend(person_features)
    top.insert(1, "cutoff_date", pd.Timestamp(person_features["cutoff_date"].iloc[0]))
    return model, twin, table, top


def crosssell_metrics(association_rules: pd.DataFrame, bundle_suggestions: pd.DataFrame,
                      next_best_evaluation: pd.DataFrame) -> dict[str, Any]:
    """Rule counts per level and segment kind, the bundles' top joint margin, and each next
    best ranker's held-out hit rate and NDCG, as MLflow metrics."""
    values = {f"rules.{level}.{segment}": n for (level, segment), n in
              association_rules.groupby(["level", "segment"]).size().items()}
    overall = association_rules[association_rules["segment"] == "all"]
    for level, part in overall.groupby("level"):
        values[f"rules.{level}.max_lift"] = part["lift"].max()
    values["bundles"] = len(bundle_suggestions)
    if len(bundle_suggestions):
        values["bundles.top_joint_margin"] = bundle_suggestions["joint_margin"].iloc[0]
    for row in next_best_evaluation.to_dict("records"):
        for key, value in row.items():
            if key.startswith(("hit_rate_at_", "ndcg_at_")):
                values[f"next_best.{row['method']}.{key}"] = value
    return mlflow_metrics(values, finite_only=True)


def evaluate_next_best(next_best_category_model: nb.NextBestCategoryModel,
                       next_best_browse_model: nb.NextBestCategoryModel | None,
                       person_features: pd.DataFrame, events: pd.DataFrame,
                       products: pd.DataFrame, person_index: pd.DataFrame,
                       truth_records: pd.DataFrame, truth_persons: pd.DataFrame,
                       params: dict) -> tuple[dict, dict[str, Any]]:
    """Accuracy@1 and @3 of each ranker's next best category against the person's truly
    preferred unbought category (evaluation only: reads the truth)."""
    s = _settings(params)
    browse = (_browse(events, products, person_index, person_features,
                      s.next_best.browse_days) if next_best_browse_model is not None else None)
    scores = nb.method_scores(next_best_category_model, person_features,
                              next_best_browse_model, browse)
    result = against_true_preferences(scores, person_features,
                                      next_best_category_model.peers.categories,
                                      oneid_to_true(person_index, truth_records),
                                      truth_persons)
    log.info("next best category against the true preferences: %s",
             {k: round(v, 3) for k, v in result.items()})
    return result, mlflow_metrics(result, "next_best_truth", finite_only=True)
