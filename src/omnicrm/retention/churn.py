"""Churn: P(no purchase in the next N days | bought within the last year), an XGBoost model on
``person_features`` at cut-offs every few weeks, judged on later cut-offs against what a CRM
team uses today (the recency rule) and what BG/NBD says (1 - P(alive), 1 - P(any purchase)).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.repurchase.baselines import (
    BinnedCalibrator,
    bgnbd_inputs,
    fit_bgnbd,
    fit_logistic,
)
from omnicrm.repurchase.labels import label_cutoffs
from omnicrm.repurchase.metrics import classification_metrics
from omnicrm.repurchase.model import RepurchaseModel, feature_matrix
from omnicrm.repurchase.split import TimeSplit
from omnicrm.repurchase.training import model_feature_names, train_and_compare

from .settings import ChurnSettings

log = logging.getLogger(__name__)

LABEL = "churned"
#: The churn models compared on the test cut-offs, ours first.
MODELS = ("xgboost", "logistic", "bgnbd_not_alive", "bgnbd_no_purchase", "recency_rule")


@dataclass
class ChurnModel(RepurchaseModel):
    """The churn model: :meth:`predict_proba` is P(no purchase in ``horizon_days``) for
    anyone; :meth:`predict_churn` only for its population (bought, less than
    ``active_within_days`` ago), NaN for the others (never bought, already dormant)."""

    active_within_days: int = 365

    def in_population(self, features: pd.DataFrame) -> np.ndarray:
        recency = features["recency_days"].to_numpy(float)
        return (features["frequency"].to_numpy(float) > 0) & (recency < self.active_within_days)

    def predict_churn(self, features: pd.DataFrame) -> np.ndarray:
        return np.where(self.in_population(features), self.predict_proba(features), np.nan)


def churn_split(end: pd.Timestamp, s: ChurnSettings) -> TimeSplit:
    """Train / validation / test cut-offs ``step_days`` apart with one horizon between parts,
    the last test cut-off one horizon before the data's end (labels fully observed)."""
    return TimeSplit.schedule(end, s.train_cutoffs, s.valid_cutoffs, s.test_cutoffs,
                              s.step_days, s.horizon_days)


def active_buyers(features: pd.DataFrame, active_within_days: int) -> pd.DataFrame:
    """The churn model's population: persons who have bought, the last time less than
    ``active_within_days`` before the cut-off."""
    recency = features["recency_days"]
    return features[(features["frequency"] > 0) & (recency < active_within_days)]



def label_churn(frame: pd.DataFrame, purchases: pd.DataFrame, horizon_days: int
                ) -> pd.DataFrame:
    """``frame`` with ``churned`` = 1 when the person has no purchase in
    [cutoff, cutoff + horizon), from observed orders (person_id, ordered_at)."""
    out = label_cutoffs(frame, purchases, horizon_days, "bought_in_horizon")
    out[LABEL] = (1 - out.pop("bought_in_horizon")).astype(np.int8)
    return out


def _baselines(test: pd.DataFrame, fit_rows: pd.DataFrame, names: list[str],
               horizon_days: int, seed: int) -> pd.DataFrame:
    """Each baseline's churn probability on the test rows (and the recency rule's raw
    score): logistic regression on the same features and rows as ours; BG/NBD fitted at each
    test cut-off on the history before it, churn read as 1 - P(alive) and as 1 - P(any
    purchase in the horizon); the recency rule ranks by days since the last purchase
    (calibrated to a probability on the training rows, for its Brier score)."""
    out = pd.DataFrame(index=test.index)
    y_fit = fit_rows[LABEL].to_numpy()
    logistic = fit_logistic(feature_matrix(fit_rows, names), y_fit, seed)
    out["logistic"] = logistic.predict_proba(feature_matrix(test, names))[:, 1]
    out["bgnbd_not_alive"] = np.nan
    out["bgnbd_no_purchase"] = np.nan
    for _, rows in test.groupby("cutoff_date").groups.items():
        part = test.loc[rows]
        model = fit_bgnbd(part)
        x, t_x, T = bgnbd_inputs(part)
        out.loc[rows, "bgnbd_not_alive"] = 1 - model.p_alive(x, t_x, T)
        out.loc[rows, "bgnbd_no_purchase"] = 1 - model.p_any_purchase(horizon_days, x, t_x, T)
    out["recency_rule_score"] = test["recency_days"].to_numpy(float)
    calibrated = BinnedCalibrator().fit(fit_rows["recency_days"].to_numpy(float), y_fit)
    out["recency_rule"] = calibrated.predict(out["recency_rule_score"].to_numpy())
    return out


def compare_churn(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per churn model on the test cut-offs: auc, pr_auc and lift_top10 (of
    churners), brier, n, base_rate (the churn rate)."""
    y = predictions[LABEL].to_numpy()
    rows = []
    for name in MODELS:
        score = predictions.get(f"{name}_score", predictions[name]).to_numpy(float)
        rows.append({"model": name, **classification_metrics(y, score,
                                                             predictions[name].to_numpy())})
    return pd.DataFrame(rows)


def train_churn_model(frame: pd.DataFrame, split: TimeSplit, s: ChurnSettings, n_jobs: int,
                      seed: int, callbacks: list | None = None
                      ) -> tuple[ChurnModel, pd.DataFrame, pd.DataFrame]:
    """Tune (Optuna on train -> validation), refit on train + validation, and compare with
    the baselines on the test cut-offs. ``frame`` holds the active buyers' features at the
    split's cut-offs with the ``churned`` label. Returns the model (its probability is
    P(churn)), the comparison table and the test predictions."""
    names = model_feature_names(frame.drop(columns=LABEL), s.exclude_features)
    target = f"churn_{s.horizon_days}d"
    trained = train_and_compare(frame, LABEL, names, split, target, s, n_jobs=n_jobs,
                                seed=seed, callbacks=callbacks, baselines=False)
    test = frame.loc[split.mask(frame, "test")].reset_index(drop=True)
    fit_rows = frame.loc[split.mask(frame, "train") | split.mask(frame, "valid")]
    predictions = pd.concat([trained.predictions,
                             _baselines(test, fit_rows, names, s.horizon_days, seed)], axis=1)
    comparison = compare_churn(predictions)
    comparison.insert(0, "target", target)
    log.info("churn within %d days on the test cut-offs:\n%s", s.horizon_days,
             comparison.to_string(index=False))
    model = ChurnModel(**vars(trained.model), active_within_days=s.active_within_days)
    return model, comparison, predictions


def score_churn(features: pd.DataFrame, model: ChurnModel, s: ChurnSettings
                ) -> pd.DataFrame:
    """Today's active buyers: P(churn in the horizon), its rank (1 = most likely to churn)
    and the top SHAP reasons (in log-odds of churning: + pushes towards churn)."""
    active = active_buyers(features, s.active_within_days).reset_index(drop=True)
    p = model.predict_proba(active)
    out = pd.DataFrame({
        "person_id": active["person_id"].astype(str).to_numpy(),
        "cutoff_date": active["cutoff_date"].to_numpy(),
        "recency_days": active["recency_days"].to_numpy(float),
        f"churn_{s.horizon_days}d_probability": p,
        "churn_rank": pd.Series(p).rank(ascending=False, method="first").to_numpy(int)})
    reasons = model.reasons(active, top_k=s.top_reasons).drop(columns="person_id")
    out = pd.concat([out, reasons], axis=1)
    return out.sort_values("churn_rank").reset_index(drop=True)
