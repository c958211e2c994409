"""Segments on the small world: tiers ordered by value and close to the latent tier, stable
under resampling, better than plain k-means; lifecycle rules, tags and the evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from omnicrm.identity.golden import member_registrations
from omnicrm.pipelines.features.nodes import build_person_features
from omnicrm.pipelines.segments import nodes
from omnicrm.segments.evaluation import evaluate_segments

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def params() -> dict:
    p = yaml.safe_load((REPO / "conf/base/parameters_segments.yml").read_text())["segments"]
    return {**p, "bootstrap_rounds": 5}


@pytest.fixture(scope="module")
def features(world) -> pd.DataFrame:
    index = world["truth_records"][["record_id", "channel", "person_id"]]
    regs = member_registrations(world["pos_members"], world["tmall_members"],
                                world["wechat_members"], world["web_members"])
    return build_person_features(world["orders"], world["order_items"], world["products"],
                                 world["events"], world["campaign_members"],
                                 world["coupon_redemptions"], regs, index, params={})


@pytest.fixture(scope="module")
def fitted(features, params):
    return nodes.fit_value_tiers(features, params)


@pytest.fixture(scope="module")
def segments(features, fitted, params) -> pd.DataFrame:
    return nodes.assign_segments(features, fitted[0], params)


@pytest.fixture(scope="module")
def evaluation(features, segments, world, params) -> dict:
    from omnicrm.synthetic.world import default_params

    return evaluate_segments(features, segments, world["truth_persons"], params,
                             truth_records=world["truth_records"], orders=world["orders"],
                             synthetic=default_params())[0]


def test_segment_table_has_one_row_per_person_with_named_ordered_tiers(features, segments):
    assert list(segments["person_id"]) == list(features["person_id"])
    assert set(segments["value_tier"]) == set(range(6))
    names = segments.drop_duplicates("value_tier").set_index("value_tier")["value_tier_name"]
    assert names.sort_index().tolist() == ["low A", "low B", "mid-low", "mid", "high",
                                           "very high"]
    assert (segments.loc[features["frequency"] == 0, "value_tier"] == 0).all()
    for col in ("lifecycle_stage", "rfm_state", "tag_price_sensitive", "tag_trend_chaser",
                "preferred_category", "preferred_colour", "preferred_style",
                "preferred_channel", "shopping_hour"):
        assert col in segments


def test_tier_profile_rises_from_low_to_very_high(features, segments, params):
    prof = nodes.profile_value_tiers(features, segments, params)
    assert prof["value_tier"].tolist() == list(range(6))
    buyers_only = prof.iloc[1:]  # tier 0 also holds the non-buyers
    assert buyers_only["avg_order_value"].is_monotonic_increasing
    assert buyers_only["spend_year"].iloc[-1] > 3 * buyers_only["spend_year"].iloc[0]
    assert prof["persons"].sum() == len(features)
    assert prof["top_categories"].str.count(",").eq(2).all()


def test_tiers_recover_the_latent_tier_as_far_as_the_data_reveals_it(fitted, evaluation):
    metrics = {k.removeprefix("value_tiers."): v["value"] for k, v in fitted[1].items()}
    assert metrics["silhouette"] > 0.3
    # measured 0.92 over 10 rounds (0.80 when the centres were fitted on all buyers)
    assert metrics["bootstrap_ari_mean"] > 0.85
    # the world's noise caps what any method reaches from the observables: the Bayes-optimal
    # tiers (the generator's own model) get 0.340 ARI here, LDA told the tiers 0.328; ours
    # 0.319 (0.272 when fitted on all buyers), plain k-means 0.158
    assert evaluation["value_tier_ari_buyers"] > 0.9 * evaluation["bayes_ceiling_ari_buyers"]
    assert evaluation["value_tier_ari_buyers"] < evaluation["bayes_ceiling_ari_buyers"]
    assert evaluation["value_tier_ari_buyers"] > evaluation["plain_kmeans_ari_buyers"] + 0.12
    assert evaluation["value_tier_accuracy_buyers"] > 0.55       # Bayes: 0.617, chance ~0.2
    assert evaluation["value_tier_spearman_buyers"] > 0.85
    assert evaluation["adjacent_tier_accuracy_buyers"] > 0.93


def test_lifecycle_stages_follow_the_rules_and_the_truth(features, segments, params,
                                                         evaluation):
    s = segments.set_index("person_id")
    f = features.set_index("person_id")
    lc = params["lifecycle"]
    assert (s.loc[f["recency_days"] > lc["lost_days"], "lifecycle_stage"] == "lost").all()
    dormant = f["recency_days"].between(lc["dormant_days"], lc["lost_days"], inclusive="right")
    assert (s.loc[dormant, "lifecycle_stage"] == "dormant").all()
    never = f["frequency"] == 0
    assert s.loc[never, "lifecycle_stage"].isin(["aware", "interested", "registered"]).all()
    assert (s.loc[never, "rfm_state"] == "no_purchase").all()
    recent = f["recency_days"] <= lc["dormant_days"]
    loyal = s["lifecycle_stage"] == "loyal"
    assert (f.loc[loyal & recent, "baskets_year"] >= lc["loyal_min_orders"]).sum() > 0
    assert set(s["lifecycle_stage"]) == {"aware", "interested", "registered", "purchased",
                                         "loyal", "dormant", "lost"}
    assert set(s["rfm_state"]) == {"no_purchase", "new", "active", "at_risk", "lapsed"}
    # dormant/lost buyers are mostly the ones who truly dropped out
    assert evaluation["lifecycle_churn_accuracy_buyers"] > 0.75


def test_tags_track_the_latent_traits(evaluation, segments):
    assert evaluation["price_sensitive_score_corr"] > 0.3
    assert evaluation["preferred_category_accuracy"] > 0.4   # chance: 1/8
    assert evaluation["preferred_colour_accuracy"] > 0.2     # chance: 1/8
    assert evaluation["trend_chaser_precision"] > evaluation["trend_chaser_base_rate"]
    assert 0.05 < segments["tag_price_sensitive"].mean() < 0.6


def test_plots_draw(features, segments, params):
    prof = nodes.profile_value_tiers(features, segments, params)
    fig = nodes.plot_tier_profiles(prof)
    assert len(fig.axes) == 5
    fig2 = nodes.plot_segment_map(features, segments)
    assert len(fig2.axes) >= 2
    import matplotlib.pyplot as plt

    plt.close("all")


def test_model_scales_by_fitting_on_a_sample(features, params):
    from omnicrm.segments.tiers import ValueTierModel

    big = ValueTierModel(fit_sample=100_000).fit(features)
    small = ValueTierModel(fit_sample=400).fit(features)   # of the ~1,100 with 3+ orders
    from sklearn.metrics import adjusted_rand_score

    buyers = features[features["frequency"] > 0]
    assert adjusted_rand_score(big.predict(buyers), small.predict(buyers)) > 0.6
    assert np.all(np.diff(big.cluster_centers_.sum(axis=1)) > 0)
