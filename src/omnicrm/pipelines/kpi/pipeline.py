"""Wiring of the kpi pipeline (``kedro run --pipeline kpi``)."""

from kedro.pipeline import Node, Pipeline

from . import nodes

OUTPUTS = ["kpi_weekly", "kpi_monthly", "kpi_sales_bridge", "kpi_cohorts", "member_stages",
           "kpi_stage_rates", "kpi_migration", "kpi_oneid_health", "kpi_targets", "kpi_metrics"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.build_kpis,
                 ["orders", "events", "member_registrations", "person_index",
                  "customer_segments", "params:kpi", "params:segments",
                  "params:feature_engine"],
                 "kpi_tables", name="build_kpis"),
            Node(nodes.split_outputs, "kpi_tables", OUTPUTS, name="track_kpis"),
        ],
        tags="kpi",
    )
