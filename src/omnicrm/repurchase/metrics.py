"""Holdout metrics every repurchase model is judged on: AUC, PR-AUC, lift in the top 10%, Brier
score, and the reliability curve (predicted vs observed buy rate per probability bin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def lift_at(y: np.ndarray, score: np.ndarray, share: float = 0.10) -> float:
    """Buy rate among the top ``share`` by score over the overall buy rate (ties broken by a
    stable sort, so a constant score gets lift 1 on average, not the luck of the order)."""
    y = np.asarray(y, float)
    if y.sum() == 0:
        return float("nan")
    n_top = max(1, int(round(share * len(y))))
    order = np.argsort(-np.asarray(score, float), kind="stable")
    return float(y[order[:n_top]].mean() / y.mean())


def classification_metrics(y: np.ndarray, score: np.ndarray,
                           probability: np.ndarray | None = None) -> dict[str, float]:
    """AUC, PR-AUC, lift@10% on ``score``; Brier on ``probability`` (NaN when the model gives
    no probability); plus the holdout size and base rate."""
    y = np.asarray(y, int)
    score = np.asarray(score, float)
    both = 0 < y.sum() < len(y)
    out = {
        "auc": float(roc_auc_score(y, score)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, score)) if both else float("nan"),
        "lift_top10": lift_at(y, score, 0.10),
        "brier": (float(brier_score_loss(y, np.clip(probability, 0, 1)))
                  if probability is not None else float("nan")),
        "n": float(len(y)),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
    }
    return out


def reliability_curve(y: np.ndarray, probability: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed buy rate per quantile bin of the predicted probability (a calibrated model
    sits on the diagonal). Quantile bins, because most probabilities are small."""
    frame = pd.DataFrame({"y": np.asarray(y, float), "p": np.asarray(probability, float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), q=min(bins, len(frame)),
                           labels=False)
    return (frame.groupby("bin")
            .agg(mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size"))
            .reset_index(drop=True))
