"""The repurchase pipeline on an in-memory catalog (fewer Optuna trials): its test-cut-off
labels are the orders that really followed, and our model beats the recency heuristic."""

from __future__ import annotations

import pandas as pd

from omnicrm.pipelines.repurchase import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


def test_labels_are_the_orders_that_followed_and_the_model_ranks(upstream, fast_parameters):
    pipeline = create_pipeline()
    out = run_in_memory(pipeline, inputs_of(pipeline, upstream), fast_parameters)
    holdout = out["repurchase_7d_holdout"]
    orders = upstream["orders"].merge(upstream["person_index"], on="record_id")
    for cutoff, rows in holdout.groupby("cutoff_date"):
        window = orders[(orders["ordered_at"] >= cutoff)
                        & (orders["ordered_at"] < cutoff + pd.Timedelta(days=7))]
        bought = rows["person_id"].isin(set(window["person_id"])).astype(int)
        assert (rows["label"].to_numpy() == bought.to_numpy()).all(), cutoff
    seven = out["repurchase_model_comparison"]
    seven = seven[seven["target"] == "buy_7d"].set_index("model")["auc"]
    assert seven["xgboost"] > 0.75 and seven["xgboost"] > seven["rf_heuristic"]
    assert out["repurchase_7d_registration"] == {"registered": False,
                                                 "reason": "no active MLflow run"}
    audience = out["repurchase_audience"]
    assert audience["recency_days"].between(30, 90).all()
