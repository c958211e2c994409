"""The cross-sell pipeline on an in-memory catalog (the 3,000-person world): rules overall, per
channel and per value tier, the bundle table, and the next best category judged on the
purchases that followed and against the world's true category preferences."""

from __future__ import annotations

import pytest

from omnicrm.pipelines.crosssell import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


@pytest.fixture(scope="module")
def crossed(upstream, fast_parameters) -> dict:
    pipeline = create_pipeline()
    return {**upstream, **run_in_memory(pipeline, inputs_of(pipeline, upstream),
                                        fast_parameters)}


def test_rules_overall_per_channel_and_per_value_tier(crossed):
    rules = crossed["association_rules"]
    assert set(rules["level"]) == {"category", "sku"}
    assert {"all", "channel", "value_tier"} <= set(rules["segment"])
    assert (rules["lift"] >= 1.0).all() and (rules["confidence"] >= 0.05).all()
    cat = rules[(rules["level"] == "category") & (rules["segment"] == "all")]
    assert (cat["support"] >= 0.005 - 1e-12).all()
    assert cat["confidence"].to_numpy() == pytest.approx(
        (cat["support"] / cat["antecedent_support"]).to_numpy())
    assert cat["lift"].to_numpy() == pytest.approx(
        (cat["confidence"] / cat["consequent_support"]).to_numpy())
    bundles = crossed["bundle_suggestions"]
    assert len(bundles) > 0 and set(bundles["size"]) <= {2, 3}
    assert bundles["joint_margin"].is_monotonic_decreasing
    assert bundles["unit_margin"].to_numpy() == pytest.approx(
        0.45 * bundles["unit_price"].to_numpy())


def test_next_best_categories_are_unbought_and_ranked(crossed):
    top = crossed["next_best_categories"]
    features = crossed["person_features"].set_index("person_id")
    shares = features.loc[top["person_id"]]
    bought = [shares[f"category_share_{c}"].iloc[i] > 0 for i, c in enumerate(top["category"])]
    assert not any(bought)
    assert top.groupby("person_id")["rank"].max().max() == 3
    assert top.groupby("person_id")["score"].apply(lambda s: s.is_monotonic_decreasing).all()


def test_next_best_against_held_out_purchases_and_the_truth(crossed):
    table = crossed["next_best_evaluation"].set_index("method")
    assert set(table.index) == {"propensity", "item_item", "most_popular", "rules",
                                "propensity_browse"}
    assert table["persons"].iloc[0] > 50
    # measured on this world: browse carries the person's taste, purchases alone barely do
    assert table.loc["propensity_browse", "ndcg_at_3"] > table.loc["most_popular", "ndcg_at_3"]
    truth = crossed["next_best_truth_evaluation"]
    assert truth["propensity_browse.accuracy_at_1"] > 1.5 * truth["random.accuracy_at_1"]
    assert truth["propensity_browse.accuracy_at_3"] > truth["random.accuracy_at_3"] + 0.08
    assert truth["persons"] > 2000
