"""The campaign training set against the world's own record of each campaign."""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_one_row_per_member_with_the_arm_it_was_given(world, training):
    data, _ = training
    members = world["campaign_members"]
    assert len(data) == len(members)  # perfect identity: one member per person and campaign
    offers = world["campaign_offers"].set_index(["campaign_id", "arm"])
    t = data[data["treated"] == 1]
    expect = offers.loc[list(zip(t["campaign_id"], t["arm"], strict=True))]
    assert np.array_equal(t["coupon_threshold"].to_numpy(), expect["coupon_threshold"].to_numpy())
    assert np.array_equal(t["discount"].to_numpy(), expect["discount"].to_numpy())
    assert (data.loc[data["treated"] == 0, ["coupon_threshold", "discount"]] == 0).all().all()


def test_outcomes_match_what_the_world_drew(world, training):
    """Whether a member bought in the window is the world's own draw (truth_campaign_outcomes
    'bought'); our outcome comes from the orders table alone."""
    data, _ = training
    truth = world["truth_campaign_outcomes"][["campaign_id", "person_id", "bought"]]
    m = data.merge(truth, on=["campaign_id", "person_id"], suffixes=("", "_true"))
    assert len(m) == len(data)
    agree = float(((m["bought"] > 0) == m["bought_true"].astype(bool)).mean())
    assert agree > 0.99, agree
    # margin is gross margin on the basket before the coupon, minus the coupon
    b = data[data["bought"] > 0]
    assert np.allclose(b["margin"], 0.45 * b["basket"] - b["coupon"])
    # only treated members redeem coupons
    assert data.loc[data["treated"] == 0, "coupon"].sum() == 0
    assert data.loc[data["treated"] == 1, "redeemed"].sum() > 0


def test_features_are_from_strictly_before_the_assignment(world, training):
    data, _ = training
    assert (pd.to_datetime(data["cutoff_date"]) <= pd.to_datetime(data["assigned_at"])).all()
    assert (pd.to_datetime(data["cutoff_date"]) < data["window_start"]).all()
    # campaigns_treated counts earlier campaigns only, never the one being learnt from
    m = world["campaign_members"].merge(world["truth_records"][["record_id", "person_id"]])
    m = m.merge(world["campaigns"][["campaign_id", "start_date"]])
    row = data.sort_values("window_start").groupby("person_id").tail(1).iloc[:200]
    for r in row.itertuples():
        earlier = m[(m["person_id"] == r.person_id) & (m["start_date"] < r.window_start)
                    & (m["group"] == "treatment")]
        assert r.campaigns_treated == len(earlier)


def test_observed_uplift_matches_the_true_uplift(world, training):
    """Treatment minus control conversion in our table is an unbiased estimate of the true
    average effect (truth: p_buy_treated - p_buy_control)."""
    data, _ = training
    observed = data.loc[data["treated"] == 1, "bought"].mean() - \
        data.loc[data["treated"] == 0, "bought"].mean()
    t = world["truth_campaign_outcomes"]
    true = (t["p_buy_treated"] - t["p_buy_control"])[t["group"] == "treatment"].mean()
    se = np.sqrt(0.07 * 0.93 / (data["treated"] == 1).sum()
                 + 0.04 * 0.96 / (data["treated"] == 0).sum())
    assert abs(observed - true) < 3 * se, (observed, true, se)
