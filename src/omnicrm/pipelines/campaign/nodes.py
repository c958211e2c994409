"""Nodes of the campaign pipeline: the logic is in omnicrm.campaign."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.campaign import design_campaign, member_key_table
from omnicrm.campaign.settings import campaign_settings
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)


def member_keys(pos: pd.DataFrame, tmall: pd.DataFrame, wechat: pd.DataFrame,
                web: pd.DataFrame, params: dict) -> pd.DataFrame:
    """record_id, channel, member_key: each record's id in its own channel's tool."""
    return member_key_table({"pos": pos, "tmall": tmall, "wechat": wechat, "web": web},
                            campaign_settings(params).member_keys)


def design(params: dict, segments: pd.DataFrame, features: pd.DataFrame,
           coupon_plan: pd.DataFrame, person_index: pd.DataFrame, keys: pd.DataFrame,
           campaigns: pd.DataFrame, campaign_members: pd.DataFrame,
           campaign_sends: pd.DataFrame, orders: pd.DataFrame):
    """The brief designed (omnicrm.campaign.design_campaign); exports split per channel and
    wave (``<campaign>/<channel>_wave<n>``)."""
    s = campaign_settings(params)
    people = segments[["person_id", "value_tier_name", "lifecycle_stage"]].merge(
        features, on="person_id", how="left")
    out = design_campaign(s, people, coupon_plan, person_index, keys, campaigns,
                          campaign_members, campaign_sends, orders, pd.Timestamp.now())
    summary = out["design_summary"].iloc[0]
    log.info("campaign %s: %s members, control share %.1f%%, detects a %.0f%% lift; "
             "expected cost %.0f of %.0f", summary["campaign_id"], f"{summary['audience']:,}",
             100 * summary["control_share"], 100 * summary["mde_relative_detectable"],
             summary["expected_cost"], summary["budget"])
    failed = out["design_checks"].loc[~out["design_checks"]["passed"], "check"].tolist()
    if failed:
        log.warning("campaign %s: checks not passed: %s", summary["campaign_id"], failed)
    exports = {f"{cid}/{channel}_wave{wave}": part.drop(columns=["campaign_id"])
               for (cid, channel, wave), part in out["exports"].groupby(
                   ["campaign_id", "channel", "wave"])}
    metrics = mlflow_metrics({k: float(summary[k]) for k in (
        "audience", "treatment", "control", "control_share", "baseline_conversion",
        "mde_relative_detectable", "expected_cost")}, finite_only=True)
    return (out["campaigns"], out["campaign_offers"], out["campaign_members"],
            out["campaign_waves"], out["design_checks"], out["design_balance"],
            out["design_summary"], exports, metrics)
