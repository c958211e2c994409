"""The journeys pipeline on the 3,000-person world (in memory): the day's audiences in the
raw campaign schema, their exports carrying the treated members' own channel keys only."""

from __future__ import annotations

import pandas as pd

from omnicrm.contracts import RAW_CONTRACTS, validate
from omnicrm.pipelines.journeys import create_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


def test_todays_audiences_and_their_exports(identified, fast_parameters):
    pipeline = create_pipeline()
    out = run_in_memory(pipeline, inputs_of(pipeline, identified), fast_parameters)
    audience, campaigns = out["journey_audience"], out["journey_campaigns"]
    today = pd.Timestamp("2026-11-01")  # the day after the world's last order and event
    assert (audience["as_of"] == today).all()
    validate(audience, RAW_CONTRACTS["campaign_members"], max_future_days=None)
    assert set(campaigns["campaign_id"]) == set(audience["campaign_id"])
    sizes = audience.groupby("trigger").size()
    assert {"cart_abandoned", "browse_no_buy"} <= set(sizes.index) and sizes.min() >= 1
    # a new follower registered in WeChat within the last 48 hours, in the world's records
    reg = identified["member_registrations"].set_index("record_id")["registered_at"]
    followers = audience[audience["trigger"] == "new_follower"]
    assert (reg[followers["record_id"]] >= today - pd.Timedelta(hours=48)).all()
    # exports: one row per treated member, keyed by that record's own channel id
    exports = {k: v() if callable(v) else v for k, v in out["journey_exports"].items()}
    rows = pd.concat(exports.values(), ignore_index=True)
    treated = audience[audience["group"] == "treatment"]
    assert len(rows) == len(treated)
    wechat = identified["wechat_members"].set_index("openid")["record_id"]
    keyed = rows[rows["channel"] == "wechat"]
    assert set(wechat[keyed["member_key"]]) <= set(treated["record_id"])
    assert all(k.startswith("2026-11-01/") for k in exports)
    assert out["journey_metrics"]
