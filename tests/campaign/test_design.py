"""Campaign design on hand-made members: the holdout's size against statsmodels' power, the
blocked stratified draw, the global holdout, the exports and the briefs that must stop."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from omnicrm.campaign import (
    CampaignDesignError,
    assign_groups,
    control_share_for,
    design_campaign,
    in_global_holdout,
)
from omnicrm.campaign.settings import CampaignSettings

TIERS, STAGES = ("high", "mid", "low"), ("new", "active", "dormant")


def _power(p_t, p_c, n_t, n_c, alpha):
    return NormalIndPower().power(proportion_effectsize(p_t, p_c), nobs1=n_t, alpha=alpha,
                                  ratio=n_c / n_t)


@pytest.mark.parametrize("baseline, mde, n, arms", [(0.05, 0.3, 20_000, 1),
                                                    (0.05, 0.3, 40_000, 3),
                                                    (0.12, 0.15, 30_000, 2)])
def test_control_share_is_the_smallest_with_the_power_statsmodels_gives(baseline, mde, n, arms):
    share, detectable = control_share_for(baseline, mde, n, arms, 0.05, 0.8, 0.02, 0.5)
    assert share is not None and 0.02 <= share <= 0.5
    p_t = baseline * (1 + mde)
    assert _power(p_t, baseline, n * (1 - share) / arms, n * share, 0.05) >= 0.8
    if share > 0.02:
        less = share - 0.005
        assert _power(p_t, baseline, n * (1 - less) / arms, n * less, 0.05) < 0.8
    assert detectable <= mde + 1e-6  # what it can detect is at least as small as asked
    assert _power(baseline * (1 + detectable), baseline, n * (1 - share) / arms, n * share,
                  0.05) == pytest.approx(0.8, abs=1e-3)


def test_too_small_an_audience_says_what_it_can_detect():
    share, detectable = control_share_for(0.05, 0.1, 2_000, 1, 0.05, 0.8, 0.02, 0.5)
    assert share is None
    n = 1000  # at a 50% control share
    assert _power(0.05 * (1 + detectable), 0.05, n, n, 0.05) == pytest.approx(0.8, abs=1e-3)


def _people(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"person_id": [f"P{i:05d}" for i in range(n)],
                         "value_tier_name": rng.choice(TIERS, n, p=[0.2, 0.3, 0.5]),
                         "lifecycle_stage": rng.choice(STAGES, n),
                         "recency_days": rng.exponential(60, n),
                         "monetary": rng.gamma(2, 200, n)})


def test_each_stratum_holds_the_share_and_equal_arms_whatever_the_row_order():
    people = _people()
    strata = ["value_tier_name", "lifecycle_stage"]
    g = assign_groups(people, strata, 0.2, ["A", "B", "C"], seed=7)
    for _, cell in g.groupby("stratum"):
        assert abs((cell["group"] == "control").sum() - 0.2 * len(cell)) <= 0.5
        arms = cell.loc[cell["group"] == "treatment", "arm"].value_counts()
        assert set(arms.index) == {"A", "B", "C"} and arms.max() - arms.min() <= 1
    shuffled = assign_groups(people.sample(frac=1, random_state=3), strata, 0.2,
                             ["A", "B", "C"], seed=7)
    pd.testing.assert_frame_equal(g, shuffled)
    other = assign_groups(people, strata, 0.2, ["A", "B", "C"], seed=8)
    assert (other["group"] != g["group"]).mean() > 0.2  # the seed draws another holdout
    assert g.loc[g["group"] == "control", "arm"].isna().all()


def test_the_global_holdout_is_persistent_within_a_season():
    ids = _people(20_000)["person_id"]
    h = in_global_holdout(ids, 0.05, "2026H2")
    assert 0.045 < h.mean() < 0.055
    assert (in_global_holdout(ids[::-1], 0.05, "2026H2") == h[::-1]).all()
    assert (in_global_holdout(ids, 0.05, "2027H1") != h).sum() > 0.05 * len(ids)


def _settings(**brief) -> CampaignSettings:
    base = {
        "campaign_id": "N001", "campaign_name": "autumn", "audience": "segment",
        "segment": {"lifecycle_stage": ["active", "dormant"]},
        "arms": [{"arm": "A", "coupon_threshold": 200, "discount": 20},
                 {"arm": "B", "coupon_threshold": 300, "discount": 40}],
        "budget": 1e6,
        "waves": [{"wave": 1, "channel": "wechat", "send_channel": "wechat",
                   "send_on": "2026-12-10", "audience": "all"},
                  {"wave": 2, "channel": "pos", "send_channel": "sms",
                   "send_on": "2026-12-12", "audience": "non_openers"}],
        "start_date": "2026-12-10", "end_date": "2026-12-24", "baseline_conversion": 0.2,
        "mde_relative": 0.25, "power": 0.8, "alpha": 0.05, "allow_overlap": False,
        "expected_redemption": 0.2, "cost_per_member": 0.3}
    base.update(brief)
    return CampaignSettings.model_validate({
        "brief": base, "stratify": {"columns": ["value_tier_name", "lifecycle_stage"],
                                    "seed": 11},
        "global_holdout": {"share": 0.05, "season": "2026H2"},
        "min_control_share": 0.05, "max_control_share": 0.5, "frequency_cap": 4,
        "frequency_window_days": 30,
        "member_keys": {"pos": "member_card_no", "wechat": "openid"},
        "balance_covariates": ["recency_days", "monetary", "value_tier_name"],
        "smd_threshold": 0.1})


@pytest.fixture
def inputs():
    people = _people()
    n = len(people)
    index = pd.DataFrame({"record_id": [f"W{i}" for i in range(n)] + [f"S{i}" for i in
                                                                       range(0, n, 2)],
                          "person_id": list(people["person_id"])
                          + list(people["person_id"][::2])})
    index["channel"] = np.where(index["record_id"].str.startswith("W"), "wechat", "pos")
    keys = index.assign(member_key=np.where(index["channel"] == "wechat",
                                            "o-" + index["record_id"], "card-"
                                            + index["record_id"]))[
        ["record_id", "channel", "member_key"]]
    keys.loc[keys.index[:100], "member_key"] = None  # unreachable there
    past = pd.DataFrame({"campaign_id": ["C1"], "campaign_name": ["old"],
                         "start_date": [dt.date(2026, 12, 1)], "end_date": [dt.date(2026, 12, 15)],
                         "control_share": [0.2], "audience_rule": ["x"]})
    busy = pd.DataFrame({"campaign_id": "C1", "record_id": [f"W{i}" for i in range(300)],
                         "group": "treatment", "arm": "A",
                         "assigned_at": pd.Timestamp("2026-11-30")})
    sends = pd.DataFrame({"campaign_id": "C1",
                          "record_id": np.repeat([f"W{i}" for i in range(300, 400)], 3),
                          "wave": np.tile([1, 2, 3], 100), "send_channel": "wechat",
                          "sent_at": pd.Timestamp("2026-12-01"), "opened_at": pd.NaT,
                          "clicked_at": pd.NaT})
    orders = pd.DataFrame({"record_id": ["W1"], "ordered_at": [pd.Timestamp("2026-12-02")]})
    return dict(people=people, coupon_plan=pd.DataFrame(columns=["person_id",
                                                                 "coupon_threshold",
                                                                 "uplift_score"]),
                person_index=index, member_keys=keys, campaigns=past,
                campaign_members=busy, campaign_sends=sends, orders=orders,
                now=pd.Timestamp("2026-12-03 10:00"))


def test_a_design_holds_out_a_balanced_control_and_never_exports_it(inputs):
    out = design_campaign(_settings(), **inputs)
    members, summary = out["campaign_members"], out["design_summary"].iloc[0]
    assert list(members.columns) == ["campaign_id", "record_id", "group", "arm", "assigned_at"]
    assert members["record_id"].is_unique
    people = inputs["people"]
    eligible = people[people["lifecycle_stage"].isin(["active", "dormant"])]
    assert summary["candidates"] == len(eligible)
    # left out: no wechat/pos key, the global holdout, members of the concurrent C1, the cap
    person_of = inputs["person_index"].set_index("record_id")["person_id"]
    chosen = set(person_of[members["record_id"]])
    assert not chosen & set(person_of[[f"W{i}" for i in range(400)]])
    assert summary["in_concurrent_campaigns"] > 0 and summary["over_frequency_cap"] > 0
    held = in_global_holdout(eligible["person_id"], 0.05, "2026H2")
    assert not chosen & set(eligible.loc[held, "person_id"])
    share = summary["control_share"]
    assert abs((members["group"] == "control").mean() - share) < 0.01
    p_t = 0.2 * 1.25
    n_t = (members["group"] == "treatment").sum() / 2
    assert _power(p_t, 0.2, n_t, (members["group"] == "control").sum(), 0.05) >= 0.8
    exports = out["exports"]
    assert set(exports["wave"]) == {1}  # wave 2 goes to non-openers, known after wave 1
    control_keys = set(inputs["member_keys"].set_index("record_id").loc[
        members.loc[members["group"] == "control", "record_id"], "member_key"])
    assert not set(exports["member_key"]) & control_keys
    assert len(exports) == (members["group"] == "treatment").sum()
    assert out["design_checks"]["passed"].all(), out["design_checks"]
    assert out["campaigns"]["control_share"].iloc[0] == share
    again = design_campaign(_settings(), **inputs)
    pd.testing.assert_frame_equal(again["campaign_members"], members)


def test_the_budget_caps_the_treated(inputs):
    out = design_campaign(_settings(budget=15000.0), **inputs)
    s = out["design_summary"].iloc[0]
    assert s["expected_cost"] <= 15000 and s["over_budget"] > 0
    assert out["design_checks"].set_index("check").loc["expected cost within budget", "passed"]


@pytest.mark.parametrize("brief, message", [
    ({"budget": 2.0}, "below the expected cost of one treated member"),
    ({"campaign_id": "C1"}, "campaign C1 already exists"),
    ({"mde_relative": 0.02}, "cannot detect a 2% relative lift"),
    ({"budget": 300.0}, "too few to detect"),
])
def test_bad_briefs_stop_with_one_clear_message(inputs, brief, message):
    with pytest.raises(CampaignDesignError, match=message):
        design_campaign(_settings(**brief), **inputs)


def test_a_brief_overlapping_a_campaign_that_holds_everyone_names_it(inputs):
    members = inputs["campaign_members"]
    inputs["campaign_members"] = pd.concat([members.iloc[:0], pd.DataFrame({
        "campaign_id": "C1", "record_id": inputs["person_index"]["record_id"],
        "group": "treatment", "arm": "A", "assigned_at": pd.Timestamp("2026-11-30")})])
    with pytest.raises(CampaignDesignError, match="members of the concurrent campaign.s. C1 "
                                                  "were left out .allow_overlap: true"):
        design_campaign(_settings(), **inputs)


@pytest.mark.parametrize("brief, message", [
    ({"end_date": "2026-12-01"}, "before start_date"),
    ({"arms": [{"arm": "A", "coupon_threshold": 1, "discount": 1}] * 2}, "arm names repeat"),
    ({"arms": [{"arm": "A", "coupon_threshold": 1, "discount": 1, "colour": "red"}]}, "colour"),
])
def test_malformed_briefs_fail_when_read(brief, message):
    with pytest.raises(ValueError, match=message):
        _settings(**brief)
