"""The weekly business KPIs: the KPI tree and its sales bridge per week and month, new-customer
cohorts, lifecycle migration and OneID health (docs/kpi.md)."""

from .migration import STAGE_RANK, migration, oneid_health, stage_rates, stages_at
from .tables import kpi_tables
from .targets import target_status
from .tree import (
    complete_periods,
    kpi_table,
    period_aggregates,
    period_end,
    period_label,
    period_start,
    sales_bridge,
    second_purchase_cohorts,
    shapley_product,
    to_cents,
)

__all__ = ["STAGE_RANK", "complete_periods", "kpi_table", "kpi_tables", "migration", "oneid_health",
           "period_aggregates", "period_end", "period_label", "period_start", "sales_bridge",
           "second_purchase_cohorts", "shapley_product", "stage_rates", "stages_at",
           "target_status", "to_cents"]
