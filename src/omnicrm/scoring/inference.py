"""The production inference path, one pure function per step: person features -> value tier
and lifecycle stage -> 7-day repurchase probability -> churn probability and customer value
-> coupon offer -> next best category.

The same functions are the nodes of the Kedro inference pipeline
(:func:`omnicrm.scoring.pipeline.create_inference_pipeline`) that the batch run, the
registered MLflow model and the served endpoint all execute, so the three cannot disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.features.person_features import feature_domain
from omnicrm.segments.rules import lifecycle_stage, rfm_state
from omnicrm.segments.tiers import tier_names

#: Feature columns the tier model, the lifecycle rules and the RFM rules read.
SEGMENT_FEATURES = ("avg_basket_log", "orders_per_year", "spend_year", "frequency",
                    "recency_days", "tenure_days", "baskets_year", "has_pos", "has_tmall",
                    "has_web")
BOOLEAN_FEATURES = ("has_pos", "has_tmall", "has_web", "has_wechat")

#: The output of the scoring model, in this order.
SCORE_COLUMNS = ("person_id", "value_tier", "value_tier_name", "lifecycle_stage", "rfm_state",
                 "repurchase_7d_probability", "repurchase_reasons", "churn_probability",
                 "p_alive", "clv", "coupon_threshold", "discount", "uplift_score",
                 "expected_incremental_margin", "expected_cost", "next_best_category",
                 "next_best_categories")
#: What the customer value model reads (BG/NBD's x, t_x, T and gamma-gamma's order value).
VALUE_FEATURES = ("frequency", "recency_days", "tenure_days", "days_since_registration",
                  "avg_order_value")


class ScoringInputError(ValueError):
    """The request cannot be scored (empty, missing or malformed columns): the caller's fault,
    answered with HTTP 400 by the served model."""


def required_columns(repurchase_model, coupon_policy, segment_params: dict,
                     churn_model=None, next_best_category_model=None) -> list[str]:
    """Every input column the inference path reads, ``person_id`` first."""
    window = segment_params["lifecycle"]["engagement_window_days"]
    needed = ["person_id", *SEGMENT_FEATURES, f"collects_{window}d", f"carts_{window}d",
              *repurchase_model.feature_names, *coupon_policy.feature_names,
              *VALUE_FEATURES, *(churn_model.feature_names if churn_model else []),
              *(next_best_category_model.feature_names if next_best_category_model else [])]
    # the feature table's as-of date is a key, not a feature: no model reads it
    return [c for c in dict.fromkeys(needed) if c != "cutoff_date"]


def validate_input(scoring_input: pd.DataFrame, required: list[str]) -> pd.DataFrame:
    """Keep the required columns (extra ones are ignored), check them, coerce numbers.

    Raises :class:`ScoringInputError` for an empty batch, missing columns, null or
    duplicated person ids, values that are not numbers where numbers are expected (flags: 0/1
    or booleans) and numbers outside the feature's domain (a negative recency, a share of 7:
    :func:`omnicrm.features.person_features.feature_domain`)."""
    if not isinstance(scoring_input, pd.DataFrame):
        raise ScoringInputError(f"expected a table of person features, got {type(scoring_input)}")
    if scoring_input.empty:
        raise ScoringInputError("empty batch: send at least one row of person features")
    missing = [c for c in required if c not in scoring_input.columns]
    if missing:
        raise ScoringInputError(f"missing input column(s): {', '.join(missing)}")
    features = scoring_input[required].reset_index(drop=True).copy()
    ids = features["person_id"]
    if ids.isna().any():
        raise ScoringInputError(f"person_id is null in {int(ids.isna().sum())} row(s)")
    features["person_id"] = ids.astype(str)
    dupes = features["person_id"].duplicated()
    if dupes.any():
        raise ScoringInputError(
            f"person_id repeated: {', '.join(features.loc[dupes, 'person_id'].head(5))}")
    bad = []
    for col in required[1:]:
        values = features[col]
        if col in BOOLEAN_FEATURES:
            if values.dtype == bool:
                continue
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.isna().any() or not numeric.isin([0, 1]).all():
                bad.append(col)
                continue
            features[col] = numeric.astype(bool)
            continue
        if values.dtype == bool or values.dtype == object and values.map(
                lambda v: isinstance(v, bool)).any():
            bad.append(col)
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        if (numeric.isna() & values.notna()).any() or np.isinf(numeric).any():
            bad.append(col)
            continue
        features[col] = numeric.astype("float64")
    if bad:
        raise ScoringInputError(f"column(s) not numeric (or not 0/1 for flags): {', '.join(bad)}")
    outside = []
    for col in required[1:]:
        if col in BOOLEAN_FEATURES:
            continue
        low, high = feature_domain(col)
        values = features[col]
        off = (values < low) | (values > high)
        if off.any():
            outside.append(f"{col} (e.g. {values[off].iloc[0]:g}; must be in [{low:g}, {high:g}])")
    if outside:
        raise ScoringInputError("value(s) no person feature can take: " + "; ".join(outside))
    return features


def check_scoring_input(scoring_input: pd.DataFrame, repurchase_model, coupon_policy,
                        churn_model, next_best_category_model, segment_params: dict
                        ) -> pd.DataFrame:
    """The person features the models need, checked and typed (:func:`validate_input`)."""
    return validate_input(scoring_input, required_columns(repurchase_model, coupon_policy,
                                                          segment_params, churn_model,
                                                          next_best_category_model))


def segment_persons(features: pd.DataFrame, value_tier_model, segment_params: dict
                    ) -> pd.DataFrame:
    """Value tier (fitted model), lifecycle stage and RFM state per person."""
    tiers = value_tier_model.predict(features).astype("int64")
    names = tier_names(segment_params["n_tiers"])
    return pd.DataFrame({
        "person_id": features["person_id"],
        "value_tier": tiers,
        "value_tier_name": [names[t] for t in tiers],
        "lifecycle_stage": lifecycle_stage(features, segment_params["lifecycle"]).to_numpy(),
        "rfm_state": rfm_state(features, segment_params["rfm"]).to_numpy(),
    })


def score_repurchase(features: pd.DataFrame, repurchase_model, scoring_params: dict
                     ) -> pd.DataFrame:
    """P(buys within 7 days) and, if ``reasons_top_k`` > 0, the top SHAP reasons as one
    "; "-joined string per person."""
    out = pd.DataFrame({"person_id": features["person_id"],
                        "repurchase_7d_probability":
                            np.asarray(repurchase_model.predict_proba(features), dtype=float)})
    k = int(scoring_params["reasons_top_k"])
    if k > 0:
        reasons = repurchase_model.reasons(features, top_k=k).reset_index(drop=True)
        cols = [c for c in reasons.columns if c != "person_id"]
        out["repurchase_reasons"] = reasons[cols].fillna("").astype(str).agg(
            "; ".join, axis=1).str.strip("; ").to_numpy()
    else:
        out["repurchase_reasons"] = ""
    return out


def score_retention(features: pd.DataFrame, churn_model, customer_value_model
                    ) -> pd.DataFrame:
    """P(no purchase in the churn horizon) for active buyers, P(alive) and the discounted
    CLV (over ``retention.value.months``) for buyers; NaN where the model's population does
    not include the person (never bought; churn: already dormant)."""
    value = customer_value_model.predict(features)
    return pd.DataFrame({"person_id": features["person_id"],
                         "churn_probability": churn_model.predict_churn(features),
                         "p_alive": value["p_alive"].to_numpy(float),
                         "clv": value[customer_value_model.columns[-1]].to_numpy(float)})


def recommend_offers(features: pd.DataFrame, coupon_policy) -> pd.DataFrame:
    """The best "spend X get Y off" offer per person (0/0 = no offer) and its expectations."""
    offers = coupon_policy.recommend(features).reset_index(drop=True)
    offers["person_id"] = offers["person_id"].astype(str)
    return offers[["person_id", "coupon_threshold", "discount", "uplift_score",
                   "expected_incremental_margin", "expected_cost"]]


def recommend_categories(features: pd.DataFrame, next_best_category_model) -> pd.DataFrame:
    """The category the person has not bought that they most likely buy next, and the top
    ``crosssell.next_best.top_k`` of them joined by ", " ("" when every category is bought;
    :class:`omnicrm.crosssell.nextbest.NextBestCategoryModel`)."""
    return next_best_category_model.top(features)


def combine_scores(segments: pd.DataFrame, repurchase: pd.DataFrame,
                   retention: pd.DataFrame, offers: pd.DataFrame,
                   categories: pd.DataFrame) -> pd.DataFrame:
    """One row per input person, in input order, with :data:`SCORE_COLUMNS`."""
    scores = segments.merge(repurchase, on="person_id", how="left", validate="1:1")
    scores = scores.merge(retention, on="person_id", how="left", validate="1:1")
    scores = scores.merge(offers, on="person_id", how="left", validate="1:1")
    scores = scores.merge(categories, on="person_id", how="left", validate="1:1")
    for col in ("coupon_threshold", "discount"):
        scores[col] = scores[col].astype("float64")
    return scores[list(SCORE_COLUMNS)]
