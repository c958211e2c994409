"""Wiring of the repurchase pipeline (``kedro run --pipeline repurchase``; needs
``person_index`` from identity and ``person_features`` from features)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.build_training_features,
                 ["orders", "order_items", "products", "events", "campaign_members",
                  "coupon_redemptions", "member_registrations", "person_index",
                  "params:repurchase", "params:features",
                  "params:feature_engine"],
                 "repurchase_training_features", name="build_repurchase_training_features"),
            Node(nodes.train_seven_day_model,
                 ["repurchase_training_features", "orders", "person_index",
                  "params:repurchase"],
                 ["repurchase_7d_model", "repurchase_7d_comparison",
                  "repurchase_7d_holdout", "repurchase_7d_trials"],
                 name="train_repurchase_7d_model"),
            Node(nodes.register_seven_day_model,
                 ["repurchase_7d_model", "repurchase_7d_comparison", "params:repurchase"],
                 "repurchase_7d_registration", name="register_repurchase_7d_model"),
            Node(nodes.plot_seven_day_reliability,
                 ["repurchase_7d_holdout", "params:repurchase"], "repurchase_reliability_plot",
                 name="plot_repurchase_reliability"),
            Node(nodes.plot_seven_day_importance,
                 ["repurchase_7d_model", "person_features", "params:repurchase"],
                 "repurchase_shap_importance_plot", name="plot_repurchase_shap_importance"),
            Node(nodes.select_campaign_audience,
                 ["person_features", "repurchase_7d_model", "params:repurchase"],
                 "repurchase_audience", name="select_repurchase_audience"),
            Node(nodes.train_second_purchase,
                 ["repurchase_training_features", "orders", "person_index", "person_features",
                  "params:repurchase"],
                 ["second_purchase_scores", "second_purchase_comparison"],
                 name="train_second_purchase_model"),
            Node(nodes.category_propensity,
                 ["repurchase_training_features", "orders", "order_items", "products",
                  "person_index", "person_features", "params:repurchase"],
                 ["category_propensity", "category_propensity_comparison"],
                 name="category_propensity"),
            Node(nodes.model_comparison,
                 ["repurchase_7d_comparison", "second_purchase_comparison",
                  "category_propensity_comparison"],
                 ["repurchase_model_comparison", "repurchase_metrics"],
                 name="repurchase_model_comparison"),
        ],
        tags="repurchase",
    )
