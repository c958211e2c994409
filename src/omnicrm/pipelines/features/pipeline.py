"""Wiring of the features pipeline (``kedro run --pipeline features``; on Spark:
``kedro run --pipeline features --env spark``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.member_registrations,
                 ["pos_members", "tmall_members", "wechat_members", "web_members"],
                 "feature_registrations", name="feature_registrations"),
            Node(nodes.build_person_features,
                 ["orders", "order_items", "products", "events", "campaign_members",
                  "coupon_redemptions", "feature_registrations", "person_index",
                  "params:features", "params:feature_engine"],
                 "person_features", name="build_person_features"),
        ],
        tags="features",
    )
