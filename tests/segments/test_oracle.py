"""The Bayes-optimal value tier on the 3,000-person world: a calibrated posterior, a ceiling
where it was measured, above every method that does not know the generator, below the bounds
that are told latent traits; and on a world with well-separated tiers it passes 0.8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from omnicrm.features import resolve_cutoff
from omnicrm.identity.golden import member_registrations
from omnicrm.pipelines.features.nodes import build_person_features
from omnicrm.segments import profiles, rules
from omnicrm.segments.evaluation import evaluate_segments, plain_kmeans_tiers, supervised_ari
from omnicrm.segments.oracle import (
    TierModel,
    latent_trait_posterior,
    map_tiers,
    order_histories,
    tier_posterior,
)
from omnicrm.synthetic.world import default_params, generate_world

REPO = Path(__file__).resolve().parents[2]
SEGMENTS = yaml.safe_load((REPO / "conf/base/parameters_segments.yml").read_text())["segments"]


def _features(world: dict) -> pd.DataFrame:
    regs = member_registrations(world["pos_members"], world["tmall_members"],
                                world["wechat_members"], world["web_members"])
    return build_person_features(world["orders"], world["order_items"], world["products"],
                                 world["events"], world["campaign_members"],
                                 world["coupon_redemptions"], regs,
                                 world["truth_records"][["record_id", "channel", "person_id"]],
                                 params={})


@pytest.fixture(scope="module")
def judged(world) -> dict:
    model = TierModel.from_params(default_params())
    cutoff = resolve_cutoff(None, world["orders"])
    histories = order_histories(world["orders"], world["truth_records"], cutoff, model.start)
    features = _features(world)
    buyers = features[features["frequency"] > 0]
    truth = world["truth_persons"].set_index("person_id").loc[buyers["person_id"]]
    post = tier_posterior(histories, model, cutoff, persons=buyers["person_id"])
    return {"model": model, "cutoff": cutoff, "histories": histories, "features": features,
            "buyers": buyers, "truth": truth, "latent": truth["value_tier"].to_numpy(),
            "posterior": post, "tiers": map_tiers(post)}


def test_posterior_is_calibrated_and_the_ceiling_is_where_it_was_measured(judged):
    post, latent, tiers = judged["posterior"], judged["latent"], judged["tiers"]
    assert np.allclose(post.sum(axis=1), 1.0)
    accuracy = float(np.mean(tiers == latent))
    # a correct posterior expects the accuracy it gets (a drifted copy of the generator's
    # constants would not); measured 0.610 expected vs 0.617 realised
    assert abs(post.max(axis=1).mean() - accuracy) < 0.03
    # measured on this world (seed 7): ARI 0.340, accuracy 0.617
    assert adjusted_rand_score(latent, tiers) == pytest.approx(0.340, abs=0.02)
    assert accuracy == pytest.approx(0.617, abs=0.02)
    # everyone within one tier of the truth but a few percent
    assert np.mean(np.abs(tiers - latent) <= 1) > 0.94
    # a person with no orders learns nothing: the prior
    nobody = tier_posterior(judged["histories"], judged["model"], judged["cutoff"],
                            persons=pd.Index(["nobody"]))
    assert np.allclose(nobody.to_numpy()[0], judged["model"].tier_share)


def test_no_method_blind_to_the_generator_beats_the_ceiling(judged):
    latent, buyers = judged["latent"], judged["buyers"]
    ceiling = adjusted_rand_score(latent, judged["tiers"])
    ours = profiles._model(SEGMENTS).fit(judged["features"]).predict(buyers)
    assert adjusted_rand_score(latent, ours) < ceiling
    assert supervised_ari(buyers, latent) < ceiling      # LDA told the tiers (cross-validated)
    assert adjusted_rand_score(latent, plain_kmeans_tiers(buyers, 6)) < ceiling
    # ours gets most of the way: measured 0.319 of 0.340
    assert adjusted_rand_score(latent, ours) > 0.9 * ceiling


def test_bounds_that_know_latent_traits_sit_above_the_ceiling(judged):
    latent, truth = judged["latent"], judged["truth"]
    ceiling = adjusted_rand_score(latent, judged["tiers"])
    seen = latent_trait_posterior(truth, judged["model"],
                                  judged["histories"].reindex(judged["buyers"]["person_id"]))
    infinite = latent_trait_posterior(truth, judged["model"])
    seen_ari = adjusted_rand_score(latent, map_tiers(seen))
    infinite_ari = adjusted_rand_score(latent, map_tiers(infinite))
    # measured 0.340 < 0.474 < 0.847
    assert ceiling + 0.08 < seen_ari < infinite_ari - 0.2
    assert infinite_ari == pytest.approx(0.847, abs=0.03)


def test_evaluation_reports_the_ceiling_next_to_our_ari(judged, world):
    f = judged["features"]
    segments = rules.assign_segments(f, profiles._model(SEGMENTS).fit(f), SEGMENTS)
    ev = evaluate_segments(f, segments, world["truth_persons"], SEGMENTS,
                           truth_records=world["truth_records"], orders=world["orders"],
                           synthetic=default_params())[0]
    assert ev["bayes_ceiling_ari_buyers"] == pytest.approx(
        adjusted_rand_score(judged["latent"], judged["tiers"]))
    assert (ev["plain_kmeans_ari_buyers"] < ev["value_tier_ari_buyers"]
            < ev["bayes_ceiling_ari_buyers"] < ev["trait_bound_ari_buyers"]
            < ev["infinite_orders_ari_buyers"])


def test_well_separated_tiers_make_the_target_reachable():
    """The decision note's lever: basket medians 2.5x further apart in log (adjacent tiers
    ~2.7x apart instead of ~1.45x) lift the ceiling from 0.34 to 0.76 on this world (measured;
    0.79 at 10,000 persons), and our tiers follow it (0.760)."""
    base = default_params()
    med = np.log(np.asarray(base["basket_median"], float))
    wide = [float(x) for x in np.exp(med.mean() + 2.5 * (med - med.mean()))]
    world = generate_world(persons=3000, seed=7, overrides={"basket_median": wide})
    f = _features(world)
    segments = rules.assign_segments(f, profiles._model(SEGMENTS).fit(f), SEGMENTS)
    ev = evaluate_segments(f, segments, world["truth_persons"], SEGMENTS,
                           truth_records=world["truth_records"], orders=world["orders"],
                           synthetic={**base, "basket_median": wide})[0]
    assert ev["bayes_ceiling_ari_buyers"] > 0.75
    assert ev["value_tier_ari_buyers"] > 0.95 * ev["bayes_ceiling_ari_buyers"]


def test_the_ceiling_follows_a_latent_trait_parameter_of_the_generator():
    """The oracle reads ``synthetic.latent`` as the generator does: a world whose persons'
    mean baskets scatter less around their tier's median (sd 0.12 -> 0.03) has a higher
    ceiling, and the posterior built from those same parameters stays calibrated there."""
    params = {**default_params()}
    params["latent"] = {**params["latent"], "basket_person_sd": 0.03}
    world = generate_world(persons=3000, seed=7, params=params)
    model = TierModel.from_params(params)
    assert model.basket_person_sd == 0.03
    cutoff = resolve_cutoff(None, world["orders"])
    histories = order_histories(world["orders"], world["truth_records"], cutoff, model.start)
    buyers = histories.index[histories["n"] > 0]
    latent = world["truth_persons"].set_index("person_id").loc[buyers, "value_tier"].to_numpy()
    post = tier_posterior(histories, model, cutoff, persons=buyers)
    tiers = map_tiers(post)
    assert abs(post.max(axis=1).mean() - np.mean(tiers == latent)) < 0.03   # calibrated
    # measured on the default world (seed 7): 0.340
    assert adjusted_rand_score(latent, tiers) > 0.340 + 0.03
