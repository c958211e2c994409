"""The per-campaign analysis on the 3,000-person world: every headline figure recomputed with
statsmodels / scipy from the raw tables, and the intervals against the world's true effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from omnicrm.reporting.campaign import CampaignDataError, analyse_campaign
from tests.reporting.conftest import report_tables


@pytest.fixture(scope="module")
def tables(world):
    return report_tables(world)


@pytest.fixture(scope="module")
def results(tables):
    return {cid: analyse_campaign(cid, tables) for cid in tables["campaigns"]["campaign_id"]}


def _person_outcomes(world, cid):
    """Independent recomputation: members -> persons -> orders in the campaign window."""
    c = world["campaigns"].set_index("campaign_id").loc[cid]
    rec2p = world["truth_records"].set_index("record_id")["person_id"]
    m = world["campaign_members"].query("campaign_id == @cid").copy()
    m["person_id"] = m["record_id"].map(rec2p)
    o = world["orders"].assign(person_id=world["orders"]["record_id"].map(rec2p))
    o = o[(o["ordered_at"] >= c["start_date"])
          & (o["ordered_at"] < c["end_date"] + pd.Timedelta(days=1))]
    rev = o.groupby("person_id")["paid_amount"].sum()
    m["revenue"] = m["person_id"].map(rev).fillna(0.0)
    m["converted"] = m["person_id"].isin(o["person_id"])
    return m


def test_headline_figures_match_statsmodels_and_scipy(world, results):
    cid = "C001"
    m = _person_outcomes(world, cid)
    t, c = m[m["group"] == "treatment"], m[m["group"] == "control"]
    r = results[cid]
    conv = r.lifts.loc["conversion"]
    assert (conv["n_treatment"], conv["n_control"]) == (len(t), len(c))
    counts = [int(t["converted"].sum()), len(t), int(c["converted"].sum()), len(c)]
    low, high = confint_proportions_2indep(*counts, method="wald")
    assert conv["abs_lift"] == pytest.approx(t["converted"].mean() - c["converted"].mean())
    assert (conv["abs_low"], conv["abs_high"]) == pytest.approx((low, high))
    assert conv["p_value"] == pytest.approx(
        proportions_ztest([counts[0], counts[2]], [counts[1], counts[3]])[1])
    rev = r.lifts.loc["revenue"]
    welch = sps.ttest_ind(t["revenue"], c["revenue"], equal_var=False)
    assert rev["abs_lift"] == pytest.approx(t["revenue"].mean() - c["revenue"].mean())
    assert rev["p_value"] == pytest.approx(welch.pvalue)
    assert (rev["abs_low"], rev["abs_high"]) == pytest.approx(
        tuple(welch.confidence_interval(0.95)))
    assert r.money["incremental_revenue"] == pytest.approx(rev["abs_lift"] * len(t))
    # campaign cost = coupons redeemed by the treated + 0.3 per treated member
    red = world["orders"].query("campaign_id == @cid")["coupon_discount"].sum()
    assert r.money["campaign_cost"] == pytest.approx(red + 0.3 * len(t))
    assert r.money["roi_revenue"] == pytest.approx(r.money["incremental_revenue"]
                                                   / r.money["campaign_cost"])
    # reach / open: every treated member got wave 1; opens from campaign_sends
    sends = world["campaign_sends"].query("campaign_id == @cid")
    assert r.funnel.loc["reach rate", "treatment"] == 1.0
    assert r.funnel.loc["reach rate", "control"] == 0.0
    opened = sends.groupby("record_id")["opened_at"].apply(lambda s: s.notna().any())
    assert r.funnel.loc["open rate (of reached)", "treatment"] == pytest.approx(opened.mean())
    # randomisation looks balanced and the split matches the plan
    assert r.sample_ratio["p_value"] > 0.001
    assert r.balance["balanced"].mean() >= 0.7


def test_conversion_intervals_cover_the_true_uplift_on_most_campaigns(world, results):
    truth = world["truth_campaign_outcomes"]
    covered, margin_covered = [], []
    for cid, r in results.items():
        tt = truth[truth["campaign_id"] == cid]
        true_lift = (tt["p_buy_treated"] - tt["p_buy_control"]).mean()
        true_margin = (tt["margin_treated"] - tt["margin_control"]).mean()
        conv, net = r.lifts.loc["conversion"], r.lifts.loc["net_margin"]
        covered.append(conv["abs_low"] <= true_lift <= conv["abs_high"])
        margin_covered.append(net["abs_low"] <= true_margin <= net["abs_high"])
        assert conv["abs_lift"] > -0.02  # every campaign's offer helps a little in truth
    assert sum(covered) >= len(covered) - 2, covered
    assert sum(margin_covered) >= len(margin_covered) - 2, margin_covered


def test_segments_arms_waves_repeat_and_quadrant(results):
    r = results["C001"]
    seg = r.segments
    assert set(seg["dimension"]) == {"value_tier_name", "lifecycle_stage"}
    assert (seg["p_holm"] >= seg["p_value"] - 1e-12).all()
    assert ((seg["simul_high"] - seg["simul_low"]) >= (seg["abs_high"] - seg["abs_low"])).all()
    assert seg["n_treatment"].groupby(seg["dimension"]).sum().eq(r.headline["treatment_members"]
                                                                 ).all()
    assert list(r.arms["segment"]) == ["A1", "A2", "A3"]
    assert list(r.waves["wave"]) == [1, 2]
    assert r.repeat["observable"] > 0 and 0 <= r.repeat["treatment_rate"] <= 1
    q = r.quadrant
    assert len(q) >= 2
    high_high = q[(q["conversion"] == "high") & (q["aov"] == "high")]
    assert high_high["action"].str.startswith("amplify").all()
    low_low = q[(q["conversion"] == "low") & (q["aov"] == "low")]
    assert low_low["action"].str.startswith("drop").all()
    cum = r.cumulative
    assert cum["treatment"].is_monotonic_increasing
    assert cum["treatment"].iloc[-1] == pytest.approx(r.headline["conversion_treatment"])


def test_without_person_index_outcomes_fall_back_to_records_with_a_note(tables):
    r = analyse_campaign("C001", {**tables, "person_index": None})
    assert any("No person_index" in n for n in r.notes)
    assert r.headline["treatment_members"] > 0


def test_unjudgeable_campaigns_fail_with_a_clear_reason(tables):
    members = tables["campaign_members"]
    no_control = members.assign(group=np.where(members["campaign_id"] == "C002", "treatment",
                                               members["group"]))
    with pytest.raises(CampaignDataError, match="C002: no control group"):
        analyse_campaign("C002", {**tables, "campaign_members": no_control})
    with pytest.raises(CampaignDataError, match="C003: no data"):
        analyse_campaign("C003", {**tables, "campaign_members": members[
            members["campaign_id"] != "C003"]})
    with pytest.raises(CampaignDataError, match="not in the campaigns table"):
        analyse_campaign("C999", tables)


def test_derived_lifecycle_follows_the_projects_segments_rule(tables):
    """Without customer_segments the report derives lifecycle stages from orders by the
    segments pipeline's buyer rule, with the lifecycle settings of the project the tables
    came from (load_tables passes them): a laxer 'loyal' makes more loyal members."""
    from omnicrm.reporting.campaign import build_analysis_table
    from omnicrm.segments.settings import segment_settings

    base = segment_settings().lifecycle.model_dump()
    strict, _, _ = build_analysis_table("C003", {**tables, "segments_lifecycle": base})
    lax, _, _ = build_analysis_table("C003", {**tables, "segments_lifecycle": {
        **base, "loyal_min_orders": 1, "loyal_min_spend": 0}})
    loyal = (strict["lifecycle_stage"] == "loyal").sum()
    assert 0 < loyal < (lax["lifecycle_stage"] == "loyal").sum()
    assert set(strict["lifecycle_stage"]) <= {"registered", "purchased", "loyal", "dormant",
                                             "lost"}
    with pytest.raises(ValueError, match="segments.lifecycle.loyal_min_orderz"):
        build_analysis_table("C003", {**tables, "segments_lifecycle": {
            **{k: v for k, v in base.items() if k != "loyal_min_orders"},
            "loyal_min_orderz": 1}})
