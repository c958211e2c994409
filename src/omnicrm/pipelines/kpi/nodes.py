"""Nodes of the kpi pipeline: the logic is in omnicrm.kpi, heavy work on the feature engine."""

from __future__ import annotations

import pandas as pd

from omnicrm.features.settings import engine_settings
from omnicrm.kpi.settings import kpi_settings
from omnicrm.kpi.tables import kpi_tables
from omnicrm.segments.settings import segment_settings
from omnicrm.tracking import mlflow_metrics


def build_kpis(orders: pd.DataFrame, events: pd.DataFrame, registrations: pd.DataFrame,
               person_index: pd.DataFrame, segments: pd.DataFrame, params: dict,
               segment_params: dict, engine: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every KPI table, weekly and monthly, on the feature engine."""
    s, where = kpi_settings(params), engine_settings(engine)
    if orders.empty:
        raise ValueError("kpi: the orders table is empty; there is nothing to count")
    tables = {"orders": orders, "events": events, "registrations": registrations,
              "person_index": person_index[["record_id", "person_id"]]}
    tiers = segments[["person_id", "value_tier_name"]].rename(
        columns={"value_tier_name": "value_tier"})
    return kpi_tables(tables, tiers, pd.Timestamp(orders["ordered_at"].min()),
                      pd.Timestamp(orders["ordered_at"].max()), s,
                      segment_settings(segment_params).lifecycle.model_dump(), where.name,
                      dict(where.options))


def split_outputs(tables: dict[str, pd.DataFrame]):
    """The tables as the catalog's outputs, and the latest week's headline KPIs as MLflow
    metrics."""
    week = tables["kpi_weekly"]
    latest = week[week["slice"] == "all"].sort_values("pno").iloc[-1]
    targets = tables["kpi_targets"].set_index("kpi")["value"].to_dict()
    migr = tables["kpi_migration"]
    last = migr[migr["period_end"] == migr["period_end"].max()] if len(migr) else migr
    metrics = {**{k: latest[k] for k in ("sales", "visitors", "conversion", "aov", "orders",
                                         "buyers", "new_buyers")},
               **targets,
               "positive_migration": last.loc[last["direction"] == "positive",
                                              "members"].sum(),
               "negative_migration": last.loc[last["direction"] == "negative",
                                              "members"].sum()}
    return (tables["kpi_weekly"], tables["kpi_monthly"], tables["kpi_sales_bridge"],
            tables["kpi_cohorts"], tables["member_stages"], tables["kpi_stage_rates"],
            tables["kpi_migration"], tables["kpi_oneid_health"], tables["kpi_targets"],
            mlflow_metrics(metrics, "kpi", finite_only=True))
