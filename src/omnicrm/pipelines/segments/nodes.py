"""Nodes of the segments pipeline: ``person_features`` -> value tiers, lifecycle stages, RFM
states, behavioural tags, tier profiles and plots. Tag definitions are in the docstring of
:func:`behavioural_tags`; thresholds in conf/base/parameters_segments.yml."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402

from omnicrm.features.value_tiers import ValueTierModel, tier_names  # noqa: E402

log = logging.getLogger(__name__)


def _model(params: dict, random_state: int | None = None) -> ValueTierModel:
    return ValueTierModel(n_tiers=params["n_tiers"], weights=params.get("weights"),
                          fit_sample=params.get("fit_sample", 200_000),
                          random_state=params.get("seed", 0) if random_state is None
                          else random_state)


def fit_value_tiers(person_features: pd.DataFrame, params: dict
                    ) -> tuple[ValueTierModel, dict]:
    """Fit the value-tier model; metrics: silhouette (on a sample) and bootstrap stability
    (mean adjusted Rand index between the fit and refits on resampled buyers, all assigning
    the same buyers)."""
    model = _model(params).fit(person_features)
    buyers = person_features[person_features["frequency"] > 0]
    labels = model.predict(buyers)
    z = model.transform(buyers)
    rng = np.random.default_rng(params.get("seed", 0))
    n_sil = min(len(buyers), params.get("silhouette_sample", 10_000))
    pick = rng.choice(len(buyers), n_sil, replace=False)
    silhouette = float(silhouette_score(z[pick], labels[pick]))
    stability = []
    for b in range(params.get("bootstrap_rounds", 10)):
        resample = buyers.sample(len(buyers), replace=True, random_state=1000 + b)
        refit = _model(params, random_state=1000 + b).fit(resample)
        stability.append(adjusted_rand_score(labels, refit.predict(buyers)))
    metrics = {"silhouette": silhouette, "bootstrap_ari_mean": float(np.mean(stability)),
               "bootstrap_ari_min": float(np.min(stability)),
               "buyers_clustered": float(len(buyers)), "inertia": float(model.inertia_)}
    log.info("value tiers: silhouette %.3f, bootstrap ARI %.3f (min %.3f)", silhouette,
             metrics["bootstrap_ari_mean"], metrics["bootstrap_ari_min"])
    return model, {f"value_tiers.{k}": {"value": v, "step": 0} for k, v in metrics.items()}


def lifecycle_stage(features: pd.DataFrame, params: dict) -> pd.Series:
    """Campaign lifecycle stage from domain.md, first rule that applies:

    - buyers by recency of the last purchase: ``lost`` (> lost_days), ``dormant``
      (dormant_days .. lost_days), else ``loyal`` (>= loyal_min_orders baskets or
      >= loyal_min_spend in the last year) or ``purchased``;
    - non-buyers: ``interested`` (a collect or cart in the engagement window),
      ``registered`` (a member card or account in POS, Tmall or web), else ``aware``
      (only a WeChat follower)."""
    p = params
    recency = features["recency_days"]
    buyer = features["frequency"] > 0
    w = p["engagement_window_days"]
    engaged = (features[f"collects_{w}d"] + features[f"carts_{w}d"]) > 0
    member = features["has_pos"] | features["has_tmall"] | features["has_web"]
    loyal = ((features["baskets_year"] >= p["loyal_min_orders"])
             | (features["spend_year"] >= p["loyal_min_spend"]))
    stage = np.select(
        [buyer & (recency > p["lost_days"]), buyer & (recency > p["dormant_days"]),
         buyer & loyal, buyer, engaged, member],
        ["lost", "dormant", "loyal", "purchased", "interested", "registered"], "aware")
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


def profile_value_tiers(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
                        params: dict) -> pd.DataFrame:
    """One row per tier: size, spend, frequency, AOV, recency, top categories and channel
    mix (means over the tier's persons; recency over its buyers)."""
    f = person_features.merge(customer_segments[["person_id", "value_tier",
                                                 "value_tier_name"]], on="person_id")
    g = f.groupby(["value_tier", "value_tier_name"])
    prof = g.agg(persons=("person_id", "size"), buyers=("frequency", lambda s: int((s > 0).sum())),
                 spend_year=("spend_year", "mean"), monetary=("monetary", "mean"),
                 frequency=("frequency", "mean"), orders_per_year=("orders_per_year", "mean"),
                 avg_order_value=("avg_order_value", "mean"),
                 recency_days_median=("recency_days", "median"),
                 discount_share=("discount_share", "mean"),
                 imported_share=("imported_share", "mean")).reset_index()
    prof.insert(3, "share", prof["persons"] / prof["persons"].sum())
    cats = [c for c in f.columns if c.startswith("category_share_")]
    top = g[cats].mean()
    prof["top_categories"] = [", ".join(c.removeprefix("category_share_")
                                        for c in row.nlargest(3).index)
                              for _, row in top.iterrows()]
    chans = [c for c in f.columns if c.startswith("channel_share_")]
    mix = g[chans].mean().reset_index(drop=True)
    for c in chans:
        prof[c] = mix[c].to_numpy()
    return prof.sort_values("value_tier").reset_index(drop=True)


def plot_tier_profiles(value_tier_profile: pd.DataFrame) -> plt.Figure:
    """Four panels per tier: size, yearly spend, orders a year and AOV, plus channel mix."""
    prof = value_tier_profile
    labels = prof["value_tier_name"].tolist()
    fig, axes = plt.subplots(1, 5, figsize=(20, 4))
    for ax, (col, title) in zip(axes, [("persons", "persons"),
                                        ("spend_year", "spend last year (CNY)"),
                                        ("orders_per_year", "orders a year"),
                                        ("avg_order_value", "average order value (CNY)")]):
        ax.bar(labels, prof[col], color="#4c72b0")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=45)
    chans = [c for c in prof.columns if c.startswith("channel_share_")]
    bottom = np.zeros(len(prof))
    for c in chans:
        axes[4].bar(labels, prof[c], bottom=bottom, label=c.removeprefix("channel_share_"))
        bottom += prof[c].to_numpy()
    axes[4].set_title("channel mix (orders)")
    axes[4].legend(fontsize=8)
    axes[4].tick_params(axis="x", rotation=45)
    fig.suptitle("Value tiers")
    fig.tight_layout()
    return fig


def plot_segment_map(person_features: pd.DataFrame, customer_segments: pd.DataFrame
                     ) -> plt.Figure:
    """Buyers on the two buying-power axes, coloured by tier; lifecycle stage counts."""
    f = person_features.merge(customer_segments.drop(columns="cutoff_date"), on="person_id")
    buyers = f[f["frequency"] > 0]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    sc = ax1.scatter(np.exp(buyers["avg_basket_log"]), buyers["orders_per_year"],
                     c=buyers["value_tier"], cmap="viridis", s=4, alpha=0.6)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("typical basket (CNY, geometric mean)")
    ax1.set_ylabel("orders a year")
    fig.colorbar(sc, ax=ax1, label="value tier")
    order = ["aware", "interested", "registered", "purchased", "loyal", "dormant", "lost"]
    counts = f["lifecycle_stage"].value_counts().reindex(order, fill_value=0)
    ax2.bar(counts.index, counts.to_numpy(), color="#dd8452")
    ax2.set_title("lifecycle stages")
    ax2.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig
