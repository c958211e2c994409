"""Wiring of the data-checks pipeline (``kedro run --pipeline data_checks``)."""

from kedro.pipeline import Node, Pipeline

from omnicrm.contracts import RAW_CONTRACTS

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.profile_raw_tables, list(RAW_CONTRACTS), ["raw_profile", "raw_metrics"],
                 name="profile_raw_tables"),
        ],
        tags="data_checks",
    )
