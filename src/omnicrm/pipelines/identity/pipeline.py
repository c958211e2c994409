"""Wiring of the identity pipeline (``kedro run --pipeline identity``; its cleansing step
alone: ``--tags cleansing``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.standardise_members,
                 ["pos_members", "tmall_members", "wechat_members", "web_members",
                  "params:identity"],
                 ["standardised_members", "member_data_quality"], name="standardise_members",
                 tags="cleansing"),
            Node(nodes.link_persons,
                 ["standardised_members", "person_index_previous", "person_lineage_previous",
                  "params:identity"],
                 ["person_index", "person_lineage", "oneid_model", "oneid_match_weights_chart",
                  "oneid_waterfall_chart", "oneid_metrics"],
                 name="link_persons"),
            Node(nodes.member_registrations,
                 ["pos_members", "tmall_members", "wechat_members", "web_members"],
                 "member_registrations", name="member_registrations"),
            Node(nodes.build_golden_records,
                 ["person_index", "standardised_members", "member_registrations"],
                 "golden_records", name="golden_records"),
            Node(nodes.build_person_activity, ["person_index", "orders", "events"],
                 "person_activity", name="person_activity"),
            Node(nodes.evaluate_linkage,
                 ["person_index", "standardised_members", "truth_records", "truth_persons"],
                 ["oneid_scores", "oneid_truth_metrics"], name="evaluate_linkage",
                 tags="evaluation"),
        ],
        tags="identity",
    )
