"""Nodes of the repurchase pipeline. Labels come from observed orders only (no truth)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from omnicrm.config import parse
from omnicrm.repurchase.labels import item_purchases, label_cutoffs, top_values
from omnicrm.repurchase.metrics import classification_metrics
from omnicrm.repurchase.model import RepurchaseModel
from omnicrm.repurchase.plots import plot_importance, plot_reliability
from omnicrm.repurchase.settings import RepurchaseSettings, SplitSettings
from omnicrm.repurchase.targeting import select_audience
from omnicrm.repurchase.training import (
    TimeSplit,
    data_end,
    features_from_raw,
    model_feature_names,
    person_orders,
    train_and_compare,
)
from omnicrm.tracking import mlflow_metrics, pinned

log = logging.getLogger(__name__)


def _settings(params: dict | RepurchaseSettings) -> RepurchaseSettings:
    return parse(RepurchaseSettings, params, "repurchase")


def _split(orders: pd.DataFrame, cfg: SplitSettings, step_days: int) -> TimeSplit:
    """The model's train / validation / test cut-offs, gaps of one horizon between parts."""
    return TimeSplit.schedule(data_end(orders), cfg.train_cutoffs, cfg.valid_cutoffs,
                              cfg.test_cutoffs, step_days, cfg.horizon_days)


def build_training_features(orders: pd.DataFrame, order_items: pd.DataFrame,
                            products: pd.DataFrame, events: pd.DataFrame,
                            campaign_members: pd.DataFrame,
                            coupon_redemptions: pd.DataFrame,
                            member_registrations: pd.DataFrame, person_index: pd.DataFrame,
                            params: dict, feature_params: dict, engine: dict
                            ) -> pd.DataFrame:
    """``person_features`` at every weekly cut-off any repurchase model needs (each model's
    last cut-off is its horizon before the data's end, so its labels are fully observed),
    stacked. Rows at cut-offs only the second-purchase model uses are kept only for its
    population (new first-time buyers), which keeps the table small."""
    s = _settings(params)
    step = s.cutoff_step_days
    wide = set(_split(orders, s.seven_day, step).cutoffs) | set(
        _split(orders, s.propensity, step).cutoffs)
    second = set(_split(orders, s.second_purchase, step).cutoffs)
    frame = features_from_raw(sorted(wide | second), orders, order_items, products, events,
                              campaign_members, coupon_redemptions, member_registrations,
                              person_index, feature_params, engine)
    new_buyer = _new_buyers(frame, s.second_purchase.new_buyer_days)
    keep = frame["cutoff_date"].isin(wide).to_numpy() | new_buyer
    log.info("repurchase training features: %d rows at %d cut-offs", keep.sum(),
             frame["cutoff_date"].nunique())
    return frame.loc[keep].reset_index(drop=True)


def _new_buyers(frame: pd.DataFrame, days: int) -> np.ndarray:
    """First-time buyers whose only purchase was in the last ``days`` before the cut-off."""
    return ((frame["frequency"] == 1) & (frame["recency_days"] < days)).to_numpy()


def _callbacks(track: bool, target: str) -> list:
    """Every Optuna trial as a nested MLflow run, when a run is active (kedro-mlflow)."""
    import mlflow

    if not track or mlflow.active_run() is None:
        return []
    from optuna_integration.mlflow import MLflowCallback

    return [MLflowCallback(metric_name=f"{target}.valid_auc", create_experiment=False,
                           mlflow_kwargs={"nested": True,
                                          "experiment_id":
                                              mlflow.active_run().info.experiment_id,
                                          "tags": {"repurchase_target": target}})]


def _metrics(comparison: pd.DataFrame) -> dict[str, dict]:
    return mlflow_metrics({f"{row.target}.{row.model}.{k}": getattr(row, k)
                           for row in comparison.itertuples()
                           for k in ("auc", "pr_auc", "lift_top10", "brier")},
                          finite_only=True)


def train_seven_day_model(training_features: pd.DataFrame, orders: pd.DataFrame,
                          person_index: pd.DataFrame, params: dict
                          ) -> tuple[RepurchaseModel, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The 7-day model: Optuna on train -> validation cut-offs, refit, test against the
    baselines. Returns the model, the comparison table, the test predictions and the trials."""
    s = _settings(params)
    cfg = s.seven_day
    split = _split(orders, cfg, s.cutoff_step_days)
    frame = training_features[training_features["cutoff_date"].isin(
        [*split.train, *split.valid, *split.test])].reset_index(drop=True)
    frame = label_cutoffs(frame, person_orders(orders, person_index), cfg.horizon_days,
                          "label")
    names = model_feature_names(frame.drop(columns="label"), cfg.exclude_features)
    trained = train_and_compare(frame, "label", names, split, "buy_7d", cfg, n_jobs=s.n_jobs,
                                seed=s.seed, callbacks=_callbacks(cfg.track_trials, "buy_7d"))
    log.info("7-day model on the test cut-offs:\n%s", trained.comparison.to_string())
    trials = trained.tuning.trials.drop(columns=["datetime_start", "datetime_complete"],
                                        errors="ignore")
    trials["duration"] = trials["duration"].dt.total_seconds() if "duration" in trials else 0
    return trained.model, trained.comparison, trained.predictions, trials


def register_seven_day_model(model: RepurchaseModel, comparison: pd.DataFrame,
                             params: dict) -> dict:
    """Log the 7-day model to MLflow (xgboost flavour) and register it (alias
    ``champion``), when a run is active; returns where it went."""
    import mlflow

    run = mlflow.active_run()
    name = _settings(params).seven_day.register_as
    if run is None:
        return {"registered": False, "reason": "no active MLflow run"}
    import mlflow.xgboost

    info = mlflow.xgboost.log_model(model.booster, name="repurchase_7d_model",
                                    registered_model_name=name,
                                    pip_requirements=pinned("mlflow", "xgboost", "numpy",
                                                            "scipy", "pandas"))
    client = mlflow.MlflowClient()
    version = info.registered_model_version
    if version is not None:
        client.set_registered_model_alias(name, "champion", str(version))
    auc = comparison.set_index("model").loc["xgboost", "auc"]
    return {"registered": True, "model_uri": info.model_uri, "name": name,
            "version": None if version is None else int(version), "run_id": run.info.run_id,
            "test_auc": float(auc), "feature_names": list(model.feature_names)}


def plot_seven_day_reliability(predictions: pd.DataFrame, params: dict):
    return plot_reliability(predictions, "label", ["xgboost", "rf_heuristic", "logistic",
                                                   "bgnbd"], _settings(params).reliability_bins)


def plot_seven_day_importance(model: RepurchaseModel, person_features: pd.DataFrame,
                              params: dict):
    s = _settings(params)
    sample = person_features.sample(min(len(person_features), s.shap_sample),
                                    random_state=s.seed)
    return plot_importance(model.importance(sample), 20,
                           "7-day repurchase: mean |SHAP| on today's persons")


def select_campaign_audience(person_features: pd.DataFrame, model: RepurchaseModel,
                             params: dict) -> pd.DataFrame:
    """Buyers 30-90 days since their last purchase, scored; the middle band is the audience."""
    t = _settings(params).targeting
    audience = select_audience(person_features, model, t.min_days_since_purchase,
                               t.max_days_since_purchase, t.band_low, t.band_high,
                               t.band_by, t.top_reasons)
    log.info("repurchase audience: %d persons, scores in [%.4f, %.4f)", len(audience),
             audience["band_low_score"].iloc[0] if len(audience) else np.nan,
             audience["band_high_score"].iloc[0] if len(audience) else np.nan)
    return audience


def train_second_purchase(training_features: pd.DataFrame, orders: pd.DataFrame,
                          person_index: pd.DataFrame, person_features: pd.DataFrame,
                          params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New first-time buyers (first purchase in the week before a cut-off): will they buy
    again within 45 days? Returns today's new buyers' scores and the comparison table."""
    s = _settings(params)
    cfg = s.second_purchase
    split = _split(orders, cfg, s.cutoff_step_days)
    frame = training_features[
        training_features["cutoff_date"].isin([*split.train, *split.valid, *split.test])
        & _new_buyers(training_features, cfg.new_buyer_days)].reset_index(drop=True)
    frame = label_cutoffs(frame, person_orders(orders, person_index), cfg.horizon_days,
                          "label")
    names = model_feature_names(frame.drop(columns="label"), cfg.exclude_features)
    trained = train_and_compare(frame, "label", names, split, "second_purchase_45d", cfg,
                                n_jobs=s.n_jobs, seed=s.seed)
    today = person_features[_new_buyers(person_features, cfg.new_buyer_days)]
    scores = trained.model.reasons(today, top_k=s.targeting.top_reasons)
    scores.insert(1, "p_second_purchase_45d", trained.model.predict_proba(today))
    scores.insert(1, "cutoff_date", today["cutoff_date"].to_numpy())
    observed = frame.loc[split.mask(frame, "test"), "label"].mean()
    log.info("second purchase within 45 days: observed %.1f%% on the test cut-offs; "
             "comparison:\n%s", 100 * observed, trained.comparison.to_string())
    return scores, trained.comparison


def category_propensity(training_features: pd.DataFrame, orders: pd.DataFrame,
                        order_items: pd.DataFrame, products: pd.DataFrame,
                        person_index: pd.DataFrame, person_features: pd.DataFrame,
                        params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(person buys each top category / brand within the horizon), one XGBoost per value
    with the fixed parameters of ``propensity.xgboost`` (early-stopped on the validation
    cut-offs). Returns the long person x value table for today and per-value test metrics."""
    from omnicrm.repurchase.model import feature_matrix, fit_booster

    s = _settings(params)
    cfg = s.propensity
    split = _split(orders, cfg, s.cutoff_step_days)
    frame = training_features[training_features["cutoff_date"].isin(
        [*split.train, *split.valid, *split.test])].reset_index(drop=True)
    names = model_feature_names(frame, cfg.exclude_features)
    end = data_end(orders)
    x = {part: feature_matrix(frame.loc[split.mask(frame, part)], names)
         for part in ("train", "valid", "test")}
    x_today = feature_matrix(person_features, names)
    tables, rows = [], []
    for attribute, n_top in (("category", cfg.top_categories), ("brand", cfg.top_brands)):
        bought = item_purchases(orders, order_items, products, person_index, attribute)
        for value in top_values(bought, end, n_top):
            labelled = label_cutoffs(frame[["person_id", "cutoff_date"]],
                                     bought[bought["value"] == value], cfg.horizon_days)
            y = {part: labelled.loc[split.mask(labelled, part), "label"].to_numpy()
                 for part in ("train", "valid", "test")}
            if len(np.unique(y["train"])) < 2 or len(np.unique(y["valid"])) < 2:
                log.warning("propensity %s=%s: one class only, skipped", attribute, value)
                continue
            booster = fit_booster(x["train"], y["train"], dict(cfg.xgboost),
                                  cfg.max_estimators, names, x["valid"], y["valid"],
                                  cfg.early_stopping_rounds, s.n_jobs, s.seed)
            model = RepurchaseModel(booster, names, cfg.horizon_days,
                                    f"{attribute}:{value}")
            p_test = model.predict_proba(frame.loc[split.mask(frame, "test")])
            rows.append({"attribute": attribute, "value": value,
                         **classification_metrics(y["test"], p_test, p_test)})
            tables.append(pd.DataFrame({
                "person_id": person_features["person_id"].astype(str).to_numpy(),
                "cutoff_date": person_features["cutoff_date"].to_numpy(),
                "attribute": attribute, "value": value,
                "probability": booster.predict(_dmatrix(x_today, names))}))
    propensity = pd.concat(tables, ignore_index=True)
    propensity["rank_in_person"] = (propensity.groupby(["person_id", "attribute"])
                                    ["probability"].rank(ascending=False, method="first")
                                    .astype(int))
    metrics = pd.DataFrame(rows)
    log.info("category/brand propensity on the test cut-offs:\n%s", metrics.to_string())
    return propensity, metrics


def _dmatrix(x: np.ndarray, names: list[str]):
    import xgboost as xgb

    return xgb.DMatrix(x, feature_names=names)


def model_comparison(seven_day: pd.DataFrame, second_purchase: pd.DataFrame,
                     propensity: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One table of every repurchase model's holdout metrics, and the same as MLflow
    metrics (propensity: mean AUC over the categories and brands)."""
    prop = propensity.copy()
    prop.insert(0, "target", "propensity:" + prop.pop("attribute") + ":" + prop.pop("value"))
    prop.insert(1, "model", "xgboost")
    table = pd.concat([seven_day, second_purchase, prop], ignore_index=True)
    metrics = _metrics(pd.concat([seven_day, second_purchase], ignore_index=True))
    for attribute in ("category", "brand"):
        part = propensity[propensity["attribute"] == attribute]
        if len(part):
            metrics.update(mlflow_metrics({f"propensity.{attribute}.mean_auc":
                                           part["auc"].mean()}))
    return table, metrics
