"""The retention pipeline on an in-memory catalog: churn labels are the absence of the orders
that really followed, the churn model ranks churners better than the recency rule, the value
model's CLV ranks the year that followed, and the win-back audience is dormant or at risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.pipelines.coupon import create_pipeline as coupon_pipeline
from omnicrm.pipelines.retention import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


@pytest.fixture(scope="module")
def retained(upstream, fast_parameters) -> dict:
    tables = dict(upstream)
    members = coupon_pipeline().only_nodes("build_coupon_training_set")
    tables.update(run_in_memory(members, inputs_of(members, tables), fast_parameters))
    pipeline = create_pipeline()
    return {**tables, **run_in_memory(pipeline, inputs_of(pipeline, tables), fast_parameters)}


def test_churn_labels_are_the_orders_that_did_not_follow(retained):
    holdout = retained["churn_holdout"]
    orders = retained["orders"].merge(retained["person_index"], on="record_id")
    horizon = pd.Timedelta(days=90)
    for cutoff, rows in holdout.groupby("cutoff_date"):
        window = orders[(orders["ordered_at"] >= cutoff)
                        & (orders["ordered_at"] < cutoff + horizon)]
        churned = (~rows["person_id"].isin(set(window["person_id"]))).astype(int)
        assert (rows["churned"].to_numpy() == churned.to_numpy()).all(), cutoff
        before = orders[orders["ordered_at"] < cutoff].groupby("person_id")["ordered_at"].max()
        last = before.reindex(rows["person_id"])
        assert (cutoff - last < pd.Timedelta(days=365)).all()   # active buyers only


def test_churn_model_beats_the_recency_rule_and_names_its_reasons(retained):
    auc = retained["churn_comparison"].set_index("model")["auc"]
    assert auc["xgboost"] > 0.7
    assert auc["xgboost"] > auc["recency_rule"]
    assert auc["xgboost"] > auc["bgnbd_not_alive"]
    scores = retained["churn_scores"]
    features = retained["person_features"].set_index("person_id")
    assert (features.loc[scores["person_id"], "recency_days"] < 365).all()
    assert scores["churn_rank"].tolist() == list(range(1, len(scores) + 1))
    assert scores["reason_1"].str.match(r"^\w+=.+ \([+-]\d").all()


def test_customer_value_ranks_the_year_that_followed(retained):
    ev = retained["customer_value_evaluation"].iloc[0]
    assert ev["spearman_clv_spend"] > 0.3
    assert ev["top_decile_capture"] > 0.25
    assert 0.5 < ev["purchases_sum_ratio"] < 1.5
    value = retained["customer_value"]
    features = retained["person_features"].set_index("person_id").loc[value["person_id"]]
    bought = features["frequency"].to_numpy() > 0
    assert value.loc[~bought, "clv_12m"].isna().all()
    clv = value.loc[bought, "clv_12m"]
    assert (clv > 0).all() and np.isfinite(clv).all()
    assert value.loc[bought, "p_alive"].between(0, 1).all()


def test_winback_audience_is_dormant_or_at_risk_and_ranked(retained):
    audience = retained["winback_audience"]
    assert len(audience) > 0
    assert audience["recency_days"].between(180, 730).all()
    assert set(audience["segment"]) <= {"at_risk", "dormant"}
    assert (audience["segment"] == "dormant").eq(audience["recency_days"] >= 365).all()
    assert audience["score"].is_monotonic_decreasing
    assert audience["method"].nunique() == 1


def test_value_profile_adds_up_to_the_base(retained):
    profile = retained["value_segment_profile"]
    value = retained["customer_value"]
    assert profile["persons"].sum() == len(retained["customer_segments"])
    assert profile["clv_sum"].sum() == pytest.approx(value["clv_12m"].sum(), rel=1e-9)
    assert profile["clv_share"].sum() == pytest.approx(1.0)
    by_tier = profile.groupby("value_tier")["clv_sum"].sum() / \
        profile.groupby("value_tier")["buyers"].sum()
    assert by_tier.iloc[-1] > by_tier.iloc[0]   # the top tier's buyers are worth more


def test_winback_audience_is_worth_more_than_a_random_pick_in_the_truth(retained):
    ev = retained["winback_truth_evaluation"]
    assert ev["audience"] == len(retained["winback_audience"]) > 0
    assert ev["true_effect_random"] < ev["true_effect_audience"] <= ev["true_effect_oracle"]
