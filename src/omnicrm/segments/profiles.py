"""Fitting the value tiers with their diagnostics, per-tier profiles and the plots of both."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402

from omnicrm.segments.settings import SegmentSettings, segment_settings  # noqa: E402
from omnicrm.segments.tiers import ValueTierModel  # noqa: E402
from omnicrm.tracking import mlflow_metrics  # noqa: E402

log = logging.getLogger(__name__)


def _model(params: dict | SegmentSettings, random_state: int | None = None) -> ValueTierModel:
    s = segment_settings(params)
    return ValueTierModel(n_tiers=s.n_tiers, weights=dict(s.weights), fit_sample=s.fit_sample,
                          fit_min_orders=s.fit_min_orders, fit_min_persons=s.fit_min_persons,
                          random_state=s.seed if random_state is None else random_state)


def fit_value_tiers(person_features: pd.DataFrame, params: dict
                    ) -> tuple[ValueTierModel, dict]:
    """Fit the value-tier model; metrics: silhouette (on a sample) and bootstrap stability
    (mean adjusted Rand index between the fit and refits on resampled buyers, all assigning
    the same buyers)."""
    params = segment_settings(params)
    model = _model(params).fit(person_features)
    buyers = person_features[person_features["frequency"] > 0]
    labels = model.predict(buyers)
    z = model.transform(buyers)
    rng = np.random.default_rng(params.seed)
    n_sil = min(len(buyers), params.silhouette_sample)
    pick = rng.choice(len(buyers), n_sil, replace=False)
    silhouette = float(silhouette_score(z[pick], labels[pick]))
    stability = []
    for b in range(params.bootstrap_rounds):
        resample = buyers.sample(len(buyers), replace=True, random_state=1000 + b)
        refit = _model(params, random_state=1000 + b).fit(resample)
        stability.append(adjusted_rand_score(labels, refit.predict(buyers)))
    metrics = {"silhouette": silhouette, "bootstrap_ari_mean": float(np.mean(stability)),
               "bootstrap_ari_min": float(np.min(stability)),
               "buyers_clustered": float(len(buyers)), "inertia": float(model.inertia_)}
    log.info("value tiers: silhouette %.3f, bootstrap ARI %.3f (min %.3f)", silhouette,
             metrics["bootstrap_ari_mean"], metrics["bootstrap_ari_min"])
    return model, mlflow_metrics(metrics, "value_tiers")


def profile_value_tiers(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
                        params: dict, person_demographics: pd.DataFrame | None = None
                        ) -> pd.DataFrame:
    """One row per tier: size, spend, frequency, AOV, recency, top categories and channel
    mix (means over the tier's persons; recency over its buyers); with
    ``person_demographics``, the tier's demographics too (:func:`demographic_profile`)."""
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
    if person_demographics is not None:
        demo = demographic_profile(f[["person_id", "value_tier"]], person_demographics,
                                   "value_tier")
        prof = prof.merge(demo, on="value_tier", how="left")
    return prof.sort_values("value_tier").reset_index(drop=True)


def demographic_profile(groups: pd.DataFrame, person_demographics: pd.DataFrame, by: str
                        ) -> pd.DataFrame:
    """Per value of ``by`` (a column of ``groups``, keyed by person_id): the share of women
    among persons of known gender, the mean city tier (1 = largest cities), the most common
    age band and the three most common provinces (among persons whose band / province is
    known), and the share of persons with a known age band."""
    d = groups.merge(person_demographics.drop(columns="cutoff_date", errors="ignore"),
                     on="person_id", how="left")
    known_gender = d["gender"].isin(["M", "F"])
    d["female"] = (d["gender"] == "F").astype(float).where(known_gender)
    d["age_known"] = d["age_band"].notna() & (d["age_band"] != "unknown")

    def top(values: pd.Series, n: int) -> str:
        values = values[values.notna() & (values != "unknown")]
        return ", ".join(values.value_counts().head(n).index.astype(str))

    g = d.groupby(by)
    return g.agg(female_share=("female", "mean"),
                 mean_city_tier=("city_tier", lambda s: float(s.dropna().mean())
                                 if s.notna().any() else np.nan),
                 age_known_share=("age_known", "mean"),
                 main_age_band=("age_band", lambda s: top(s, 1)),
                 top_provinces=("province", lambda s: top(s, 3))).reset_index()


def plot_tier_profiles(value_tier_profile: pd.DataFrame) -> plt.Figure:
    """Four panels per tier: size, yearly spend, orders a year and AOV, plus channel mix."""
    prof = value_tier_profile
    labels = prof["value_tier_name"].tolist()
    fig, axes = plt.subplots(1, 5, figsize=(20, 4))
    for ax, (col, title) in zip(axes, [("persons", "persons"),
                                        ("spend_year", "spend last year (CNY)"),
                                        ("orders_per_year", "orders a year"),
                                        ("avg_order_value", "average order value (CNY)")],
                                       strict=False):
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
