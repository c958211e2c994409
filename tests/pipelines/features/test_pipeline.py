"""The features pipeline on an in-memory catalog (the identity pipeline's outputs given at
perfect quality): one row per person, counts that add up to the raw tables."""

from __future__ import annotations

import pandas as pd

from omnicrm.features import resolve_cutoff
from omnicrm.pipelines.features import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


def test_one_row_per_registered_person_with_counts_that_add_up(identified, parameters):
    pipeline = create_pipeline()
    features = run_in_memory(pipeline, inputs_of(pipeline, identified),
                             parameters)["person_features"]
    index, regs = identified["person_index"], identified["member_registrations"]
    cutoff = resolve_cutoff(None, identified["orders"])
    registered = set(index.merge(regs[regs["registered_at"] < cutoff], on="record_id")
                     ["person_id"])
    assert features["person_id"].is_unique and set(features["person_id"]) == registered
    assert (features["cutoff_date"] == cutoff).all()
    orders = identified["orders"]
    orders = orders[orders["ordered_at"] < cutoff].merge(index, on="record_id")
    assert features["frequency"].sum() == len(orders)
    spend = orders.groupby("person_id")["paid_amount"].sum()
    got = features.set_index("person_id")["monetary"].reindex(spend.index)
    pd.testing.assert_series_equal(got, spend, check_names=False, rtol=1e-6)
