"""Nodes of the journeys pipeline: the logic is in omnicrm.journeys."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.campaign import member_key_table
from omnicrm.campaign.settings import campaign_settings
from omnicrm.journeys import journey_audience
from omnicrm.journeys.settings import journey_settings
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)

EXPORT_COLUMNS = ["as_of", "trigger", "wave", "channel", "send_channel", "member_key",
                  "detail"]


def triggered_audiences(params: dict, campaign_params: dict, orders: pd.DataFrame,
                        events: pd.DataFrame, registrations: pd.DataFrame,
                        person_index: pd.DataFrame, campaigns: pd.DataFrame,
                        campaign_members: pd.DataFrame, campaign_sends: pd.DataFrame,
                        coupon_redemptions: pd.DataFrame, pos: pd.DataFrame,
                        tmall: pd.DataFrame, wechat: pd.DataFrame, web: pd.DataFrame):
    """Today's audience of every trigger, its campaigns, the treated members' exports (one
    CSV per day, trigger and wave, with the channel's member key) and counts as metrics."""
    s = journey_settings(params)
    audience, journey_campaigns, counts = journey_audience(
        s, orders, events, registrations, person_index, campaigns, campaign_members,
        campaign_sends, coupon_redemptions)
    keys = member_key_table({"pos": pos, "tmall": tmall, "wechat": wechat, "web": web},
                            campaign_settings(campaign_params).member_keys)
    treated = audience[audience["group"] == "treatment"].merge(
        keys[["record_id", "member_key"]], on="record_id")
    exports = {f"{pd.Timestamp(day):%Y-%m-%d}/{trigger}_wave{wave}": part[EXPORT_COLUMNS]
               for (day, trigger, wave), part in treated.groupby(["as_of", "trigger", "wave"])}
    flat = {f"{name}.{k}": float(v) for name, c in counts.items() if isinstance(c, dict)
            for k, v in c.items()}
    log.info("journeys as of %s: %s", counts["as_of"],
             {n: c for n, c in counts.items() if n != "as_of"})
    return audience, journey_campaigns, exports, mlflow_metrics(flat, finite_only=True)
