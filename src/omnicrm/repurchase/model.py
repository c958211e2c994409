"""The repurchase model as the rest of the project uses it: an XGBoost classifier on columns of
the ``person_features`` table, with probabilities and each person's top SHAP reasons.

Scoring contract (the production scorer builds on it): ``feature_names`` are columns of
``person_features``; :meth:`RepurchaseModel.predict_proba` uses only them and ignores any other
column; :meth:`RepurchaseModel.reasons` returns ``person_id`` and the top reasons, human-readable
("carts_30d=2 (+0.80)": the feature's value and its SHAP contribution in log-odds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

# XGBoost settings every fit shares; Optuna tunes the rest (see tuning.py)
BASE_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
}


def feature_matrix(features: pd.DataFrame, feature_names: list[str]) -> np.ndarray:
    """The model's input: ``feature_names`` as float32 (booleans as 0/1, missing as NaN, which
    XGBoost routes down a learned default branch)."""
    missing = [c for c in feature_names if c not in features.columns]
    if missing:
        raise KeyError(f"features lack the model's columns: {missing[:10]}")
    return features[feature_names].astype("float32").to_numpy()


def offset_margin(features: pd.DataFrame, offset_feature: str | None) -> np.ndarray | None:
    """Log-odds of the probability column ``offset_feature`` (e.g. BG/NBD's P(buy in the
    horizon)): the trees start from it and learn corrections. None without one."""
    if not offset_feature:
        return None
    p = np.clip(np.nan_to_num(features[offset_feature].to_numpy(float), nan=1e-4), 1e-6,
                1 - 1e-6)
    return np.log(p / (1 - p)).astype("float32")


def fit_booster(x: np.ndarray, y: np.ndarray, params: dict, n_estimators: int,
                feature_names: list[str] | None = None, x_valid: np.ndarray | None = None,
                y_valid: np.ndarray | None = None,
                early_stopping_rounds: int | None = None, n_jobs: int = 2,
                seed: int = 0, margin: np.ndarray | None = None,
                margin_valid: np.ndarray | None = None) -> xgb.Booster:
    """One XGBoost fit (optionally early-stopped on a later cut-off; optionally boosting
    from a prior's log-odds ``margin``)."""
    train = xgb.DMatrix(x, label=y, feature_names=feature_names, base_margin=margin)
    evals = []
    if x_valid is not None:
        evals = [(xgb.DMatrix(x_valid, label=y_valid, feature_names=feature_names,
                              base_margin=margin_valid), "valid")]
    return xgb.train({**BASE_PARAMS, **params, "nthread": n_jobs, "seed": seed}, train,
                     num_boost_round=n_estimators, evals=evals,
                     early_stopping_rounds=early_stopping_rounds if evals else None,
                     verbose_eval=False)


def format_value(value: float) -> str:
    """2 -> '2', 0.4567 -> '0.457', NaN -> 'missing'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


@dataclass
class RepurchaseModel:
    """P(a person buys within ``horizon_days`` of the cut-off), from their features at it."""

    booster: xgb.Booster
    feature_names: list[str]
    horizon_days: int = 7
    target: str = "buy_7d"
    params: dict = field(default_factory=dict)   # the tuned XGBoost parameters
    # a probability column the trees boost from (its log-odds is each row's starting margin),
    # e.g. BG/NBD's P(buy in the horizon) on transaction logs; None: the usual global bias
    offset_feature: str | None = None

    def _dmatrix(self, features: pd.DataFrame) -> xgb.DMatrix:
        return xgb.DMatrix(feature_matrix(features, self.feature_names),
                           feature_names=list(self.feature_names),
                           base_margin=offset_margin(features, self.offset_feature))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """1-D P(buy within the horizon), one per row of ``features``."""
        if len(features) == 0:
            return np.zeros(0)
        return self.booster.predict(self._dmatrix(features)).astype("float64")

    def shap_values(self, features: pd.DataFrame) -> np.ndarray:
        """Exact TreeSHAP contributions (log-odds), rows x features (bias column dropped)."""
        contribs = self.booster.predict(self._dmatrix(features), pred_contribs=True)
        return contribs[:, :-1]

    def reasons(self, features: pd.DataFrame, top_k: int = 3) -> pd.DataFrame:
        """``person_id`` and ``reason_1..top_k``: the features that pushed each person's score
        the most (by |SHAP|), as "carts_30d=2 (+0.80)"; plus ``score``."""
        if "person_id" not in features.columns:
            raise KeyError("features need a person_id column")
        out = pd.DataFrame({"person_id": features["person_id"].astype(str).to_numpy()})
        if len(features) == 0:
            for k in range(1, top_k + 1):
                out[f"reason_{k}"] = pd.Series(dtype=str)
            return out
        values = self.shap_values(features)
        x = feature_matrix(features, self.feature_names)
        order = np.argsort(-np.abs(values), axis=1)[:, :top_k]
        rows = np.arange(len(features))[:, None]
        names = np.asarray(self.feature_names)[order]
        shap_top = values[rows, order]
        x_top = x[rows, order]
        for k in range(order.shape[1]):
            out[f"reason_{k + 1}"] = [f"{n}={format_value(float(v))} ({s:+.2f})"
                                      for n, v, s in zip(names[:, k], x_top[:, k],
                                                         shap_top[:, k], strict=True)]
        return out

    def importance(self, features: pd.DataFrame) -> pd.Series:
        """Global importance: mean |SHAP| per feature on ``features``, largest first."""
        values = np.abs(self.shap_values(features)).mean(axis=0)
        return pd.Series(values, index=self.feature_names).sort_values(ascending=False)

    def to_xgb_classifier(self) -> xgb.XGBClassifier:
        """The same trees as an sklearn-API XGBClassifier (for MLflow's xgboost flavour)."""
        clf = xgb.XGBClassifier(**{k: v for k, v in self.params.items()
                                   if k not in ("objective", "eval_metric")})
        clf._Booster = self.booster  # noqa: SLF001 - the documented way to wrap a Booster
        clf.n_classes_ = 2
        return clf
