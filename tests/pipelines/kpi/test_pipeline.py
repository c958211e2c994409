"""The kpi pipeline on the 3,000-person world: its figures against plain pandas on the raw
tables and against the segments pipeline's own lifecycle stages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.kpi import stages_at
from omnicrm.pipelines.kpi import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


@pytest.fixture(scope="module")
def kpis(upstream, fast_parameters):
    pipeline = create_pipeline()
    return run_in_memory(pipeline, inputs_of(pipeline, upstream), fast_parameters)


def test_weekly_sales_and_buyers_match_a_plain_count(kpis, upstream):
    week = kpis["kpi_weekly"]
    orders = upstream["orders"].merge(upstream["person_index"][["record_id", "person_id"]],
                                      on="record_id")
    start = pd.to_datetime(orders["ordered_at"]).dt.normalize()
    orders["week"] = (start - pd.to_timedelta(start.dt.weekday, unit="D")).dt.date
    plain = orders.groupby("week").agg(sales=("paid_amount", "sum"),
                                       buyers=("person_id", "nunique"))
    overall = week[week["slice"] == "all"].set_index("period_start")
    assert len(overall) >= 50
    np.testing.assert_allclose(overall["sales"], plain.loc[overall.index, "sales"], atol=0.01)
    assert (overall["buyers"] == plain.loc[overall.index, "buyers"]).all()
    by_channel = week[week["slice"] == "channel"].groupby("period_start")["sales"].sum()
    np.testing.assert_allclose(by_channel.loc[overall.index], overall["sales"], atol=0.05)
    bridge = kpis["kpi_sales_bridge"]
    parts = np.round(bridge[["from_visitors", "from_conversion", "from_aov"]].to_numpy() * 100)
    assert (parts.sum(axis=1) == np.round(bridge["change"].to_numpy() * 100)).all()
    split = np.round(bridge[["from_new_buyers", "from_returning_buyers"]].to_numpy() * 100)
    assert (split.sum(axis=1) == np.round(bridge["change"].to_numpy() * 100)).all()


def test_stages_at_the_feature_cutoff_are_the_segments_pipelines_stages(upstream,
                                                                        fast_parameters):
    segments = upstream["customer_segments"]
    cutoff = pd.Timestamp(segments["cutoff_date"].iloc[0])
    tables = {"orders": upstream["orders"], "events": upstream["events"],
              "registrations": upstream["member_registrations"],
              "person_index": upstream["person_index"][["record_id", "person_id"]]}
    stages = stages_at(tables, [cutoff], fast_parameters["segments"]["lifecycle"], 365)
    both = stages.merge(segments[["person_id", "lifecycle_stage"]], on="person_id",
                        suffixes=("", "_segments"))
    assert len(both) >= 0.95 * len(segments)
    assert (both["lifecycle_stage"] == both["lifecycle_stage_segments"]).all()


def test_oneid_health_matches_the_truths_cross_channel_share(kpis, upstream):
    health = kpis["kpi_oneid_health"].iloc[-1]
    regs = upstream["member_registrations"]
    end = pd.Timestamp(health["period_end"])
    truth = upstream["truth_records"].merge(regs[["record_id", "registered_at"]], on="record_id")
    truth = truth[pd.to_datetime(truth["registered_at"]) < end]
    channels = truth.groupby("person_id")["channel"].nunique()
    assert health["persons"] == len(channels)
    assert health["cross_channel_share"] == pytest.approx((channels >= 2).mean())
    assert set(kpis["kpi_targets"]["status"]) <= {"met", "missed", "no data"}
    assert kpis["kpi_metrics"]["kpi.sales"]["value"] > 0
