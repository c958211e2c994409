"""The coupon policy: the scorer's contract, and the plan's true profit on the world's
potential outcomes (truth_offer_outcomes) against the oracle and the baselines."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from omnicrm.coupon import PLAN_COLUMNS
from omnicrm.coupon.evaluation import global_best_offer, heuristic_offers, oracle_plan, true_profit


def test_recommend_contract(fitted_policy, planning_features):
    sample = planning_features.sample(300, random_state=0)
    assert fitted_policy.feature_names == list(planning_features.columns)
    rec = fitted_policy.recommend(sample)
    assert list(rec.columns) == PLAN_COLUMNS
    assert len(rec) == len(sample)
    assert rec["person_id"].tolist() == sample["person_id"].tolist()
    none = rec["coupon_threshold"] == 0
    assert (rec.loc[none, ["discount", "expected_incremental_margin", "expected_cost"]]
            == 0).all().all()
    offered = rec[~none]
    assert offered["coupon_threshold"].isin([99, 149, 199, 299]).all()
    assert (offered["discount"] < offered["coupon_threshold"]).all()
    assert (offered["expected_cost"] >= 0.3 - 1e-9).all()  # at least the sending cost
    # picklable, and the same answer after a round trip
    again = pickle.loads(pickle.dumps(fitted_policy)).recommend(sample)
    pd.testing.assert_frame_equal(rec, again)
    # row order and batch do not change a person's answer
    one = fitted_policy.recommend(sample.iloc[[5]])
    assert one.iloc[0]["coupon_threshold"] == rec.iloc[5]["coupon_threshold"]


def test_predictions_track_the_true_potential_outcomes(world, fitted_policy, planning_features):
    cand = fitted_policy.candidates(planning_features)
    truth = world["truth_offer_outcomes"]
    m = cand.merge(truth, on=["person_id", "coupon_threshold", "discount"])
    none = truth[truth["coupon_threshold"] == 0].set_index("person_id")["p_buy"]
    m["p0_true"] = m["person_id"].map(none)
    assert np.corrcoef(m["p_buy_none"], m["p0_true"])[0, 1] > 0.4
    assert np.corrcoef(m["expected_cost_x"], m["expected_cost_y"])[0, 1] > 0.4
    # per offer, averaged over the base: the expected cost and P(buy | offer) track the truth
    # (measured on this world, predicted / true: cost 1.02-1.05 for the 99 offers, 1.09 for
    # 149/50; P(buy) 0.93-0.99); the incremental margin, a small difference of large terms,
    # less so (0.87 for 99/30, 1.02 for 99/50, 0.70 for 149/50)
    by = m.groupby(["coupon_threshold", "discount"])[
        ["expected_incremental_margin", "incremental_margin", "expected_cost_x",
         "expected_cost_y", "p_buy_x", "p_buy_y"]].mean()
    top = by.loc[[(99.0, 30.0), (99.0, 50.0), (149.0, 50.0)]]
    assert (top["expected_cost_x"] / top["expected_cost_y"]).between(0.9, 1.15).all(), top
    assert (top["p_buy_x"] / top["p_buy_y"]).between(0.88, 1.1).all(), top
    ratio = top["expected_incremental_margin"] / top["incremental_margin"]
    assert ratio.between(0.6, 1.25).all(), top
    # over the whole menu: 0.98-1.30, the 299 offers (rarely chosen) the most overestimated
    whole = by["expected_cost_x"] / by["expected_cost_y"]
    assert whole.between(0.9, 1.4).all(), whole


def test_plan_beats_the_baselines_on_the_truth(world, training, fitted_policy,
                                               planning_features, coupon_params):
    """Perfect identity here, so each person is their own true person."""
    truth = world["truth_offer_outcomes"]
    ident = pd.DataFrame({"person_id": planning_features["person_id"]})
    ident["true_person_id"] = ident["person_id"]
    send = coupon_params["cost_per_offer"]
    ours = true_profit(fitted_policy.recommend(planning_features), ident, truth, send)
    oracle = true_profit(oracle_plan(truth, pd.Index(ident["person_id"])), ident, truth, send)
    x, y = global_best_offer(training[0])
    everyone = ident[["person_id"]].assign(coupon_threshold=x, discount=y)
    flat = true_profit(everyone, ident, truth, send)
    heur = true_profit(heuristic_offers(planning_features, [99, 149, 199, 299],
                                        [10, 20, 30, 50], 0.2), ident, truth, send)
    share = ours["true_incremental_margin"] / oracle["true_incremental_margin"]
    # 3,000 persons, ~8,800 campaign members to learn from: measured 0.933 (our offer
    # segments fed the true margins would reach 0.948)
    assert share > 0.9, share
    assert ours["true_incremental_margin"] > flat["true_incremental_margin"]
    assert ours["true_incremental_margin"] > heur["true_incremental_margin"]


def test_budgeted_plan_against_the_oracle_at_the_same_budget(world, fitted_policy,
                                                            planning_features, coupon_params):
    """Half the unconstrained plan's expected cost: the plan keeps to it in truth too (the
    cost model is calibrated) and earns most of what the oracle earns with that budget."""
    truth = world["truth_offer_outcomes"]
    ident = pd.DataFrame({"person_id": planning_features["person_id"]})
    ident["true_person_id"] = ident["person_id"]
    send = coupon_params["cost_per_offer"]
    full = fitted_policy.recommend(planning_features)
    budget = 0.5 * float(full["expected_cost"].sum())
    chosen, summary = fitted_policy.plan(planning_features, budget)
    assert summary["expected_cost"] <= budget + 1e-6
    assert summary["marginal_return_per_yuan"] > 0
    ours = true_profit(chosen, ident, truth, send)
    oracle = true_profit(oracle_plan(truth, pd.Index(ident["person_id"]), budget=budget),
                         ident, truth, send)
    # measured on this world: true cost 0.91 of the budget, 0.80 of the oracle's margin (the
    # oracle-fed offer segments: 0.90); before the segments chose under the budget it was 0.59
    assert 0.85 * budget <= ours["true_cost"] <= 1.1 * budget, (ours["true_cost"], budget)
    share = ours["true_incremental_margin"] / oracle["true_incremental_margin"]
    assert share > 0.75, share
    # a tighter budget prefers cheaper offers: the mean discount falls
    offered = full[full["coupon_threshold"] > 0]
    assert chosen["discount"].mean() < offered["discount"].mean()
