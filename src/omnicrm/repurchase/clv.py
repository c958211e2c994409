"""Customer lifetime value from a transaction log: a purchase-count model (BG/NBD or Pareto/NBD)
times gamma-gamma spend, discounted month by month; and the calibration-vs-holdout check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .bgnbd import BGNBD, summary_from_transactions
from .gammagamma import GammaGamma
from .paretonbd import ParetoNBD

FREQUENCY_MODELS = {"bgnbd": BGNBD, "paretonbd": ParetoNBD}
DAYS_PER_MONTH = 365.25 / 12
TOP_BUCKET = 7  # the check plot's last bucket: 7 or more calibration repeat purchases


def clv_summary(transactions: pd.DataFrame, cutoff, customer: str = "customer_id",
                date: str = "date", amount: str = "amount") -> pd.DataFrame:
    """Per customer, from purchases before ``cutoff``: x, t_x, T (days), frequency,
    monetary_value (mean spend of repeat occasions) and total_spend; one purchase occasion per
    customer-day with that day's amounts summed."""
    if len(transactions) == 0:
        raise ValueError("the transaction log is empty: no customers to value")
    return summary_from_transactions(transactions, pd.Timestamp(cutoff), customer, date,
                                     amount)


@dataclass
class CLVModels:
    """The fitted models behind a CLV table, and what had to give."""

    frequency: BGNBD | ParetoNBD
    spend: GammaGamma | None  # None: gamma-gamma could not be fitted
    fallback_spend: float     # expected spend per purchase when ``spend`` is None
    note: str                 # '' or why the fallback was used


def fit_clv_models(summary: pd.DataFrame, frequency_model: str = "bgnbd") -> CLVModels:
    """The purchase-count model on every customer and gamma-gamma on the repeat buyers with a
    positive spend; with fewer than two of those (or a fit with an infinite mean) the mean
    observed spend per purchase stands in, and the note says so."""
    _check_summary(summary)
    if frequency_model not in FREQUENCY_MODELS:
        raise ValueError(f"unknown frequency model '{frequency_model}'; choose one of "
                         f"{', '.join(FREQUENCY_MODELS)}")
    counts = FREQUENCY_MODELS[frequency_model].fit(summary["x"], summary["t_x"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    occasions = float((summary["x"] + 1).sum())
    mean_spend = float(summary["total_spend"].sum()) / occasions
    if len(repeat) < 2:
        return CLVModels(counts, None, mean_spend,
                         f"gamma-gamma not fitted: {len(repeat)} repeat buyer(s) with a "
                         f"positive spend (needs 2); every customer is valued at the mean "
                         f"observed spend per purchase, {mean_spend:.4g}")
    spend = GammaGamma.fit(repeat["frequency"], repeat["monetary_value"])
    if spend.q <= 1:
        return CLVModels(counts, None, mean_spend,
                         f"gamma-gamma fitted q = {spend.q:.3g} <= 1 (infinite mean spend); "
                         f"every customer is valued at the mean observed spend per purchase, "
                         f"{mean_spend:.4g}")
    return CLVModels(counts, spend, spend.population_mean_spend, "")


def customer_lifetime_value(summary: pd.DataFrame, months: int = 12,
                            annual_discount_rate: float = 0.1, horizon_days: int = 90,
                            frequency_model: str = "bgnbd",
                            models: CLVModels | None = None,
                            days_per_month: float = DAYS_PER_MONTH) -> pd.DataFrame:
    """Per customer of ``summary`` (from :func:`clv_summary`): ``p_alive``,
    ``expected_purchases_<horizon_days>d``, ``expected_avg_value`` and ``clv_<months>m``, the
    sum over months m = 1..months of (E[N(m)] - E[N(m-1)]) x expected value / (1 + monthly
    rate)^m, the monthly rate being (1 + annual)^(1/12) - 1 (lifetimes' discrete steps).
    Customers without a repeat purchase get gamma-gamma's population mean spend. ``models``
    reuses fitted models; the table's ``attrs["note"]`` says when the spend fell back."""
    _check_summary(summary)
    if not (isinstance(months, (int, np.integer)) and months >= 1):
        raise ValueError(f"months must be a whole number >= 1, got {months!r}")
    if not (np.isfinite(annual_discount_rate) and annual_discount_rate > -1):
        raise ValueError(f"annual_discount_rate must be a finite rate > -1, got "
                         f"{annual_discount_rate!r}")
    if not (np.isfinite(horizon_days) and horizon_days > 0):
        raise ValueError(f"horizon_days must be > 0, got {horizon_days!r}")
    models = models or fit_clv_models(summary, frequency_model)
    x, t_x, T = (summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
    counts = models.frequency
    if models.spend is None:
        value = np.full(len(summary), models.fallback_spend)
    else:
        value = models.spend.conditional_expected_average_value(
            summary["frequency"].to_numpy(float),
            np.clip(summary["monetary_value"].to_numpy(float), 0, None))
    monthly_rate = (1 + annual_discount_rate) ** (1 / 12) - 1
    clv = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for month in range(1, months + 1):
        cumulative = counts.expected_purchases(month * days_per_month, x, t_x, T)
        clv += (cumulative - previous) * value / (1 + monthly_rate) ** month
        previous = cumulative
    out = pd.DataFrame({
        "p_alive": counts.p_alive(x, t_x, T),
        f"expected_purchases_{horizon_days}d": counts.expected_purchases(horizon_days, x,
                                                                        t_x, T),
        "expected_avg_value": value,
        f"clv_{months}m": clv,
    }, index=summary.index)
    out.attrs["note"] = models.note
    return out


def _check_summary(summary: pd.DataFrame) -> None:
    needed = {"x", "t_x", "T", "frequency", "monetary_value", "total_spend"}
    missing = needed - set(summary.columns)
    if missing:
        raise ValueError(f"the summary lacks {', '.join(sorted(missing))}: build it with "
                         "clv_summary(transactions, cutoff)")
    if len(summary) == 0:
        raise ValueError("no customers to value: the summary is empty")
    values = summary[sorted(needed)].to_numpy(float)
    if not np.isfinite(values).all():
        raise ValueError("the summary has missing or infinite values")
    if (values < 0).any():
        raise ValueError("the summary has negative values (counts, ages and spend are >= 0)")


def holdout_purchase_counts(transactions: pd.DataFrame, start, end,
                            customer: str = "customer_id", date: str = "date") -> pd.Series:
    """Purchase occasions (customer-days) per customer in [start, end): the holdout actuals."""
    days = pd.to_datetime(transactions[date]).dt.normalize()
    inside = (days >= pd.Timestamp(start)) & (days < pd.Timestamp(end))
    occasions = pd.DataFrame({customer: transactions.loc[inside, customer].astype(str),
                              "day": days[inside]}).drop_duplicates()
    return occasions.groupby(customer).size().astype(float)


def calibration_holdout_table(summary_cal: pd.DataFrame, holdout_counts: pd.Series,
                              model: BGNBD | ParetoNBD, holdout_days: float) -> pd.DataFrame:
    """Per calibration repeat-purchase count (0, 1, ..., '7+'): customers, and the mean actual
    vs predicted purchases in the ``holdout_days`` after the cut-off (the classic check plot's
    data). Customers missing from ``holdout_counts`` made no holdout purchase."""
    actual = holdout_counts.reindex(summary_cal.index).fillna(0.0).to_numpy(float)
    x, t_x, T = (summary_cal[c].to_numpy(float) for c in ("x", "t_x", "T"))
    predicted = model.expected_purchases(holdout_days, x, t_x, T)
    bucket = np.minimum(x, TOP_BUCKET).astype(int)
    frame = pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": predicted})
    table = frame.groupby("bucket").agg(customers=("actual", "size"),
                                        actual=("actual", "mean"),
                                        predicted=("predicted", "mean"))
    table.index = [f"{TOP_BUCKET}+" if b == TOP_BUCKET else str(b) for b in table.index]
    table.index.name = "calibration_repeat_purchases"
    return table


def plot_calibration_holdout(table: pd.DataFrame):
    """Mean actual vs predicted holdout purchases per calibration repeat-purchase count."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(table.index, table["actual"], marker="o", label="actual")
    ax.plot(table.index, table["predicted"], marker="s", linestyle="--", label="predicted")
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title("Calibration vs holdout")
    ax.legend()
    fig.tight_layout()
    return fig
