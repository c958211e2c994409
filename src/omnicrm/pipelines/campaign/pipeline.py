"""Wiring of the campaign pipeline (``kedro run --pipeline campaign``, ``omnicrm campaign
plan``): not part of ``__default__``, a design is made when someone asks for one."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.member_keys, ["pos_members", "tmall_members", "wechat_members",
                                     "web_members", "params:campaign"],
                 "member_keys", name="member_keys"),
            Node(nodes.design,
                 ["params:campaign", "customer_segments", "person_features", "coupon_plan",
                  "person_index", "member_keys", "campaigns", "campaign_members",
                  "campaign_sends", "orders"],
                 ["campaign_design_campaigns", "campaign_design_offers",
                  "campaign_design_members", "campaign_design_waves", "campaign_design_checks",
                  "campaign_design_balance", "campaign_design_summary", "campaign_exports",
                  "campaign_design_metrics"],
                 name="design_campaign"),
        ],
        tags="campaign",
    )
