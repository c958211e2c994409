"""Wiring of the segments pipeline (``kedro run --pipeline segments``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.fit_value_tiers, ["person_features", "params:segments"],
                 ["value_tier_model", "segment_metrics"], name="fit_value_tiers"),
            Node(nodes.track_model, "value_tier_model", "value_tier_model_tracked",
                 name="track_value_tier_model"),
            Node(nodes.assign_segments,
                 ["person_features", "value_tier_model", "params:segments"],
                 "customer_segments", name="assign_segments"),
            Node(nodes.segments_at_campaign_starts,
                 ["orders", "order_items", "products", "events", "campaign_members",
                  "coupon_redemptions", "member_registrations", "person_index", "campaigns",
                  "value_tier_model", "params:features", "params:segments",
                  "params:feature_engine"],
                 "campaign_segments", name="segments_at_campaign_starts"),
            Node(nodes.profile_value_tiers,
                 ["person_features", "customer_segments", "params:segments",
                  "person_demographics"],
                 "value_tier_profile", name="profile_value_tiers"),
            Node(nodes.build_customer_rfm,
                 ["person_features", "customer_segments", "params:segments"],
                 "customer_rfm", name="build_customer_rfm"),
            Node(nodes.profile_rfm, ["customer_rfm", "params:segments"], "rfm_profile",
                 name="profile_rfm"),
            Node(nodes.plot_rfm, ["customer_rfm", "params:segments"], "rfm_grid_plot",
                 name="plot_rfm_grid"),
            Node(nodes.plot_tier_profiles, "value_tier_profile", "value_tier_profile_plot",
                 name="plot_tier_profiles"),
            Node(nodes.plot_segment_map, ["person_features", "customer_segments"],
                 "segment_map_plot", name="plot_segment_map"),
            Node(nodes.evaluate_segments,
                 ["person_features", "customer_segments", "truth_persons", "params:segments",
                  "person_index", "truth_records", "orders", "params:synthetic"],
                 ["segment_evaluation", "segment_evaluation_metrics"],
                 name="evaluate_segments", tags="evaluation"),
        ],
        tags="segments",
    )
