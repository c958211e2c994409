"""The segments pipeline on an in-memory catalog, with its evaluation node: every person
segmented, six tiers ordered by spend, and the tiers judged against the world's latent tier
below the Bayes ceiling."""

from __future__ import annotations

import pandas as pd

from omnicrm.pipelines.segments import create_pipeline
from omnicrm.segments.rules import BUYER_STAGES
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


def test_segments_and_their_evaluation(upstream, fast_parameters):
    pipeline = create_pipeline()
    features = upstream["person_features"]
    out = run_in_memory(pipeline, inputs_of(pipeline, upstream), fast_parameters)
    segments = out["customer_segments"]
    assert segments["person_id"].tolist() == features["person_id"].tolist()
    profile = out["value_tier_profile"].set_index("value_tier")
    assert list(profile.index) == list(range(6))
    assert profile["spend_year"].is_monotonic_increasing
    assert profile["persons"].sum() == len(features)
    assert profile["buyers"].sum() == (features["frequency"] > 0).sum()
    ev = out["segment_evaluation"]
    assert 0.2 < ev["value_tier_ari_buyers"] < ev["bayes_ceiling_ari_buyers"] < 0.5
    assert out["segment_evaluation_metrics"]


def test_segments_as_of_each_campaign_start(upstream, fast_parameters):
    """campaign_segments: each campaign's members as of its start, so a person who first
    bought after the start is not a buyer there, and one who bought before is."""
    pipeline = create_pipeline().only_nodes("segments_at_campaign_starts")
    tables = dict(upstream)
    tables.update(run_in_memory(create_pipeline().only_nodes("fit_value_tiers"),
                                {"person_features": upstream["person_features"]},
                                fast_parameters))
    out = run_in_memory(pipeline, inputs_of(pipeline, tables), fast_parameters)
    seg = out["campaign_segments"]
    campaigns = upstream["campaigns"].set_index("campaign_id")
    assert set(seg["campaign_id"]) == set(campaigns.index)
    person_of = upstream["person_index"].set_index("record_id")["person_id"]
    orders = upstream["orders"].assign(person_id=lambda o: o["record_id"].map(person_of))
    first = orders.groupby("person_id")["ordered_at"].min()
    for cid, rows in seg.groupby("campaign_id"):
        start = pd.Timestamp(campaigns.loc[cid, "start_date"])
        assert (pd.to_datetime(rows["cutoff_date"]) == start).all()
        bought_before = rows["person_id"].map(first).lt(start).to_numpy()
        is_buyer = rows["lifecycle_stage"].isin(BUYER_STAGES).to_numpy()
        assert (bought_before == is_buyer).all(), cid
    # the last campaign's members are a later world than the first's: stages moved on
    a, b = (seg[seg["campaign_id"] == c].set_index("person_id")["lifecycle_stage"]
            for c in campaigns.sort_values("start_date").index[[0, -1]])
    both = a.index.intersection(b.index)
    assert (a[both] != b[both]).mean() > 0.1
