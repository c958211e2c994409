"""Wiring of the segments evaluation (``kedro run --pipeline segments_evaluation``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.evaluate_segments,
                 ["person_features", "customer_segments", "truth_persons", "params:segments",
                  "person_index", "truth_records", "orders", "params:synthetic"],
                 ["segment_evaluation", "segment_evaluation_metrics"],
                 name="evaluate_segments"),
        ],
        tags=["segments_evaluation", "evaluation"],
    )
