"""Log and register the coupon models (``coupon_uplift``, ``coupon_policy``) from code
(:mod:`omnicrm.coupon.mlflow_model`) with the fitted policy as their one artifact."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import pandas as pd

MODEL_FILE = Path(__file__).with_name("mlflow_model.py")
REQUIREMENTS = ["mlflow", "xgboost", "pandas", "numpy", "scipy", "scikit-learn"]


def log_coupon_models(policy, example: pd.DataFrame, names: dict[str, str]) -> dict:
    """Log both models to the active MLflow run and register them under ``names``
    (``{"uplift": ..., "policy": ...}``); returns where they went. Without an active run
    (a notebook, an in-memory test run) nothing is logged."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        return {"registered": False, "reason": "no active MLflow run"}
    out = {"registered": True, "run_id": run.info.run_id, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "coupon_policy.pkl"
        path.write_bytes(pickle.dumps(policy))
        for output, name in names.items():
            info = mlflow.pyfunc.log_model(
                name=name, python_model=str(MODEL_FILE), artifacts={"coupon_policy": str(path)},
                model_config={"output": output}, input_example=example,
                pip_requirements=REQUIREMENTS, registered_model_name=name)
            out["models"][output] = {"name": name, "model_uri": info.model_uri,
                                     "version": None if info.registered_model_version is None
                                     else int(info.registered_model_version)}
    return out
