"""The coupon pipeline on an in-memory catalog, with its evaluation node: a plan for every
person, and most of the oracle's true incremental margin."""

from __future__ import annotations

from omnicrm.pipelines.coupon import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


def test_plan_for_everyone_and_most_of_the_oracle(upstream, fast_parameters):
    pipeline = create_pipeline()
    out = run_in_memory(pipeline, inputs_of(pipeline, upstream), fast_parameters)
    plan = out["coupon_plan"]
    assert plan["person_id"].tolist() == upstream["person_features"]["person_id"].tolist()
    totals = out["coupon_plan_totals"]
    assert totals["offers"] == int((plan["coupon_threshold"] > 0).sum())
    ev = out["coupon_truth_evaluation"].set_index("policy")
    assert ev.loc["ours", "share_of_oracle"] > 0.7
    assert out["coupon_model_registration"]["registered"] is False   # no MLflow run here
