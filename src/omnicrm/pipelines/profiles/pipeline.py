"""Wiring of the profiles pipeline (``kedro run --pipeline profiles``; needs person_features
and person_demographics from features, customer_segments and customer_rfm from segments, and
customer_value, churn_scores and winback_audience from retention)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.build_browse_interests,
                 ["events", "person_index", "products", "person_features", "params:profiles",
                  "params:feature_engine"],
                 "browse_interests", name="build_browse_interests"),
            Node(nodes.build_browse_profile,
                 ["person_features", "browse_interests", "params:profiles"],
                 "browse_profile", name="build_browse_profile"),
            Node(nodes.build_customer_360,
                 ["person_features", "customer_segments", "customer_rfm",
                  "person_demographics", "customer_value", "churn_scores",
                  "winback_audience", "browse_profile", "person_index", "campaign_members",
                  "campaigns", "coupon_redemptions"],
                 "customer_360", name="build_customer_360"),
            Node(nodes.evaluate_browse_interests,
                 ["browse_interests", "person_features", "person_index", "truth_records",
                  "truth_persons"],
                 ["browse_interest_evaluation", "browse_interest_evaluation_metrics"],
                 name="evaluate_browse_interests", tags="evaluation"),
        ],
        tags="profiles",
    )
