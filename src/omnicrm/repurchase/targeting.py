"""The deck's campaign rule: buyers whose last purchase was 30-90 days ago, scored, and the
middle band of probability targeted (the top band buys anyway, the bottom band will not)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import RepurchaseModel


def eligible(features: pd.DataFrame, min_days: float = 30, max_days: float = 90) -> pd.DataFrame:
    """Buyers whose last purchase was ``min_days``..``max_days`` (inclusive) before the cut-off."""
    r = features["recency_days"]
    return features[(r >= min_days) & (r <= max_days)]


def select_audience(features: pd.DataFrame, model: RepurchaseModel, min_days: float = 30,
                    max_days: float = 90, band_low: float = 0.3, band_high: float = 0.8,
                    band_by: str = "quantile", top_k: int = 3) -> pd.DataFrame:
    """The campaign audience: eligible buyers whose score lies in [band_low, band_high), as
    quantiles of the eligible scores (``band_by='quantile'``) or as probabilities
    (``'probability'``). Columns: person_id, cutoff_date, recency_days, score, score_rank
    (1 = highest among the eligible), band_low_score, band_high_score, reason_1..top_k."""
    pool = eligible(features, min_days, max_days).reset_index(drop=True)
    score = model.predict_proba(pool)
    if band_by == "quantile":
        lo, hi = (np.quantile(score, [band_low, band_high]) if len(score)
                  else (np.nan, np.nan))
    elif band_by == "probability":
        lo, hi = band_low, band_high
    else:
        raise ValueError(f"band_by must be 'quantile' or 'probability', got {band_by!r}")
    keep = (score >= lo) & (score < hi)
    rank = pd.Series(score).rank(ascending=False, method="first").to_numpy(int)
    chosen = pool.loc[keep]
    out = pd.DataFrame({
        "person_id": chosen["person_id"].astype(str).to_numpy(),
        "cutoff_date": chosen["cutoff_date"].to_numpy() if "cutoff_date" in chosen else pd.NaT,
        "recency_days": chosen["recency_days"].to_numpy(float),
        "score": score[keep], "score_rank": rank[keep],
        "band_low_score": float(lo), "band_high_score": float(hi)})
    reasons = model.reasons(chosen, top_k=top_k).drop(columns="person_id")
    out = pd.concat([out, reasons.reset_index(drop=True)], axis=1)
    return out.sort_values("score", ascending=False).reset_index(drop=True)
