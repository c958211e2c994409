"""The shape kedro-mlflow's ``MlflowMetricsHistoryDataset`` logs: one place for every
pipeline's metric dictionaries; and the pinned requirements every logged model states."""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version


def pinned(*names: str) -> list[str]:
    """``name==installed version`` for each package: a logged model's pip requirements,
    stated so that MLflow does not infer them (it imports the model in a subprocess to do
    so, ~10 s a model)."""
    out = []
    for name in names:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:  # pragma: no cover
            out.append(name)
    return out


def mlflow_metrics(values: Mapping[str, float], prefix: str = "",
                   finite_only: bool = False) -> dict[str, dict]:
    """``{"auc": 0.8}`` -> ``{"<prefix>.auc": {"value": 0.8, "step": 0}}``; with
    ``finite_only``, NaN and infinite values are left out (MLflow would store them as NaN)."""
    out = {}
    for key, value in values.items():
        value = float(value)
        if finite_only and not math.isfinite(value):
            continue
        out[f"{prefix}.{key}" if prefix else key] = {"value": value, "step": 0}
    return out
