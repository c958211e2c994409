"""The segments pipeline on an in-memory catalog, with its evaluation node: every person
segmented, six tiers ordered by spend, and the tiers judged against the world's latent tier
below the Bayes ceiling."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.pipelines.segments import create_pipeline
from omnicrm.segments.rules import BUYER_STAGES
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


@pytest.fixture(scope="module")
def out(upstream, fast_parameters) -> dict:
    pipeline = create_pipeline()
    return run_in_memory(pipeline, inputs_of(pipeline, upstream), fast_parameters)


def test_segments_and_their_evaluation(upstream, out):
    features = upstream["person_features"]
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
    # the tiers' demographics: known shares, every tier located
    assert profile["female_share"].between(0.3, 0.7).all()
    assert profile["mean_city_tier"].between(1, 3).all()
    assert (profile["top_provinces"].str.len() > 0).all()


def test_rfm_grid_on_the_world(upstream, out):
    """Every person in one cell; buyers' R scores are quintiles of recency; the champions
    are the recent big spenders and the lost the long-gone one-order buyers."""
    features = upstream["person_features"].set_index("person_id")
    rfm = out["customer_rfm"].set_index("person_id")
    assert rfm.index.tolist() == features.index.tolist()
    buyer = features["frequency"] > 0
    assert (rfm.loc[~buyer, "rfm_cell"] == "no_purchase").all()
    r = rfm.loc[buyer, "r_score"].value_counts(normalize=True)
    assert r.between(0.17, 0.23).all()                      # quintiles
    cells = rfm.loc[buyer].groupby("rfm_cell")
    assert cells["recency_days"].median()["champions"] < cells["recency_days"].median()["lost"]
    assert (rfm.loc[rfm["rfm_cell"] == "lost", "frequency"] == 1).all()
    assert (rfm["lifecycle_stage"] == out["customer_segments"].set_index("person_id")
            ["lifecycle_stage"]).all()
    profile = out["rfm_profile"].set_index("rfm_cell")
    assert profile["persons"].sum() == len(rfm)
    assert abs(profile["spend_share"].sum() - 1) < 1e-9
    assert profile.loc["champions", "spend_share"] > 0.3  # the top of a skewed base
    assert set(profile.index[profile["persons"] > 0]) >= {"champions", "loyal", "at_risk",
                                                          "hibernating", "lost", "new"}
    assert out["rfm_grid_plot"].axes


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
