"""The segments pipeline on an in-memory catalog, with its evaluation node: every person
segmented, six tiers ordered by spend, and the tiers judged against the world's latent tier
below the Bayes ceiling."""

from __future__ import annotations

from omnicrm.contracts import CHANNELS
from omnicrm.identity.golden import member_registrations
from omnicrm.pipelines.features import create_pipeline as features_pipeline
from omnicrm.pipelines.segments import create_pipeline
from tests.conftest import run_in_memory


def test_segments_and_their_evaluation(world, parameters):
    index = world["truth_records"][["record_id", "channel", "person_id"]]
    inputs = {name: world[name] for name in ("orders", "order_items", "products", "events",
                                             "campaign_members", "coupon_redemptions")}
    inputs["member_registrations"] = member_registrations(
        *(world[f"{c}_members"] for c in CHANNELS))
    inputs["person_index"] = index
    features = run_in_memory(features_pipeline(), inputs, parameters)["person_features"]
    params = {**parameters, "segments": {**parameters["segments"], "bootstrap_rounds": 2}}
    out = run_in_memory(create_pipeline(), {
        "person_features": features, "truth_persons": world["truth_persons"],
        "person_index": index, "truth_records": world["truth_records"],
        "orders": world["orders"]}, params)
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
