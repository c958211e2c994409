"""Wiring of the journeys pipeline (``kedro run --pipeline journeys``; part of ``kedro run``):
each run gives the day's triggered audiences."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.triggered_audiences,
                 ["params:journeys", "params:campaign", "orders", "events",
                  "member_registrations", "person_index", "campaigns", "campaign_members",
                  "campaign_sends", "coupon_redemptions", "pos_members", "tmall_members",
                  "wechat_members", "web_members"],
                 ["journey_audience", "journey_campaigns", "journey_exports",
                  "journey_metrics"],
                 name="triggered_audiences"),
        ],
        tags="journeys",
    )
