"""How good the segments are, measured on the synthetic truth."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import cross_val_predict

from omnicrm.evaluation.persons import oneid_to_true
from omnicrm.segments.oracle import (
    TierModel,
    latent_trait_posterior,
    map_tiers,
    order_histories,
    tier_posterior,
)
from omnicrm.segments.settings import segment_settings
from omnicrm.segments.tiers import buying_power
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)


def plain_kmeans_tiers(features: pd.DataFrame, k: int, seed: int = 0) -> np.ndarray:
    """The baseline: k-means on the raw, unscaled RFM/AOV columns (what one gets without
    thinking about scale)."""
    raw = features[["monetary", "frequency", "avg_order_value", "recency_days"]].fillna(0.0)
    return KMeans(k, n_init=10, random_state=seed).fit_predict(raw.to_numpy(float))


def supervised_ari(features: pd.DataFrame, tiers: np.ndarray, seed: int = 0) -> float:
    """ARI a model that was *told* the latent tiers reaches from the same clustering variables
    (5-fold cross-validated LDA). Not a ceiling: :func:`bayes_ceiling` is."""
    x = buying_power(features).to_numpy(float)
    pred = cross_val_predict(LinearDiscriminantAnalysis(), x, tiers, cv=5)
    return float(adjusted_rand_score(tiers, pred))


def bayes_ceiling(orders: pd.DataFrame, person_of: pd.DataFrame, persons: pd.Index,
                  cutoff: pd.Timestamp, synthetic: dict, latent: np.ndarray,
                  traits: pd.DataFrame) -> dict:
    """The Bayes-optimal tiers (MAP of the posterior given each person's own orders, from the
    generator's model; omnicrm.segments.oracle) vs the latent tier, and two looser
    bounds that are told latent traits: rate, dropout, price sensitivity and trend flag with
    the observed baskets (bounds every observable), and with the latent basket level too (the
    world's overlap if everyone had infinitely many orders)."""
    model = TierModel.from_params(synthetic)
    histories = order_histories(orders, person_of, cutoff, model.start)
    post = tier_posterior(histories, model, cutoff, persons=persons)
    tiers = map_tiers(post)
    traits_seen = latent_trait_posterior(traits, model, histories.reindex(persons))
    traits_only = latent_trait_posterior(traits, model)
    return {
        "bayes_ceiling_ari_buyers": float(adjusted_rand_score(latent, tiers)),
        "bayes_ceiling_accuracy_buyers": float(np.mean(tiers == latent)),
        # a calibrated posterior expects the accuracy it gets: a check on the oracle itself
        "bayes_ceiling_expected_accuracy_buyers": float(post.to_numpy().max(axis=1).mean()),
        "trait_bound_ari_buyers": float(adjusted_rand_score(latent, map_tiers(traits_seen))),
        "infinite_orders_ari_buyers": float(adjusted_rand_score(latent,
                                                                map_tiers(traits_only))),
    }


def evaluate_segments(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
                      truth_persons: pd.DataFrame, params: dict,
                      person_index: pd.DataFrame | None = None,
                      truth_records: pd.DataFrame | None = None,
                      orders: pd.DataFrame | None = None,
                      synthetic: dict | None = None) -> tuple[dict, dict]:
    """Segments vs the latent truth. Persons are OneID persons; each is judged against the
    true person most of its records belong to (``person_index`` + ``truth_records``); without
    them the person ids are taken to be the true ones. With ``orders`` and the ``synthetic``
    parameters, also the Bayes ceiling of the value-tier ARI on the same persons (their
    orders grouped as the features group them)."""
    truth = truth_persons.set_index("person_id")
    f = person_features.merge(customer_segments.drop(columns="cutoff_date"),
                              on="person_id").set_index("person_id")
    if person_index is not None and truth_records is not None:
        true_id = oneid_to_true(person_index, truth_records).set_index("person_id")[
            "true_person_id"].reindex(f.index)
        f = f[true_id.notna().to_numpy()]
        t = truth.loc[true_id.dropna().to_numpy()]
    else:
        t = truth.loc[f.index]
    buyer = (f["frequency"] > 0).to_numpy()
    latent = t["value_tier"].to_numpy()
    tiers = f["value_tier"].to_numpy()
    settings = segment_settings(params)
    k = settings.n_tiers
    plain = plain_kmeans_tiers(f[buyer], k, settings.seed)
    cutoff = pd.Timestamp(f["cutoff_date"].iloc[0])
    churned = (pd.to_datetime(t["dropout_date"]) < cutoff).to_numpy()
    predicted_churned = f["lifecycle_stage"].isin(["dormant", "lost"]).to_numpy()
    rfm_churned = f["rfm_state"].isin(["at_risk", "lapsed"]).to_numpy()
    has_cat = f["preferred_category"].notna().to_numpy()
    trend = f["tag_trend_chaser"].to_numpy(bool)
    true_trend = t["trend_chaser"].to_numpy(bool)
    result = {
        "value_tier_ari_buyers": float(adjusted_rand_score(latent[buyer], tiers[buyer])),
        "value_tier_ari_all": float(adjusted_rand_score(latent, tiers)),
        "plain_kmeans_ari_buyers": float(adjusted_rand_score(latent[buyer], plain)),
        "value_tier_accuracy_buyers": float(np.mean(tiers[buyer] == latent[buyer])),
        "supervised_lda_ari_buyers": supervised_ari(f[buyer], latent[buyer]),
        "value_tier_spearman_buyers": float(pd.Series(tiers[buyer]).corr(
            pd.Series(latent[buyer]), method="spearman")),
        "adjacent_tier_accuracy_buyers": float(np.mean(np.abs(tiers[buyer] - latent[buyer])
                                                       <= 1)),
        "lifecycle_churn_accuracy_buyers": float(np.mean(predicted_churned[buyer]
                                                         == churned[buyer])),
        "rfm_churn_accuracy_buyers": float(np.mean(rfm_churned[buyer] == churned[buyer])),
        "price_sensitive_score_corr": float(pd.Series(f["price_sensitive_score"].to_numpy()[buyer])
                                            .corr(pd.Series(t["price_sensitivity"]
                                                            .to_numpy()[buyer]))),
        "trend_chaser_precision": float(true_trend[trend].mean()) if trend.any() else 0.0,
        "trend_chaser_base_rate": float(true_trend[buyer].mean()),
        "preferred_category_accuracy": float(np.mean(
            f["preferred_category"].to_numpy()[has_cat]
            == t["favourite_category"].to_numpy()[has_cat])),
        "preferred_colour_accuracy": float(np.mean(
            f["preferred_colour"].to_numpy()[has_cat]
            == t["favourite_colour"].to_numpy()[has_cat])),
        "buyers": int(buyer.sum()),
        "persons": int(len(f)),
    }
    person_of = person_index if person_index is not None else truth_records
    if orders is not None and synthetic is not None and person_of is not None:
        result.update(bayes_ceiling(orders, person_of, f.index[buyer], cutoff, synthetic,
                                    latent[buyer], t[buyer]))
    log.info("segments vs truth: %s", {k: round(v, 3) for k, v in result.items()})
    metrics = mlflow_metrics(result, "segments_eval")
    return result, metrics
