"""Side-by-side holdout evaluation on the test cut-offs: our XGBoost model, the recency/frequency
heuristic, logistic regression and BG/NBD, all scored on the same persons and cut-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .baselines import (
    BinnedCalibrator,
    bgnbd_expected,
    bgnbd_probability,
    fit_bgnbd,
    fit_logistic,
    rf_heuristic_score,
)
from .metrics import classification_metrics
from .model import RepurchaseModel, feature_matrix
from .split import TimeSplit

MODELS = ("xgboost", "rf_heuristic", "logistic", "bgnbd")


def holdout_predictions(frame: pd.DataFrame, label: str, feature_names: list[str],
                        split: TimeSplit, model: RepurchaseModel, horizon_days: int,
                        seed: int = 0) -> pd.DataFrame:
    """person_id, cutoff_date, the label and each model's probability on the test cut-offs.
    Baselines that learn (logistic, the heuristic's calibration) see the same train +
    validation cut-offs as the final model; BG/NBD is fitted at each test cut-off on the
    history before it (its own calibration period)."""
    fit_rows = split.mask(frame, "train") | split.mask(frame, "valid")
    test = frame.loc[split.mask(frame, "test")].reset_index(drop=True)
    y_fit = frame.loc[fit_rows, label].to_numpy()
    out = test[["person_id", "cutoff_date", label]].copy()
    out["xgboost"] = model.predict_proba(test)
    heuristic = rf_heuristic_score(test)
    out["rf_heuristic_score"] = heuristic
    calib = BinnedCalibrator().fit(rf_heuristic_score(frame.loc[fit_rows]), y_fit)
    out["rf_heuristic"] = calib.predict(heuristic)
    if len(np.unique(y_fit)) > 1:
        logistic = fit_logistic(feature_matrix(frame.loc[fit_rows], feature_names), y_fit, seed)
        out["logistic"] = logistic.predict_proba(feature_matrix(test, feature_names))[:, 1]
    else:
        out["logistic"] = float(y_fit.mean()) if len(y_fit) else 0.0
    # BG/NBD ranks by expected purchases (``bgnbd_score``), as the reference implementation
    # and the literature do; its probability (Brier) is P(at least one purchase)
    out["bgnbd"], out["bgnbd_score"] = 0.0, 0.0
    for _cutoff, rows in test.groupby("cutoff_date").groups.items():
        part = test.loc[rows]
        bg = fit_bgnbd(part)
        out.loc[rows, "bgnbd"] = bgnbd_probability(bg, part, horizon_days)
        out.loc[rows, "bgnbd_score"] = bgnbd_expected(bg, part, horizon_days)
    return out


def compare(predictions: pd.DataFrame, label: str) -> pd.DataFrame:
    """One row per model: auc, pr_auc, lift_top10, brier, n, base_rate (ranking metrics on
    a model's ``<model>_score`` when it has one: the heuristic's raw score, BG/NBD's expected
    purchases; Brier on the probability)."""
    y = predictions[label].to_numpy()
    rows = []
    for name in MODELS:
        score = predictions[f"{name}_score"] if f"{name}_score" in predictions else None
        prob = predictions[name].to_numpy()
        rows.append({"model": name, **classification_metrics(
            y, prob if score is None else score.to_numpy(), prob)})
    return pd.DataFrame(rows)


def auc_uncertainty(predictions: pd.DataFrame, label: str, n_bootstrap: int = 200,
                    seed: int = 0, reference: str = "bgnbd") -> pd.DataFrame:
    """How sure each model's holdout AUC is: a 95% percentile interval from resampling
    persons (a person's rows at several test cut-offs stay together, so correlated rows do
    not narrow the interval), the AUC at each test cut-off (min / max), and ``beats_<ref>``,
    the share of resamples in which the model's AUC is above ``reference``'s on the same
    persons (a paired comparison: both models face the same buyers)."""
    from sklearn.metrics import roc_auc_score

    y = predictions[label].to_numpy(int)
    models = [m for m in MODELS if m in predictions]
    score = {m: predictions[f"{m}_score" if f"{m}_score" in predictions else m].to_numpy(float)
             for m in models}
    persons, owner = np.unique(predictions["person_id"].astype(str), return_inverse=True)
    rng = np.random.default_rng(seed)
    boot = {m: [] for m in models}
    for _ in range(n_bootstrap):
        weight = np.bincount(rng.integers(0, len(persons), len(persons)),
                             minlength=len(persons))[owner]
        kept = weight > 0
        if not 0 < y[kept].sum() < kept.sum():
            continue
        for m in models:
            boot[m].append(roc_auc_score(y[kept], score[m][kept], sample_weight=weight[kept]))
    per_cutoff = {m: [] for m in models}
    for _, rows in predictions.groupby("cutoff_date").groups.items():
        yc = predictions.loc[rows, label].to_numpy(int)
        if 0 < yc.sum() < len(yc):
            for m in models:
                per_cutoff[m].append(roc_auc_score(yc, predictions.loc[rows].pipe(
                    lambda part, m=m: part[f"{m}_score" if f"{m}_score" in part else m])))
    out = []
    ref = np.asarray(boot.get(reference, []))
    for m in models:
        b = np.asarray(boot[m])
        out.append({"model": m,
                    "auc_ci_low": float(np.quantile(b, 0.025)) if len(b) else np.nan,
                    "auc_ci_high": float(np.quantile(b, 0.975)) if len(b) else np.nan,
                    "auc_cutoff_min": min(per_cutoff[m], default=np.nan),
                    "auc_cutoff_max": max(per_cutoff[m], default=np.nan),
                    f"beats_{reference}": float((b > ref).mean()) if len(ref) else np.nan})
    return pd.DataFrame(out)


def validation_auc(frame: pd.DataFrame, label: str, feature_names: list[str], split: TimeSplit,
                   horizon_days: int, ours: float, seed: int = 0) -> pd.DataFrame:
    """Each model's AUC on the validation cut-offs (``valid_auc``), the data the tool chooses
    the model it recommends on (never the holdout): ours is its best Optuna trial's (``ours``,
    trained on the training cut-offs), logistic regression is fitted on the same training
    cut-offs, BG/NBD at each validation cut-off on the history before it (``horizon_days``:
    the validation labels' window), the heuristic needs no fit."""
    from sklearn.metrics import roc_auc_score

    fit_rows, rows = split.mask(frame, "train"), split.mask(frame, "valid")
    valid = frame.loc[rows].reset_index(drop=True)
    y, y_fit = valid[label].to_numpy(), frame.loc[fit_rows, label].to_numpy()
    scores = {"rf_heuristic": rf_heuristic_score(valid)}
    if len(np.unique(y_fit)) > 1:
        logistic = fit_logistic(feature_matrix(frame.loc[fit_rows], feature_names), y_fit, seed)
        scores["logistic"] = logistic.predict_proba(feature_matrix(valid, feature_names))[:, 1]
    bg = np.zeros(len(valid))
    for _cutoff, part_rows in valid.groupby("cutoff_date").groups.items():
        part = valid.loc[part_rows]
        bg[part_rows] = bgnbd_expected(fit_bgnbd(part), part, horizon_days)
    scores["bgnbd"] = bg
    out = [{"model": "xgboost", "valid_auc": float(ours)}]
    for name, score in scores.items():
        auc = roc_auc_score(y, score) if 0 < y.sum() < len(y) else np.nan
        out.append({"model": name, "valid_auc": float(auc)})
    return pd.DataFrame(out)
