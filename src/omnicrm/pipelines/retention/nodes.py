"""Nodes of the retention pipeline: churn, customer value and the win-back audience. Labels come
from observed orders only (no truth); the logic is in omnicrm.retention."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from omnicrm.config import parse
from omnicrm.evaluation.persons import oneid_to_true
from omnicrm.repurchase.clv import plot_calibration_holdout
from omnicrm.repurchase.plots import plot_importance, plot_reliability
from omnicrm.repurchase.split import data_end
from omnicrm.repurchase.training import features_from_raw, model_feature_names, person_orders
from omnicrm.retention import churn as C
from omnicrm.retention.evaluation import value_vs_realised, winback_against_truth
from omnicrm.retention.settings import RetentionSettings
from omnicrm.retention.value import CustomerValueModel, fit_customer_value, value_by_segment
from omnicrm.retention.winback import winback_audience
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)


def _settings(params: dict | RetentionSettings) -> RetentionSettings:
    return parse(RetentionSettings, params, "retention")


def build_churn_training_features(orders: pd.DataFrame, order_items: pd.DataFrame,
                                  products: pd.DataFrame, events: pd.DataFrame,
                                  campaign_members: pd.DataFrame,
                                  coupon_redemptions: pd.DataFrame,
                                  member_registrations: pd.DataFrame,
                                  person_index: pd.DataFrame, params: dict,
                                  feature_params: dict, engine: dict) -> pd.DataFrame:
    """The active buyers' ``person_features`` at the churn model's cut-offs, each row
    labelled ``churned`` (no purchase in the horizon after its cut-off)."""
    s = _settings(params).churn
    split = C.churn_split(data_end(orders), s)
    frame = features_from_raw(split.cutoffs, orders, order_items, products, events,
                         campaign_members, coupon_redemptions, member_registrations,
                         person_index, feature_params, engine)
    frame = C.active_buyers(frame, s.active_within_days).reset_index(drop=True)
    frame = C.label_churn(frame, person_orders(orders, person_index), s.horizon_days)
    log.info("churn training set: %d active-buyer rows at %d cut-offs, churn rate %.1f%%",
             len(frame), frame["cutoff_date"].nunique(), 100 * frame[C.LABEL].mean())
    return frame


def train_churn_model(churn_training_features: pd.DataFrame, orders: pd.DataFrame,
                      params: dict) -> tuple[C.ChurnModel, pd.DataFrame, pd.DataFrame]:
    """The churn model and its comparison with the baselines on the test cut-offs."""
    s = _settings(params)
    split = C.churn_split(data_end(orders), s.churn)
    return C.train_churn_model(churn_training_features, split, s.churn, s.n_jobs, s.seed)


def score_churn(person_features: pd.DataFrame, churn_model: C.ChurnModel, params: dict
                ) -> pd.DataFrame:
    return C.score_churn(person_features, churn_model, _settings(params).churn)


def plot_churn(churn_holdout: pd.DataFrame, churn_model: C.ChurnModel,
               person_features: pd.DataFrame, params: dict):
    """The reliability of the churn probabilities on the test cut-offs, and the global SHAP
    importance on today's active buyers."""
    s = _settings(params)
    reliability = plot_reliability(churn_holdout, C.LABEL, ["xgboost", "logistic",
                                                            "bgnbd_no_purchase"])
    active = C.active_buyers(person_features, s.churn.active_within_days)
    sample = active.sample(min(len(active), 5000), random_state=s.seed)
    importance = plot_importance(churn_model.importance(sample), 20,
                                 f"Churn in {s.churn.horizon_days} days: mean |SHAP| on "
                                 "today's active buyers")
    return reliability, importance


def fit_value_model(person_features: pd.DataFrame, params: dict
                    ) -> tuple[CustomerValueModel, pd.DataFrame]:
    """The customer value model fitted on today's feature table, and every person's value
    (NaN for persons who never bought)."""
    model = fit_customer_value(person_features, _settings(params).value)
    if model.models.note:
        log.warning("customer value: %s", model.models.note)
    value = model.predict(person_features)
    value.insert(1, "cutoff_date", person_features["cutoff_date"].to_numpy())
    return model, value


def profile_value(customer_segments: pd.DataFrame, customer_value: pd.DataFrame,
                  churn_scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """CLV, P(alive) and churn per value tier and lifecycle stage."""
    horizon = _settings(params).churn.horizon_days
    return value_by_segment(customer_segments, customer_value, churn_scores,
                            f"churn_{horizon}d_probability")


def evaluate_value_model(orders: pd.DataFrame, order_items: pd.DataFrame,
                         products: pd.DataFrame, events: pd.DataFrame,
                         campaign_members: pd.DataFrame, coupon_redemptions: pd.DataFrame,
                         member_registrations: pd.DataFrame, person_index: pd.DataFrame,
                         params: dict, feature_params: dict, engine: dict):
    """Fit the value model ``holdout_days`` before the data's end and compare with what
    followed (:func:`omnicrm.retention.evaluation.value_vs_realised`). Returns the metrics
    table and the calibration-vs-holdout plot."""
    s = _settings(params).value
    cutoff = data_end(orders) - pd.Timedelta(days=s.holdout_days)
    features = features_from_raw([cutoff], orders, order_items, products, events, campaign_members,
                            coupon_redemptions, member_registrations, person_index,
                            feature_params, engine)
    model = fit_customer_value(features, s)
    purchases = orders[["order_id", "record_id", "ordered_at", "paid_amount"]].merge(
        person_index[["record_id", "person_id"]], on="record_id", how="inner")
    metrics, table = value_vs_realised(features, model, purchases, s.holdout_days)
    metrics["cutoff_date"] = str(cutoff.date())
    metrics["frequency_model"] = s.frequency_model
    log.info("customer value fitted at %s vs the next %d days: %s", cutoff.date(),
             s.holdout_days, metrics)
    return pd.DataFrame([metrics]), plot_calibration_holdout(table)


def select_winback_audience(person_features: pd.DataFrame,
                            coupon_campaign_members: pd.DataFrame,
                            customer_value: pd.DataFrame, params: dict
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Today's dormant and at-risk members ranked for a win-back offer, and the uplift
    learners' held-out table (empty when the middle-band rule was used)."""
    s = _settings(params)
    expected = [c for c in customer_value.columns if c.startswith("expected_purchases_")][0]
    activity = customer_value.set_index("person_id")[expected]
    columns = model_feature_names(person_features)
    audience, learners = winback_audience(person_features, coupon_campaign_members, activity,
                                          columns, s.winback, s.seed)
    log.info("win-back audience: %d persons by %s%s", len(audience),
             audience["method"].iloc[0] if len(audience) else "-",
             f" ({audience.attrs['why_middle_band']})"
             if "why_middle_band" in audience.attrs else "")
    audience.attrs = {}
    return audience, learners


def retention_metrics(churn_comparison: pd.DataFrame, value_evaluation: pd.DataFrame,
                      winback_audience: pd.DataFrame, winback_learners: pd.DataFrame
                      ) -> dict[str, Any]:
    """Churn test metrics per model, the value model's holdout figures and the win-back
    audience's size and chosen learner's held-out Qini, as MLflow metrics."""
    values = {f"churn.{r.model}.{k}": getattr(r, k) for r in churn_comparison.itertuples()
              for k in ("auc", "pr_auc", "lift_top10", "brier")}
    row = value_evaluation.iloc[0]
    values.update({f"value.{k}": row[k] for k in value_evaluation.columns
                   if isinstance(row[k], int | float)})
    values["winback.audience"] = len(winback_audience)
    values["winback.uplift_method"] = float(
        len(winback_audience) > 0 and winback_audience["method"].iloc[0] == "uplift")
    chosen = winback_learners[winback_learners["chosen"]] if len(winback_learners) else []
    if len(chosen):
        values["winback.holdout_qini"] = chosen["qini"].iloc[0]
    return mlflow_metrics(values, finite_only=True)


def evaluate_winback(winback_audience: pd.DataFrame, person_features: pd.DataFrame,
                     person_index: pd.DataFrame, truth_records: pd.DataFrame,
                     truth_offer_outcomes: pd.DataFrame, params: dict
                     ) -> tuple[dict, dict[str, Any]]:
    """The win-back audience's true effect in the synthetic world's next window, against a
    random pick from the same pool and the oracle's (evaluation only: reads the truth)."""
    w = _settings(params).winback
    result = winback_against_truth(winback_audience, person_features,
                                   oneid_to_true(person_index, truth_records),
                                   truth_offer_outcomes, w.min_days_since_purchase,
                                   w.max_days_since_purchase)
    result["method"] = (winback_audience["method"].iloc[0] if len(winback_audience)
                        else "none")
    log.info("win-back audience against the truth: %s", result)
    return result, mlflow_metrics({k: v for k, v in result.items() if k != "method"},
                                  "winback_truth", finite_only=True)
