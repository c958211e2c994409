"""Wiring of the synthetic-world pipeline (``kedro run --pipeline synthetic``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes

MEMBERS = ["pos_members", "tmall_members", "wechat_members", "web_members"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.generate_persons, "params:synthetic", "synthetic_persons",
                 name="generate_persons"),
            Node(nodes.generate_catalogue, "params:synthetic", ["stores", "products"],
                 name="generate_catalogue"),
            Node(nodes.simulate_purchases, ["synthetic_persons", "params:synthetic"],
                 ["synthetic_natural_purchases", "synthetic_purchase_state", "truth_persons"],
                 name="simulate_purchases"),
            Node(nodes.generate_records, ["synthetic_persons", "stores", "params:synthetic"],
                 [*MEMBERS, "truth_records"], name="generate_member_records"),
            Node(nodes.generate_campaigns,
                 ["synthetic_persons", "synthetic_purchase_state", "synthetic_natural_purchases",
                  "truth_records", *MEMBERS, "params:synthetic"],
                 ["campaigns", "campaign_offers", "campaign_members", "campaign_sends",
                  "synthetic_purchases", "truth_campaign_outcomes"],
                 name="run_campaigns"),
            Node(nodes.generate_orders,
                 ["synthetic_persons", "stores", "products", "truth_records", *MEMBERS,
                  "synthetic_purchases", "params:synthetic"],
                 ["orders", "order_items", "coupon_redemptions"], name="generate_orders"),
            Node(nodes.generate_events,
                 ["synthetic_persons", "products", "truth_records", *MEMBERS, "orders",
                  "order_items", "truth_persons", "params:synthetic"],
                 "events", name="generate_events"),
            Node(nodes.generate_offer_outcomes,
                 ["synthetic_persons", "synthetic_purchase_state", "params:synthetic"],
                 "truth_offer_outcomes", name="offer_potential_outcomes"),
            Node(nodes.summarise_world,
                 ["truth_persons", "truth_records", "orders", "events", "campaign_members",
                  "coupon_redemptions", "truth_campaign_outcomes", "truth_offer_outcomes"],
                 ["world_summary", "world_metrics"], name="summarise_world",
                 tags="evaluation"),
        ],
        tags="synthetic",
    )
