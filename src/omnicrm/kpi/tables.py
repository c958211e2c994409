"""Every KPI table from the orders, events, member registrations and the person index, on
any feature engine (pandas frames, or the engine's own lazy frames so nothing big is loaded):
what the kpi pipeline writes and the kpi benchmark measures."""

from __future__ import annotations

import logging

import pandas as pd

from .migration import migration, oneid_health, stage_rates, stages_at
from .targets import target_status
from .tree import (
    complete_periods,
    kpi_table,
    period_aggregates,
    period_end,
    sales_bridge,
    second_purchase_cohorts,
)

log = logging.getLogger(__name__)


def _as_of(last_order: pd.Timestamp, as_of: str | None) -> pd.Timestamp:
    if as_of:
        return pd.Timestamp(as_of).normalize()
    return pd.Timestamp(last_order).normalize()


def kpi_tables(tables: dict, tiers: pd.DataFrame, first_order: pd.Timestamp,
               last_order: pd.Timestamp, s, lifecycle: dict, engine: str,
               options: dict | None = None) -> dict[str, pd.DataFrame]:
    """The KPI tables from ``tables`` (orders, events, registrations, person_index: pandas
    frames or the engine's own lazy frames, e.g. DuckDB relations over Parquet, so that
    nothing big is loaded) and ``tiers`` (person_id, value_tier)."""
    as_of = _as_of(last_order, s.as_of)
    first_day = pd.Timestamp(first_order).normalize()
    out: dict[str, pd.DataFrame] = {}
    for period in ("week", "month"):
        periods = complete_periods(first_day, as_of, period, s.history_periods)
        if len(periods) == 0:
            raise ValueError(f"kpi: no complete {period} between {first_day.date()} and "
                             f"{as_of.date()}")
        # from the first order on, so that the first reported period has its year-over-year
        # base
        aggregates = period_aggregates(tables, tiers, period, first_day, as_of, engine,
                                       options)
        out[f"kpi_{period}ly"] = kpi_table(aggregates, periods, period)
        log.info("kpi: %d complete %ss up to %s", len(periods), period, as_of.date())
    out["kpi_sales_bridge"] = pd.concat([sales_bridge(out["kpi_weekly"]),
                                         sales_bridge(out["kpi_monthly"])], ignore_index=True)
    weeks = complete_periods(first_day, as_of, "week", s.history_periods)
    out["kpi_cohorts"] = second_purchase_cohorts(tables, as_of, s.second_purchase_days, weeks,
                                                 engine, options)
    ends = list(period_end(weeks[-s.stage_periods - 1:], "week"))
    stages = stages_at(tables, ends, lifecycle, s.active_days, engine, options)
    out["member_stages"] = stages
    out["kpi_stage_rates"] = stage_rates(stages)
    out["kpi_migration"] = migration(stages)
    out["kpi_oneid_health"] = oneid_health(_frame(tables["registrations"]),
                                           _frame(tables["person_index"]), ends)
    out["kpi_targets"] = latest_targets(out, s)
    return out


def _frame(table) -> pd.DataFrame:
    """A pandas frame of a per-record table (pandas already, or a lazy frame collected)."""
    if isinstance(table, pd.DataFrame):
        return table
    import narwhals as nw

    return nw.from_native(table).lazy().collect(backend="pandas").to_native()


def latest_targets(out: dict[str, pd.DataFrame], s) -> pd.DataFrame:
    """The latest complete week's KPIs against their targets."""
    week = out["kpi_weekly"]
    overall = week[week["slice"] == "all"].sort_values("pno")
    latest = overall.iloc[-1]
    cohorts = out["kpi_cohorts"]
    done = cohorts[cohorts["complete"]]
    rates, health = out["kpi_stage_rates"].iloc[-1], out["kpi_oneid_health"].iloc[-1]
    values = {"second_purchase_rate": float(done["second_purchase_rate"].iloc[-1])
              if len(done) else float("nan"),
              "cross_channel_share": float(health["cross_channel_share"]),
              "dormant_share": float(rates["dormant_share"]),
              "active_repeat_rate": float(rates["active_repeat_rate"]),
              "retention": float(latest["retention"])}
    return target_status(values, s.targets, latest["period_label"])


