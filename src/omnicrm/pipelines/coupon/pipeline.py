"""Wiring of the coupon pipeline (``kedro run --pipeline coupon``). The node that reads the
truth is tagged ``evaluation``: it runs with ``kedro run --pipeline evaluation``."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.build_training_set,
                 ["campaigns", "campaign_offers", "campaign_members", "orders", "order_items",
                  "products", "events", "coupon_redemptions", "member_registrations",
                  "person_index", "params:features",
                  "params:feature_engine", "params:coupon"],
                 ["coupon_campaign_members", "coupon_basket_rows", "coupon_untreated_rows"],
                 name="build_coupon_training_set"),
            Node(nodes.check_training_campaigns, ["coupon_campaign_members", "params:coupon"],
                 ["coupon_training_set", "coupon_campaign_checks"],
                 name="check_coupon_campaigns"),
            Node(nodes.select_uplift_model,
                 ["coupon_training_set", "person_features", "params:coupon"],
                 ["coupon_uplift_learner", "coupon_uplift_choice", "coupon_uplift_comparison",
                  "coupon_qini_plot", "coupon_uplift_metrics"],
                 name="select_coupon_uplift_model"),
            Node(nodes.fit_policy,
                 ["coupon_training_set", "coupon_basket_rows", "coupon_untreated_rows",
                  "person_features",
                  "coupon_uplift_learner", "coupon_uplift_choice", "orders", "campaigns",
                  "person_index", "params:coupon"],
                 ["coupon_policy", "coupon_offer_segments"],
                 name="fit_coupon_policy"),
            Node(nodes.register_coupon_models,
                 ["coupon_policy", "person_features", "params:coupon"],
                 "coupon_model_registration", name="register_coupon_models"),
            Node(nodes.plan_campaign,
                 ["coupon_policy", "person_features", "customer_segments", "params:coupon"],
                 ["coupon_plan", "coupon_plan_totals", "coupon_plan_metrics",
                  "coupon_profit_by_threshold_plot"],
                 name="plan_coupon_campaign"),
            Node(nodes.evaluate_plan,
                 ["coupon_plan", "coupon_policy", "person_features", "coupon_training_set",
                  "person_index", "truth_records", "truth_offer_outcomes", "params:coupon"],
                 ["coupon_truth_evaluation", "coupon_truth_metrics"],
                 name="evaluate_coupon_plan", tags="evaluation"),
        ],
        tags="coupon",
    )
