"""Wiring of the cleansing pipeline (``kedro run --pipeline cleansing``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.standardise_members,
                 ["pos_members", "tmall_members", "wechat_members", "web_members",
                  "params:cleansing"],
                 ["standardised_members", "member_data_quality"], name="standardise_members"),
        ],
        tags="cleansing",
    )
