"""Nodes of the scoring pipeline: the test metrics the promotion gate compares, and the
export of the inference pipeline as a registered MLflow model."""

from __future__ import annotations

import pandas as pd

from omnicrm.config import parse
from omnicrm.scoring.inference import required_columns
from omnicrm.scoring.registry import log_scoring_model
from omnicrm.scoring.settings import ScoringSettings
from omnicrm.segments.settings import segment_settings


def _settings(params: dict | ScoringSettings) -> ScoringSettings:
    return parse(ScoringSettings, params, "scoring")


def scoring_test_metrics(repurchase_model_comparison: pd.DataFrame,
                         coupon_uplift_comparison: pd.DataFrame, scoring_params: dict
                         ) -> dict[str, float]:
    """The scoring model's test metrics, measured on data its parts never saw: the 7-day
    model's scores on the last weekly cut-offs (``repurchase.test_*``) and the chosen uplift
    learner's Qini/AUUC on the held-out campaigns (``coupon.test_*``)."""
    src = _settings(scoring_params).gate.sources
    rep = repurchase_model_comparison
    rep = rep[(rep["target"] == src.repurchase_target)
              & (rep["model"] == src.repurchase_model)]
    if len(rep) != 1:
        raise ValueError(f"repurchase_model_comparison has {len(rep)} rows for target "
                         f"{src.repurchase_target!r}, model {src.repurchase_model!r}")
    coupon = coupon_uplift_comparison[coupon_uplift_comparison["chosen"].astype(bool)]
    if len(coupon) != 1:
        raise ValueError("coupon_uplift_comparison must mark exactly one chosen learner")
    metrics = {f"repurchase.test_{k}": float(rep[k].iloc[0])
               for k in ("auc", "pr_auc", "lift_top10", "brier")}
    metrics.update({f"coupon.test_{k}": float(coupon[k].iloc[0]) for k in ("qini", "auuc")})
    return metrics


def export_scoring_model(person_features: pd.DataFrame, customer_scores: pd.DataFrame,
                         value_tier_model, repurchase_7d_model, churn_model,
                         customer_value_model, coupon_policy, next_best_category_model,
                         test_metrics: dict,
                         segment_params: dict, scoring_params: dict) -> dict:
    """Log the inference pipeline as one MLflow pyfunc model in the current run, register a
    new version and move the ``champion`` alias to it only if it passes the gate
    (:mod:`omnicrm.scoring.registry`). Returns the registration record. ``customer_scores``
    (the in-process batch run) is an input so the export only happens once that run worked."""
    models = {"value_tier_model": value_tier_model, "repurchase_7d_model": repurchase_7d_model,
              "churn_model": churn_model, "customer_value_model": customer_value_model,
              "coupon_policy": coupon_policy,
              "next_best_category_model": next_best_category_model}
    required = required_columns(repurchase_7d_model, coupon_policy, segment_params,
                                churn_model, next_best_category_model)
    if len(customer_scores) != len(person_features):
        raise ValueError(f"the batch run scored {len(customer_scores)} of "
                         f"{len(person_features)} persons")
    settings = _settings(scoring_params)  # both checked here; the model keeps them as in conf
    segment_settings(segment_params)
    example = person_features.head(settings.input_example_rows)
    return log_scoring_model(models, {"segments": segment_params, "scoring": scoring_params},
                             example, required, test_metrics, scoring_params)
