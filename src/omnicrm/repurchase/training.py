"""Training sets at several cut-offs and the time-based fit: features at weekly cut-offs before
the data's end, labels from the orders in [cutoff, cutoff + horizon), train on the earliest
cut-offs, tune on the next, test on the last. Never a random split across time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from omnicrm.features import feature_columns, person_features

from .evaluation import compare, holdout_predictions
from .metrics import classification_metrics
from .model import RepurchaseModel, feature_matrix, fit_booster, offset_margin
from .settings import TunedSettings
from .split import DAY, TimeSplit, cutoff_schedule, data_end  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)


def person_orders(orders: pd.DataFrame, person_index: pd.DataFrame) -> pd.DataFrame:
    """Orders with their OneID person: order_id, person_id, ordered_at."""
    return (orders[["order_id", "record_id", "ordered_at"]]
            .merge(person_index[["record_id", "person_id"]], on="record_id", how="inner")
            [["order_id", "person_id", "ordered_at"]])


def bought_in_window(purchases: pd.DataFrame, person_ids: pd.Series, start: pd.Timestamp,
                     horizon_days: int) -> np.ndarray:
    """1 where the person has a purchase (any row of ``purchases``: person_id, ordered_at) in
    [start, start + horizon), else 0, aligned with ``person_ids``."""
    t = purchases["ordered_at"]
    inside = purchases.loc[(t >= start) & (t < start + horizon_days * DAY), "person_id"]
    return person_ids.astype(str).isin(set(inside.astype(str))).to_numpy(dtype=np.int8)


def features_at_cutoffs(tables: dict[str, Any], products: pd.DataFrame,
                        cutoffs: list[pd.Timestamp], feature_params: dict | None = None,
                        engine: str = "duckdb", engine_options: dict | None = None
                        ) -> pd.DataFrame:
    """``person_features`` at each cut-off, stacked (person_id, cutoff_date, features...)."""
    parts = []
    for cutoff in sorted(set(pd.Timestamp(c) for c in cutoffs)):
        parts.append(person_features(tables, products, cutoff, feature_params, engine,
                                     engine_options))
    stacked = pd.concat(parts, ignore_index=True)
    # share columns appear only for values seen before a cut-off: absent = 0
    shares = [c for c in stacked.columns if "_share_" in c]
    stacked[shares] = stacked[shares].fillna(0.0)
    return stacked


def features_from_raw(cutoffs: list[pd.Timestamp], orders, order_items, products, events,
                      campaign_members, coupon_redemptions, registrations, person_index,
                      feature_params, engine) -> pd.DataFrame:
    """:func:`features_at_cutoffs` from the raw tables and the ``features`` and
    ``feature_engine`` parameters, as the pipelines' nodes receive them."""
    from omnicrm.features import source_tables
    from omnicrm.features.settings import engine_settings, feature_settings

    tables = source_tables(orders, order_items, events, campaign_members, coupon_redemptions,
                           registrations, person_index)
    where = engine_settings(engine)
    return features_at_cutoffs(tables, products, cutoffs, feature_settings(feature_params),
                               where.name, dict(where.options))


def model_feature_names(features: pd.DataFrame, exclude: list[str] | None = None) -> list[str]:
    """The feature columns a model uses: every numeric column of ``person_features`` except
    the keys and ``exclude`` (e.g. months_since_last_purchase duplicates recency_days)."""
    exclude = set(exclude or [])
    return [c for c in feature_columns(features) if c not in exclude]


# --------------------------------------------------------------------------- tuning

def search_space(trial: optuna.Trial) -> dict[str, Any]:
    """XGBoost hyper-parameters Optuna explores."""
    return {
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 100.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-4, 10.0, log=True),
        "gamma": trial.suggest_float("gamma", 1e-4, 5.0, log=True),
        "max_bin": trial.suggest_categorical("max_bin", [64, 128, 256]),
    }


def small_data_search_space(trial: optuna.Trial) -> dict[str, Any]:
    """A narrower space for few buyers (a few hundred positives, e.g. a plain transaction
    log) and a strong prior to boost from: shallow, slow, heavily regularised trees that
    correct the prior rather than memorise the training weeks."""
    return {
        "max_depth": trial.suggest_int("max_depth", 1, 3),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
        "min_child_weight": trial.suggest_float("min_child_weight", 5.0, 200.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 0.9),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 0.8),
        "reg_lambda": trial.suggest_float("reg_lambda", 1.0, 100.0, log=True),
        "gamma": trial.suggest_float("gamma", 1e-4, 5.0, log=True),
    }


SEARCH_SPACES = {"default": search_space, "small_data": small_data_search_space}


@dataclass
class TuningResult:
    params: dict
    n_estimators: int
    valid_auc: float
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    booster: Any = None            # the best parameters refitted on every training row
                                   # (only when the trials saw a sample)
    tuned_rows: int = 0            # training rows each trial saw (a sample when large)


def stratified_sample(y: np.ndarray, n_rows: int, seed: int = 0) -> np.ndarray:
    """Sorted row positions of a sample of ``n_rows`` that keeps each class's share of
    ``y`` (every row when there are no more than ``n_rows``)."""
    y = np.asarray(y)
    if n_rows >= len(y):
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    picked = []
    for value in np.unique(y):
        rows = np.flatnonzero(y == value)
        k = max(1, int(round(n_rows * len(rows) / len(y))))
        picked.append(rng.choice(rows, size=min(k, len(rows)), replace=False))
    return np.sort(np.concatenate(picked))


def make_pruner(kind: str | None, n_warmup_steps: int = 20) -> optuna.pruners.BasePruner:
    """Stops a trial whose validation AUC after some trees trails the other trials' median
    (``median``) or Hyperband's brackets (``hyperband``); ``none`` runs every trial out."""
    if kind in (None, "none"):
        return optuna.pruners.NopPruner()
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=n_warmup_steps,
                                           interval_steps=5)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=n_warmup_steps)
    raise ValueError(f"unknown pruner {kind!r}: median, hyperband or none")


def tune(x_train: np.ndarray, y_train: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray,
         feature_names: list[str], n_trials: int = 20, max_estimators: int = 400,
         early_stopping_rounds: int = 30, n_jobs: int = 2, seed: int = 0,
         callbacks: list | None = None, timeout_s: float | None = None,
         sample_rows: int | None = 200_000, pruner: str | None = "median",
         margin_train: np.ndarray | None = None, margin_valid: np.ndarray | None = None,
         space: str = "default") -> TuningResult:
    """Optuna TPE over :func:`search_space`, each trial early-stopped (and pruned) on the
    validation cut-offs' AUC. Large training sets are tuned on a class-stratified sample of
    ``sample_rows`` rows, so a 50-trial study costs the same at 1M rows as at 200k; the best
    parameters are then refitted on every training row, early-stopped on the same
    validation cut-offs (``booster``; its tree count is ``n_estimators``). The validation
    cut-offs stay later in time than every training row: never a random split."""
    import xgboost as xgb
    from optuna_integration import XGBoostPruningCallback
    from sklearn.metrics import roc_auc_score

    from .model import BASE_PARAMS

    rows = stratified_sample(y_train, sample_rows or len(y_train), seed)
    sampled = len(rows) < len(y_train)
    dtrain = xgb.DMatrix(x_train[rows] if sampled else x_train, label=y_train[rows],
                         feature_names=feature_names, nthread=n_jobs,
                         base_margin=None if margin_train is None else margin_train[rows])
    dvalid = xgb.DMatrix(x_valid, label=y_valid, feature_names=feature_names, nthread=n_jobs,
                         base_margin=margin_valid)
    # AUC on the validation cut-offs drives early stopping and pruning: what the study ranks
    base = {**BASE_PARAMS, "eval_metric": "auc", "nthread": n_jobs, "seed": seed}

    suggest = SEARCH_SPACES[space]

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial)
        booster = xgb.train({**base, **params}, dtrain, num_boost_round=max_estimators,
                            evals=[(dvalid, "valid")],
                            early_stopping_rounds=early_stopping_rounds, verbose_eval=False,
                            callbacks=[XGBoostPruningCallback(trial, "valid-auc")])
        best = int(getattr(booster, "best_iteration", max_estimators - 1)) + 1
        trial.set_user_attr("n_estimators", best)
        p = booster.predict(dvalid, iteration_range=(0, best))
        return float(roc_auc_score(y_valid, p))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", study_name="repurchase",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=make_pruner(pruner, min(20, early_stopping_rounds)))
    study.optimize(objective, n_trials=n_trials, callbacks=callbacks or [],
                   timeout=timeout_s, gc_after_trial=False)
    best = study.best_trial
    result = TuningResult(dict(best.params), int(best.user_attrs["n_estimators"]),
                          float(best.value), study.trials_dataframe(), tuned_rows=len(rows))
    if sampled:  # the sample's tree count does not carry over: refit
        del dtrain
        log.info("refitting the best of %d trials (tuned on %d of %d rows) on every row",
                 len(study.trials), len(rows), len(y_train))
        booster = fit_booster(x_train, y_train, {**result.params, "eval_metric": "auc"},
                              max_estimators, feature_names, x_valid, y_valid,
                              early_stopping_rounds, n_jobs, seed, margin_train, margin_valid)
        result.n_estimators = int(getattr(booster, "best_iteration", max_estimators - 1)) + 1
        result.booster = booster
    return result


def fit_final(frame: pd.DataFrame, label: str, feature_names: list[str], split: TimeSplit,
              tuning: TuningResult, horizon_days: int, target: str, n_jobs: int = 2,
              seed: int = 0, offset_feature: str | None = None) -> RepurchaseModel:
    """Refit the tuned model on train + validation cut-offs (the test cut-offs stay unseen);
    the early-stopped tree count grows with the extra data."""
    fit_rows = split.mask(frame, "train") | split.mask(frame, "valid")
    n_train = split.mask(frame, "train").sum()
    n_estimators = max(10, int(round(tuning.n_estimators * fit_rows.sum() / max(n_train, 1))))
    x = feature_matrix(frame.loc[fit_rows], feature_names)
    booster = fit_booster(x, frame.loc[fit_rows, label].to_numpy(), tuning.params,
                          n_estimators, feature_names, n_jobs=n_jobs, seed=seed,
                          margin=offset_margin(frame.loc[fit_rows], offset_feature))
    return RepurchaseModel(booster=booster, feature_names=list(feature_names),
                           horizon_days=horizon_days, target=target,
                           params={**tuning.params, "n_estimators": n_estimators},
                           offset_feature=offset_feature)


@dataclass
class Trained:
    """What one time-split training run produces."""

    model: RepurchaseModel
    tuning: TuningResult
    predictions: pd.DataFrame      # test cut-offs: label and every model's probability
    comparison: pd.DataFrame       # one row per model: auc, pr_auc, lift_top10, brier, ...
    notes: list[str] = field(default_factory=list)   # what was done to the data, in words
    label_days: int | None = None  # the label window the model learnt on (None: the target's)


def train_and_compare(frame: pd.DataFrame, label: str, feature_names: list[str],
                      split: TimeSplit, target: str, model: TunedSettings, *, n_jobs: int,
                      seed: int, callbacks: list | None = None, baselines: bool = True,
                      offset_feature: str | None = None, space: str = "default") -> Trained:
    """Tune on train -> valid, refit on train + valid, and score it and the baselines on the
    test cut-offs. With ``offset_feature`` (a probability column) the trees boost from its
    log-odds instead of a global bias."""

    def part(name: str) -> tuple[np.ndarray, np.ndarray]:
        rows = split.mask(frame, name)
        return feature_matrix(frame.loc[rows], feature_names), frame.loc[rows, label].to_numpy()

    (x_tr, y_tr), (x_va, y_va) = part("train"), part("valid")
    m_tr, m_va = (offset_margin(frame.loc[split.mask(frame, p)], offset_feature)
                  for p in ("train", "valid"))
    for name, y in (("train", y_tr), ("validation", y_va)):
        if len(np.unique(y)) < 2:
            raise ValueError(f"the {name} cut-offs have only one class of '{label}' "
                             f"({len(y)} rows): use more or longer cut-offs")
    tuning = tune(x_tr, y_tr, x_va, y_va, feature_names, model.n_trials, model.max_estimators,
                  model.early_stopping_rounds, n_jobs, seed, callbacks,
                  sample_rows=model.tune_sample_rows, pruner=model.pruner, margin_train=m_tr,
                  margin_valid=m_va, space=space)
    log.info("%s: best validation AUC %.4f after %d trials (%d trees)", target,
             tuning.valid_auc, model.n_trials, tuning.n_estimators)
    fitted = fit_final(frame, label, feature_names, split, tuning, model.horizon_days, target,
                       n_jobs, seed, offset_feature)
    if baselines:
        predictions = holdout_predictions(frame, label, feature_names, split, fitted,
                                          model.horizon_days, seed)
        comparison = compare(predictions, label)
    else:
        test = frame.loc[split.mask(frame, "test")]
        predictions = test[["person_id", "cutoff_date", label]].assign(
            xgboost=fitted.predict_proba(test)).reset_index(drop=True)
        comparison = pd.DataFrame([{"model": "xgboost", **classification_metrics(
            predictions[label], predictions["xgboost"], predictions["xgboost"])}])
    comparison.insert(0, "target", target)
    return Trained(fitted, tuning, predictions, comparison)
