"""Wiring of the features pipeline (``kedro run --pipeline features``; on Spark:
``kedro run --pipeline features --env spark``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.build_person_features,
                 ["orders", "order_items", "products", "events", "campaign_members",
                  "coupon_redemptions", "member_registrations", "person_index",
                  "params:features", "params:feature_engine"],
                 "person_features", name="build_person_features"),
            Node(nodes.build_person_demographics,
                 ["person_features", "golden_records", "stores", "params:demographics"],
                 "person_demographics", name="build_person_demographics"),
        ],
        tags="features",
    )
