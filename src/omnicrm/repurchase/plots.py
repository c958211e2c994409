"""Figures of the repurchase models: reliability curves and SHAP global importance."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .metrics import reliability_curve  # noqa: E402


def plot_reliability(predictions: pd.DataFrame, label: str, models: list[str],
                     bins: int = 10) -> plt.Figure:
    """Observed vs predicted buy rate per quantile bin, one line per model (log-log, since
    most probabilities are small); the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    top = 0.0
    for name in models:
        curve = reliability_curve(predictions[label], predictions[name], bins)
        ax.plot(curve["mean_predicted"], curve["observed_rate"], marker="o", label=name)
        top = max(top, curve["mean_predicted"].max(), curve["observed_rate"].max())
    ax.plot([1e-4, top], [1e-4, top], color="grey", linestyle="--", label="perfect")
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("mean predicted probability (quantile bin)")
    ax.set_ylabel("observed buy rate")
    ax.set_title(f"Reliability on the test cut-offs: {label}")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_importance(importance: pd.Series, top: int = 20, title: str = "") -> plt.Figure:
    """Mean |SHAP| (log-odds) of the ``top`` features, largest on top."""
    shown = importance.head(top)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.5))
    ax.barh(shown.index, shown.to_numpy(), color="#3b6ea8")
    ax.set_xlabel("mean |SHAP value| (log-odds)")
    ax.set_title(title or "Global feature importance (SHAP)")
    fig.tight_layout()
    return fig
