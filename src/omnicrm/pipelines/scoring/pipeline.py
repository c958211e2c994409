"""Wiring of the scoring pipeline (``kedro run --pipeline scoring``): batch-score today's
``person_features`` with the inference pipeline (:mod:`omnicrm.scoring.pipeline`), then export
that same pipeline as one registered MLflow model behind the champion gate."""

from kedro.pipeline import Node, Pipeline

from omnicrm.scoring.pipeline import INPUT_NAME, MODELS, OUTPUT_NAME, create_inference_pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    batch = Pipeline(create_inference_pipeline(),
                     inputs={INPUT_NAME: "person_features", **{m: m for m in MODELS}},
                     outputs={OUTPUT_NAME: "customer_scores"},
                     parameters={"params:segments", "params:scoring"},
                     namespace="batch_scoring")
    export = Pipeline(
        [
            Node(nodes.scoring_test_metrics,
                 ["repurchase_model_comparison", "coupon_uplift_comparison", "params:scoring"],
                 "scoring_test_metrics",
                 name="scoring_test_metrics"),
            Node(nodes.export_scoring_model,
                 ["person_features", "customer_scores", *MODELS, "scoring_test_metrics",
                  "params:segments", "params:scoring"],
                 "scoring_model_registration", name="export_scoring_model"),
        ]
    )
    return Pipeline([batch, export], tags="scoring")
