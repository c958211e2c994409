"""Customer value judged on what followed: fitted at a back-dated cut-off, its predictions are
compared with each buyer's observed purchases and spend in the following window (on the
synthetic world these are the world's own future; on a brand's data, its own history)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from .value import CustomerValueModel  # noqa: E402


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
    calibrated), ``purchases_sum_ratio`` (the same for purchase counts). Returns the metrics
    and the per-calibration-count table of the classic check plot."""
    cutoff = pd.Timestamp(features["cutoff_date"].iloc[0])
    buyers = features[features["frequency"] > 0].reset_index(drop=True)
    pred = model.predict(buyers)
    undiscounted = CustomerValueModel(**{**model.__dict__, "annual_discount_rate": 0.0})
    from omnicrm.repurchase.baselines import bgnbd_inputs

    x, t_x, T = bgnbd_inputs(buyers)
    expected_n = model.frequency_model.expected_purchases(days, x, t_x, T)
    expected_spend = expected_n * undiscounted.expected_order_value(buyers)
    real = realised(purchases, cutoff, days).reindex(buyers["person_id"].astype(str))
    real_n = real["purchases"].fillna(0).to_numpy(float)
    real_spend = real["spend"].fillna(0).to_numpy(float)
    clv = pred[model.columns[-1]].to_numpy(float)
    top = max(1, int(round(0.1 * len(buyers))))
    total = real_spend.sum()
    metrics = {
        "buyers": float(len(buyers)),
        "spearman_clv_spend": float(spearmanr(clv, real_spend).statistic),
        "top_decile_capture": float(real_spend[np.argsort(-clv, kind="stable")[:top]].sum()
                                    / total) if total > 0 else float("nan"),
        "top_decile_capture_oracle": float(np.sort(real_spend)[::-1][:top].sum() / total)
        if total > 0 else float("nan"),
        "spend_sum_ratio": float(expected_spend.sum() / total) if total > 0 else float("nan"),
        "purchases_sum_ratio": float(expected_n.sum() / real_n.sum()) if real_n.sum() > 0
        else float("nan"),
    }
    repeat = np.minimum(x, 7).astype(int)
    table = (pd.DataFrame({"repeat_purchases": repeat, "predicted": expected_n,
                           "actual": real_n})
             .groupby("repeat_purchases").agg(customers=("actual", "size"),
                                              predicted=("predicted", "mean"),
                                              actual=("actual", "mean")).reset_index())
    return metrics, table


def plot_calibration_holdout(table: pd.DataFrame, days: int) -> plt.Figure:
    """Mean purchases in the holdout, predicted vs actual, per number of repeat purchases in
    the calibration period (7 = 7 or more): the classic BG/NBD check."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(table["repeat_purchases"], table["actual"], marker="o", label="actual")
    ax.plot(table["repeat_purchases"], table["predicted"], marker="s", linestyle="--",
            label="predicted")
    ax.set_xlabel("repeat purchases before the cut-off (7 = 7+)")
    ax.set_ylabel(f"mean purchases in the next {days} days")
    ax.set_title("Customer value model: calibration vs holdout")
    ax.legend()
    fig.tight_layout()
    return fig


def independence_check(features: pd.DataFrame) -> dict:
    """Gamma-gamma assumes a customer's order value does not depend on how often they buy:
    the Pearson correlation of repeat purchases and mean order value among repeat buyers
    (|r| < 0.3 is the usual reading of 'about independent')."""
    freq = features["frequency"].to_numpy(float)
    value = features["avg_order_value"].to_numpy(float)
    rows = (freq > 1) & np.isfinite(value)
    if rows.sum() < 3:
        return {"frequency_value_correlation": float("nan")}
    return {"frequency_value_correlation": float(np.corrcoef(freq[rows] - 1,
                                                             value[rows])[0, 1])}


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
    r = features["recency_days"]
    pool = features.loc[(r >= min_days) & (r <= max_days), ["person_id"]]
    pool = pool.merge(mapping, on="person_id").merge(effect, left_on="true_person_id",
                                                     right_index=True)
    chosen = pool[pool["person_id"].isin(audience["person_id"])]
    k = len(chosen)
    return {"audience": float(k), "pool": float(len(pool)),
            "true_effect_audience": float(chosen["true_effect"].mean()) if k else float("nan"),
            "true_effect_random": float(pool["true_effect"].mean()),
            "true_effect_oracle": float(pool["true_effect"].nlargest(k).mean())
            if k else float("nan")}
