"""The segments pipeline on an in-memory catalog, with its evaluation node: every person
segmented, six tiers ordered by spend, and the tiers judged against the world's latent tier
below the Bayes ceiling."""

from __future__ import annotations

from omnicrm.pipelines.segments import create_pipeline
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
