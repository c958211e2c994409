"""The features pipeline on an in-memory catalog (the identity pipeline's outputs given at
perfect quality): one row per person, counts that add up to the raw tables."""

from __future__ import annotations

import pandas as pd

from omnicrm.contracts import CHANNELS
from omnicrm.features import resolve_cutoff
from omnicrm.identity.golden import member_registrations
from omnicrm.pipelines.features import create_pipeline
from tests.conftest import run_in_memory


def test_one_row_per_registered_person_with_counts_that_add_up(world, parameters):
    index = world["truth_records"][["record_id", "channel", "person_id"]]
    inputs = {name: world[name] for name in ("orders", "order_items", "products", "events",
                                             "campaign_members", "coupon_redemptions")}
    inputs["member_registrations"] = member_registrations(
        *(world[f"{c}_members"] for c in CHANNELS))
    inputs["person_index"] = index
    features = run_in_memory(create_pipeline(), inputs, parameters)["person_features"]
    cutoff = resolve_cutoff(None, world["orders"])
    regs = inputs["member_registrations"]
    registered = set(index.merge(regs[regs["registered_at"] < cutoff], on="record_id")
                     ["person_id"])
    assert features["person_id"].is_unique and set(features["person_id"]) == registered
    assert (features["cutoff_date"] == cutoff).all()
    orders = world["orders"][world["orders"]["ordered_at"] < cutoff].merge(index, on="record_id")
    assert features["frequency"].sum() == len(orders)
    spend = orders.groupby("person_id")["paid_amount"].sum()
    got = features.set_index("person_id")["monetary"].reindex(spend.index)
    pd.testing.assert_series_equal(got, spend, check_names=False, rtol=1e-6)
