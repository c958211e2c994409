"""The production inference path as a Kedro pipeline: free inputs ``scoring_input`` (person
features), the fitted ``value_tier_model``, ``repurchase_7d_model``, ``churn_model``,
``customer_value_model``, ``coupon_policy`` and ``next_best_category_model``, and
``params:segments`` / ``params:scoring``; single output ``scores``.

The registered MLflow model runs exactly this pipeline per request, and the `scoring` Kedro
pipeline runs it on the whole ``person_features`` table before exporting it."""

from kedro.pipeline import Node, Pipeline

from omnicrm.scoring import inference

INPUT_NAME = "scoring_input"
OUTPUT_NAME = "scores"
#: The fitted models the inference pipeline reads, by catalog name.
MODELS = ("value_tier_model", "repurchase_7d_model", "churn_model", "customer_value_model",
          "coupon_policy", "next_best_category_model")


def create_inference_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(inference.check_scoring_input,
                 [INPUT_NAME, "repurchase_7d_model", "coupon_policy", "churn_model",
                  "next_best_category_model", "params:segments"],
                 "scoring_features", name="check_scoring_input"),
            Node(inference.segment_persons,
                 ["scoring_features", "value_tier_model", "params:segments"],
                 "scoring_segments", name="segment_persons"),
            Node(inference.score_repurchase,
                 ["scoring_features", "repurchase_7d_model", "params:scoring"],
                 "scoring_repurchase", name="score_repurchase"),
            Node(inference.score_retention,
                 ["scoring_features", "churn_model", "customer_value_model"],
                 "scoring_retention", name="score_retention"),
            Node(inference.recommend_offers, ["scoring_features", "coupon_policy"],
                 "scoring_offers", name="recommend_offers"),
            Node(inference.recommend_categories,
                 ["scoring_features", "next_best_category_model"], "scoring_categories",
                 name="recommend_categories"),
            Node(inference.combine_scores,
                 ["scoring_segments", "scoring_repurchase", "scoring_retention",
                  "scoring_offers", "scoring_categories"], OUTPUT_NAME,
                 name="combine_scores"),
        ],
        tags="inference",
    )
