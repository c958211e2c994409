"""Wiring of the retention pipeline (``kedro run --pipeline retention``; needs ``person_index``
from identity, ``person_features`` from features, ``customer_segments`` from segments and
``coupon_campaign_members`` from coupon)."""

from kedro.pipeline import Node, Pipeline

from . import nodes

RAW = ["orders", "order_items", "products", "events", "campaign_members",
       "coupon_redemptions", "member_registrations", "person_index"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.build_churn_training_features,
                 [*RAW, "params:retention", "params:features", "params:feature_engine"],
                 "churn_training_features", name="build_churn_training_features"),
            Node(nodes.train_churn_model,
                 ["churn_training_features", "orders", "params:retention"],
                 ["churn_model", "churn_comparison", "churn_holdout"],
                 name="train_churn_model"),
            Node(nodes.score_churn, ["person_features", "churn_model", "params:retention"],
                 "churn_scores", name="score_churn"),
            Node(nodes.plot_churn,
                 ["churn_holdout", "churn_model", "person_features", "params:retention"],
                 ["churn_reliability_plot", "churn_shap_importance_plot"], name="plot_churn"),
            Node(nodes.fit_value_model, ["person_features", "params:retention"],
                 ["customer_value_model", "customer_value"], name="fit_customer_value"),
            Node(nodes.profile_value,
                 ["customer_segments", "customer_value", "churn_scores", "params:retention"],
                 "value_segment_profile", name="profile_customer_value"),
            Node(nodes.evaluate_value_model,
                 [*RAW, "params:retention", "params:features", "params:feature_engine"],
                 ["customer_value_evaluation", "customer_value_calibration_plot"],
                 name="evaluate_customer_value"),
            Node(nodes.select_winback_audience,
                 ["person_features", "coupon_campaign_members", "customer_value",
                  "params:retention"],
                 ["winback_audience", "winback_learners"], name="select_winback_audience"),
            Node(nodes.retention_metrics,
                 ["churn_comparison", "customer_value_evaluation", "winback_audience",
                  "winback_learners"], "retention_metrics", name="retention_metrics"),
            Node(nodes.evaluate_winback,
                 ["winback_audience", "person_features", "person_index", "truth_records",
                  "truth_offer_outcomes", "params:retention"],
                 ["winback_truth_evaluation", "winback_truth_metrics"],
                 name="evaluate_winback", tags="evaluation"),
        ],
        tags="retention",
    )
