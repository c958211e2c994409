"""End to end: the coupon pipeline inside the README's main command (`kedro run`, then the
evaluation) on the 3,000-person project (the session's shared ``ran`` fixture), with MLflow
tracking."""

from __future__ import annotations

import pickle

import mlflow
import numpy as np
import pandas as pd

from omnicrm.coupon import PLAN_COLUMNS


def test_plan_table_and_reports(ran):
    plan = pd.read_parquet(ran / "data/07_model_output/coupon_plan.parquet")
    features = pd.read_parquet(ran / "data/04_feature/person_features.parquet")
    assert plan["person_id"].tolist() == features["person_id"].tolist()
    for col in ("offer", "coupon_threshold", "discount", "expected_incremental_revenue",
                "expected_incremental_margin", "expected_cost", "uplift_score", "segment"):
        assert col in plan.columns
    assert plan["segment"].notna().all() and (plan["segment"] != "unknown / unknown").all()
    offered = plan[plan["coupon_threshold"] > 0]
    assert 0.5 * len(plan) < len(offered) <= len(plan)
    assert (plan.loc[plan["coupon_threshold"] == 0, "offer"] == "none").all()
    for name in ("coupon_qini.png", "coupon_profit_by_threshold.png",
                 "coupon_uplift_comparison.csv", "coupon_campaign_checks.csv",
                 "coupon_plan_totals.json", "coupon_truth_evaluation.csv"):
        assert (ran / "data/08_reporting" / name).stat().st_size > 0, name
    # the policy the scorer loads answers for the person_features table directly
    with open(ran / "data/06_models/coupon_policy.pkl", "rb") as fh:
        policy = pickle.load(fh)
    rec = policy.recommend(features.head(50))
    assert list(rec.columns) == PLAN_COLUMNS and len(rec) == 50


def test_plan_against_the_truth_through_oneid(ran):
    """OneID persons mapped to true persons by majority vote: our plan earns most of what the
    oracle would, and more than every baseline."""
    ev = pd.read_csv(ran / "data/08_reporting/coupon_truth_evaluation.csv").set_index("policy")
    ours = ev.loc["ours", "true_incremental_margin"]
    assert ev.loc["ours", "share_of_oracle"] > 0.75
    baselines = [p for p in ev.index if p.startswith(("no_targeting", "propensity", "heuristic"))
                 and not p.endswith("_budget")]
    assert len(baselines) == 3
    assert all(ours > ev.loc[p, "true_incremental_margin"] for p in baselines)
    # the budget caps the expected cost; the calibrated cost model keeps the true cost near it
    budget = ev.loc["ours_budget", "budget"]
    assert 0.85 * budget <= ev.loc["ours_budget", "true_cost"] <= 1.1 * budget
    assert ev.loc["ours_budget", "share_of_oracle"] > 0.7
    assert (ev.loc["ours_budget", "true_incremental_margin"]
            > ev.loc["propensity_budget", "true_incremental_margin"])
    assert ev.loc["oracle", "true_incremental_margin"] >= ours


def test_models_and_metrics_in_mlflow(ran):
    mlflow.set_tracking_uri(f"sqlite:///{ran / 'mlruns' / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    for name in ("coupon_uplift", "coupon_policy"):
        assert client.search_model_versions(f"name='{name}'"), name
    runs = mlflow.search_runs(experiment_names=["omnicrm"])
    assert runs["metrics.coupon_truth_metrics.ours.share_of_oracle"].notna().any()
    assert runs["metrics.coupon_plan_metrics.expected_incremental_margin"].notna().any()
    assert runs["metrics.coupon_uplift_metrics.dr_learner.qini"].notna().any()


def test_registered_coupon_models_load_from_code_and_answer_like_the_policy(ran):
    """Both models are logged from code (no pickled PythonModel), land in the registry
    (kedro-mlflow issue #690) and give the fitted policy's answers."""
    import json

    mlflow.set_tracking_uri(f"sqlite:///{ran / 'mlruns' / 'mlflow.db'}")
    record = json.loads((ran / "data/06_models/coupon_model_registration.json").read_text())
    assert record["registered"] is True
    features = pd.read_parquet(ran / "data/04_feature/person_features.parquet").head(40)
    with open(ran / "data/06_models/coupon_policy.pkl", "rb") as fh:
        policy = pickle.load(fh)
    client = mlflow.MlflowClient()
    for output, name in (("uplift", "coupon_uplift"), ("policy", "coupon_policy")):
        where = record["models"][output]
        assert where["name"] == name
        assert client.get_model_version(name, str(where["version"])).status == "READY"
        model = mlflow.pyfunc.load_model(f"models:/{name}/{where['version']}")
        assert model.metadata.flavors["python_function"].get("model_code_path")
        got = model.predict(features)
        if output == "uplift":
            assert np.allclose(got["uplift_score"].to_numpy(), policy.uplift_score(features))
        else:
            pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                          policy.recommend(features).reset_index(drop=True))
