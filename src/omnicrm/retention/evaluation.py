"""Customer value judged on what followed: fitted at a back-dated cut-off, its predictions are
compared with each buyer's observed purchases and spend in the following window (on the
synthetic world these are the world's own future; on a brand's data, its own history)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from omnicrm.repurchase.clv import calibration_holdout_table
from omnicrm.repurchase.gammagamma import independence_check
from omnicrm.repurchase.targeting import eligible as recency_band

from .value import CustomerValueModel, value_summary


def realised(purchases: pd.DataFrame, start: pd.Timestamp, days: int) -> pd.DataFrame:
    """Per person: purchase days and spend in [start, start + days) from (person_id,
    ordered_at, paid_amount); one purchase occasion per person and day, as the models count."""
    t = purchases["ordered_at"]
    w = purchases[(t >= start) & (t < start + pd.Timedelta(days=days))]
    days_bought = w.assign(day=w["ordered_at"].dt.normalize()).groupby("person_id")["day"]
    return pd.DataFrame({"purchases": days_bought.nunique(),
                         "spend": w.groupby("person_id")["paid_amount"].sum()})


def value_vs_realised(features: pd.DataFrame, model: CustomerValueModel,
                      purchases: pd.DataFrame, days: int) -> tuple[dict, pd.DataFrame]:
    """Predicted (fitted at ``features``' cut-off) against realised in the next ``days``.

    Metrics: ``spearman_clv_spend`` (rank agreement of CLV with realised spend),
    ``top_decile_capture`` (share of the realised spend that the top 10% by CLV made),
    ``top_decile_capture_oracle`` (the same for a perfect ranking, its ceiling),
    ``spend_sum_ratio`` (predicted undiscounted spend over realised spend, all buyers; 1 is
    calibrated), ``purchases_sum_ratio`` (the same for purchase counts), and gamma-gamma's
    independence check (``frequency_value_pearson`` and its verdict). Returns the metrics and
    the calibration-vs-holdout table of the classic check plot."""
    cutoff = pd.Timestamp(features["cutoff_date"].iloc[0])
    summary = value_summary(features)
    undiscounted = model.value_table(features, annual_discount_rate=0.0)
    expected_n = model.frequency_model.expected_purchases(
        days, *(summary[c].to_numpy(float) for c in ("x", "t_x", "T")))
    expected_spend = expected_n * undiscounted["expected_avg_value"].to_numpy(float)
    real = realised(purchases, cutoff, days).reindex(summary.index)
    real_n = real["purchases"].fillna(0).to_numpy(float)
    real_spend = real["spend"].fillna(0).to_numpy(float)
    clv = model.value_table(features)[model.columns[-1]].to_numpy(float)
    top = max(1, int(round(0.1 * len(summary))))
    total = real_spend.sum()
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    check = independence_check(repeat["frequency"], repeat["monetary_value"])
    metrics = {
        "buyers": float(len(summary)),
        "spearman_clv_spend": float(spearmanr(clv, real_spend).statistic),
        "top_decile_capture": float(real_spend[np.argsort(-clv, kind="stable")[:top]].sum()
                                    / total) if total > 0 else float("nan"),
        "top_decile_capture_oracle": float(np.sort(real_spend)[::-1][:top].sum() / total)
        if total > 0 else float("nan"),
        "spend_sum_ratio": float(expected_spend.sum() / total) if total > 0 else float("nan"),
        "purchases_sum_ratio": float(expected_n.sum() / real_n.sum()) if real_n.sum() > 0
        else float("nan"),
        "frequency_value_pearson": float(check["pearson"]),
        "gamma_gamma_check": check["verdict"],
    }
    table = calibration_holdout_table(summary, pd.Series(real_n, index=summary.index),
                                      model.frequency_model, days)
    return metrics, table


def winback_against_truth(audience: pd.DataFrame, features: pd.DataFrame,
                          mapping: pd.DataFrame, truth_offer_outcomes: pd.DataFrame,
                          min_days: int, max_days: int) -> dict:
    """The audience's true effect in the synthetic world's next window: per true person, an
    offer's effect is its P(buy) less P(buy) with no offer, averaged over the menu (the arms
    past win-back campaigns sent). Compared, at the audience's size, with members of the same
    eligible pool drawn at random and with the oracle's pick (the largest true effects)."""
    t = truth_offer_outcomes
    none = t[t["coupon_threshold"] == 0].set_index("person_id")["p_buy"]
    offers = t[t["coupon_threshold"] > 0].groupby("person_id")["p_buy"].mean()
    effect = (offers - none.reindex(offers.index)).rename("true_effect")
    pool = recency_band(features, min_days, max_days)[["person_id"]]
    pool = pool.merge(mapping, on="person_id").merge(effect, left_on="true_person_id",
                                                     right_index=True)
    chosen = pool[pool["person_id"].isin(audience["person_id"])]
    k = len(chosen)
    return {"audience": float(k), "pool": float(len(pool)),
            "true_effect_audience": float(chosen["true_effect"].mean()) if k else float("nan"),
            "true_effect_random": float(pool["true_effect"].mean()),
            "true_effect_oracle": float(pool["true_effect"].nlargest(k).mean())
            if k else float("nan")}
