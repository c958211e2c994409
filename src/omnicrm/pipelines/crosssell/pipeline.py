"""Wiring of the cross-sell pipeline (``kedro run --pipeline crosssell``; needs
``person_index`` from identity, ``person_features`` from features and ``customer_segments``
from segments)."""

from kedro.pipeline import Node, Pipeline

from . import nodes

RAW = ["orders", "order_items", "products", "events", "campaign_members",
       "coupon_redemptions", "member_registrations", "person_index"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.mine_association_rules,
                 ["orders", "order_items", "products", "person_index", "customer_segments",
                  "params:crosssell"],
                 ["association_rules", "bundle_suggestions"], name="mine_association_rules"),
            Node(nodes.train_next_best_category,
                 [*RAW, "person_features", "params:crosssell", "params:features",
                  "params:feature_engine"],
                 ["next_best_category_model", "next_best_browse_model",
                  "next_best_evaluation", "next_best_categories"],
                 name="train_next_best_category"),
            Node(nodes.crosssell_metrics,
                 ["association_rules", "bundle_suggestions", "next_best_evaluation"],
                 "crosssell_metrics", name="crosssell_metrics"),
            Node(nodes.evaluate_next_best,
                 ["next_best_category_model", "next_best_browse_model", "person_features",
                  "events", "products", "person_index", "truth_records", "truth_persons",
                  "params:crosssell"],
                 ["next_best_truth_evaluation", "next_best_truth_metrics"],
                 name="evaluate_next_best", tags="evaluation"),
        ],
        tags="crosssell",
    )
