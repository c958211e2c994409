"""Customer segments from the per-person feature table: value tier (a fitted
:class:`~omnicrm.segments.tiers.ValueTierModel`), lifecycle stage, RFM state and
behavioural tags. Shared by the segments pipeline and the production scoring model."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from omnicrm.segments.tiers import ValueTierModel, tier_names

log = logging.getLogger(__name__)


BUYER_STAGES = ("lost", "dormant", "loyal", "purchased")
STAGES = ("aware", "interested", "registered", "purchased", "loyal", "dormant", "lost")


def buyer_stage(recency_days: pd.Series, baskets_year: pd.Series, spend_year: pd.Series,
                lifecycle: dict) -> np.ndarray:
    """The stage of a buyer from the recency of the last purchase and the last year's
    baskets and spend: ``lost`` (> lost_days), ``dormant`` (> dormant_days), ``loyal``
    (>= loyal_min_orders baskets or >= loyal_min_spend), else ``purchased``. The one rule
    for segments, scoring and the campaign reports."""
    p = lifecycle
    loyal = (baskets_year >= p["loyal_min_orders"]) | (spend_year >= p["loyal_min_spend"])
    return np.select([(recency_days > p["lost_days"]).to_numpy(),
                      (recency_days > p["dormant_days"]).to_numpy(), loyal.to_numpy()],
                     ["lost", "dormant", "loyal"], "purchased")


def lifecycle_stage(features: pd.DataFrame, params: dict) -> pd.Series:
    """Campaign lifecycle stage from domain.md, first rule that applies:

    - buyers: :func:`buyer_stage`;
    - non-buyers: ``interested`` (a collect or cart in the engagement window),
      ``registered`` (a member card or account in POS, Tmall or web), else ``aware``
      (only a WeChat follower)."""
    p = params
    buyer = (features["frequency"] > 0).to_numpy()
    w = p["engagement_window_days"]
    engaged = ((features[f"collects_{w}d"] + features[f"carts_{w}d"]) > 0).to_numpy()
    member = (features["has_pos"] | features["has_tmall"] | features["has_web"]).to_numpy()
    bought = buyer_stage(features["recency_days"], features["baskets_year"],
                         features["spend_year"], p)
    stage = np.select([buyer, engaged, member], [bought, "interested", "registered"], "aware")
    return pd.Series(stage, index=features.index, name="lifecycle_stage")


def rfm_state(features: pd.DataFrame, params: dict) -> pd.Series:
    """Classic RFM view: ``new`` (first purchase within new_days), ``active`` (last purchase
    within active_days), ``at_risk`` (within at_risk_days), ``lapsed`` (older);
    ``no_purchase`` for persons who never bought."""
    recency, tenure = features["recency_days"], features["tenure_days"]
    state = np.select(
        [features["frequency"] == 0, tenure <= params["new_days"],
         recency <= params["active_days"], recency <= params["at_risk_days"]],
        ["no_purchase", "new", "active", "at_risk"], "lapsed")
    return pd.Series(state, index=features.index, name="rfm_state")


def _preferred(features: pd.DataFrame, prefix: str, has: pd.Series) -> pd.Series:
    cols = [c for c in features.columns if c.startswith(prefix)]
    best = features[cols].idxmax(axis=1).str.removeprefix(prefix)
    return best.where(has, None)


def behavioural_tags(features: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Tags (scores in 0..1 and flags):

    - ``price_sensitive_score``: share of orders bought on promotion, averaged with the
      discount depth (discount incl. coupons / list value, scaled so 50% off = 1);
      ``tag_price_sensitive`` when the score >= price_sensitive_min and the person has at
      least tag_min_orders orders.
    - ``trend_chaser_score``: share of items that were new arrivals (bought within
      features.new_arrival_days of launch); ``tag_trend_chaser`` when >= trend_chaser_min
      with at least tag_min_items items.
    - ``preferred_category`` / ``preferred_colour`` / ``preferred_style`` /
      ``preferred_channel`` / ``shopping_hour``: the largest share of items (orders for
      channel and hour), null without purchases; ``category_preference_strength`` is that
      category's share.
    - ``tag_new_visitor``: first registered within new_visitor_days; ``tag_loyal_member``:
      lifecycle stage loyal."""
    p = params
    buyer = features["frequency"] > 0
    bought_items = features["items_year"].gt(0) | buyer
    tags = pd.DataFrame(index=features.index)
    depth = (features["discount_share"] / 0.5).clip(upper=1.0)
    tags["price_sensitive_score"] = 0.5 * features["promo_order_share"] + 0.5 * depth
    tags["tag_price_sensitive"] = (tags["price_sensitive_score"] >= p["price_sensitive_min"]) \
        & (features["frequency"] >= p["tag_min_orders"])
    tags["trend_chaser_score"] = features["new_arrival_share"]
    tags["tag_trend_chaser"] = (features["new_arrival_share"] >= p["trend_chaser_min"]) \
        & (features["frequency"] >= p["tag_min_orders"])
    tags["preferred_category"] = _preferred(features, "category_share_", bought_items)
    share_cols = [c for c in features.columns if c.startswith("category_share_")]
    tags["category_preference_strength"] = features[share_cols].max(axis=1)
    tags["preferred_colour"] = _preferred(features, "colour_share_", bought_items)
    tags["preferred_style"] = _preferred(features, "style_share_", bought_items)
    tags["preferred_channel"] = _preferred(features, "channel_share_", buyer)
    tags["shopping_hour"] = _preferred(features, "hour_share_", buyer)
    tags["tag_new_visitor"] = features["days_since_registration"] <= p["new_visitor_days"]
    return tags


def assign_segments(person_features: pd.DataFrame, value_tier_model: ValueTierModel,
                    params: dict) -> pd.DataFrame:
    """The segment table: one row per person with value tier, lifecycle stage, RFM state and
    behavioural tags."""
    f = person_features.reset_index(drop=True)
    names = tier_names(params["n_tiers"])
    tiers = value_tier_model.predict(f)
    seg = pd.DataFrame({"person_id": f["person_id"], "cutoff_date": f["cutoff_date"],
                        "value_tier": tiers.astype("int64"),
                        "value_tier_name": [names[t] for t in tiers]})
    seg["lifecycle_stage"] = lifecycle_stage(f, params["lifecycle"])
    seg["rfm_state"] = rfm_state(f, params["rfm"])
    tags = behavioural_tags(f, params["tags"])
    seg = pd.concat([seg, tags], axis=1)
    seg["tag_loyal_member"] = seg["lifecycle_stage"] == "loyal"
    log.info("segments: tiers %s; stages %s", np.bincount(tiers).tolist(),
             seg["lifecycle_stage"].value_counts().to_dict())
    return seg
