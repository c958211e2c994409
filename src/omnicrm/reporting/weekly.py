"""What the weekly business report shows, from the kpi pipeline's tables: KPI tiles with their
change and target status, the sales bridge, trends, cohorts, lifecycle migration, channel mix,
OneID health and the campaigns of the week. Every number comes from omnicrm.kpi; this module
selects and draws (notebooks/templates/weekly_business_report.ipynb lays it out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omnicrm.kpi.migration import STAGE_RANK
from omnicrm.kpi.settings import kpi_settings
from omnicrm.kpi.targets import target_status

KPI_TABLES = ("kpi_weekly", "kpi_sales_bridge", "kpi_cohorts", "kpi_stage_rates",
              "kpi_migration", "kpi_oneid_health")
DEFAULT_PATHS = {name: f"data/08_reporting/{name}.parquet" for name in KPI_TABLES}
#: retention's CLV per value tier x lifecycle stage (optional: the tier table shows CLV with it)
VALUE_PROFILE = "data/08_reporting/value_segment_profile.csv"
TREND_WEEKS = 13


class WeeklyDataError(RuntimeError):
    """The KPI tables are missing or do not hold the asked week; the message says which."""


def load_kpis(project_path: str | Path, env: str | None = None) -> dict[str, pd.DataFrame]:
    """The kpi pipeline's tables of the project (its catalog, else the documented files)."""
    from omnicrm.reporting.data import _exists, _in_dir, project_catalog

    project_path = Path(project_path).resolve()
    catalog = project_catalog(project_path, env)
    out = {}
    with _in_dir(project_path):
        for name in KPI_TABLES:
            if _exists(catalog, name):
                out[name] = catalog.load(name)
            elif (project_path / DEFAULT_PATHS[name]).exists():
                out[name] = pd.read_parquet(project_path / DEFAULT_PATHS[name])
            else:
                raise WeeklyDataError(f"no {name} table: run `kedro run --pipeline kpi` first")
    return out


def load_value_profile(project_path: str | Path) -> pd.DataFrame | None:
    """Retention's ``value_segment_profile`` of the project, None when it has not run."""
    path = Path(project_path) / VALUE_PROFILE
    return pd.read_csv(path) if path.exists() else None


def tier_value(profile: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per value tier (name): the 12-month CLV of its persons (``clv_12m``, its share of the
    base's ``clv_share``) and its buyers' mean P(alive), from retention's profile per tier x
    lifecycle stage. None without a profile."""
    if profile is None or profile.empty:
        return None
    missing = {"value_tier_name", "buyers", "clv_sum", "p_alive_mean"} - set(profile.columns)
    if missing:
        raise WeeklyDataError(f"value_segment_profile lacks {sorted(missing)}: run `kedro run "
                              "--pipeline retention` again")
    f = profile.assign(alive=profile["p_alive_mean"].fillna(0.0) * profile["buyers"])
    g = f.groupby("value_tier_name")
    out = pd.DataFrame({"clv_12m": g["clv_sum"].sum(), "buyers": g["buyers"].sum(),
                        "alive": g["alive"].sum()})
    total = out["clv_12m"].sum()
    out["clv_share"] = out["clv_12m"] / total if total > 0 else np.nan
    out["p_alive"] = (out["alive"] / out["buyers"]).where(out["buyers"] > 0)
    return out[["clv_12m", "clv_share", "p_alive"]].rename_axis("slice_value")


def report_weeks(kpis: dict[str, pd.DataFrame], last: int) -> list[str]:
    """The labels of the ``last`` complete weeks, oldest first."""
    w = kpis["kpi_weekly"]
    weeks = w.loc[w["slice"] == "all"].sort_values("pno")["period_label"].tolist()
    return weeks[-last:] if last > 0 else []


@dataclass
class WeeklyView:
    week: str
    channel: str | None
    start: pd.Timestamp
    row: pd.Series
    trend: pd.DataFrame
    bridge: pd.Series | None
    channels: pd.DataFrame
    tiers: pd.DataFrame
    cohorts: pd.DataFrame
    rates: pd.Series | None
    migration: pd.DataFrame
    health: pd.Series | None
    health_trend: pd.DataFrame
    targets: pd.DataFrame
    campaigns: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def weekly_view(kpis: dict[str, pd.DataFrame], week: str, channel: str | None = None,
                campaigns: pd.DataFrame | None = None, rendered: dict | None = None,
                params: dict | None = None,
                value_profile: pd.DataFrame | None = None) -> WeeklyView:
    """The report of ``week`` (``2026-W43``), overall or for one ``channel``. With
    ``value_profile`` (retention's, :func:`load_value_profile`) the value-tier table also holds
    each tier's 12-month CLV and P(alive): today's model, whatever the week."""
    s = kpi_settings(params)
    w = kpis["kpi_weekly"]
    slice_, value = ("channel", channel) if channel else ("all", "all")
    mine = w[(w["slice"] == slice_) & (w["slice_value"] == value)].sort_values("pno")
    if mine.empty:
        known = sorted(w.loc[w["slice"] == "channel", "slice_value"].unique())
        raise WeeklyDataError(f"no KPIs for channel '{channel}'; channels: {', '.join(known)}")
    if week not in set(mine["period_label"]):
        weeks = mine["period_label"]
        raise WeeklyDataError(f"week {week} is not in the KPI tables (complete weeks "
                              f"{weeks.iloc[0]} to {weeks.iloc[-1]})")
    row = mine[mine["period_label"] == week].iloc[0]
    start = pd.Timestamp(row["period_start"])
    end = (start + pd.Timedelta(days=7)).date()
    trend = mine[mine["pno"].between(row["pno"] - TREND_WEEKS + 1, row["pno"])]
    b = kpis["kpi_sales_bridge"]
    b = b[(b["period"] == "week") & (b["slice"] == slice_) & (b["slice_value"] == value)
          & (b["period_label"] == week)]
    this = w[w["pno"] == row["pno"]]
    chans = this[this["slice"] == "channel"].set_index("slice_value")
    tiers = this[this["slice"] == "value_tier"].set_index("slice_value")
    value = tier_value(value_profile)
    if value is not None:
        tiers = tiers.join(value, how="left")
    cohorts = kpis["kpi_cohorts"]
    cohorts = cohorts[pd.to_datetime(cohorts["cohort_start"]) < start + pd.Timedelta(days=7)]
    done = cohorts[pd.to_datetime(cohorts["cohort_start"])
                   + pd.Timedelta(days=7 + s.second_purchase_days) <= pd.Timestamp(end)]
    rates = kpis["kpi_stage_rates"]
    rates = rates[pd.to_datetime(rates["period_end"]) == pd.Timestamp(end)]
    migr = kpis["kpi_migration"]
    migr = migr[pd.to_datetime(migr["period_end"]) == pd.Timestamp(end)]
    health = kpis["kpi_oneid_health"]
    h_now = health[pd.to_datetime(health["period_end"]) == pd.Timestamp(end)]
    notes = []
    if rates.empty:
        notes.append(f"Lifecycle stages are computed for the last weeks only (kpi.stage_periods)"
                     f": none for {week}, so no migration, dormant or repeat-buyer figures.")
    values = {"retention": float(row["retention"]),
              "second_purchase_rate": float(done["second_purchase_rate"].iloc[-1])
              if len(done) else np.nan,
              "dormant_share": float(rates["dormant_share"].iloc[0]) if len(rates) else np.nan,
              "active_repeat_rate": float(rates["active_repeat_rate"].iloc[0])
              if len(rates) else np.nan,
              "cross_channel_share": float(h_now["cross_channel_share"].iloc[0])
              if len(h_now) else np.nan}
    targets = target_status(values, s.targets, week)
    if channel:
        notes.append(f"Channel {channel}: the tree is this channel's; cohorts, stages and OneID "
                     "health are the whole brand's.")
    return WeeklyView(
        week=week, channel=channel, start=start, row=row, trend=trend,
        bridge=b.iloc[0] if len(b) else None, channels=chans, tiers=tiers,
        cohorts=done.tail(TREND_WEEKS), rates=rates.iloc[0] if len(rates) else None,
        migration=migr, health=h_now.iloc[0] if len(h_now) else None,
        health_trend=health[pd.to_datetime(health["period_end"]) <= pd.Timestamp(end)],
        targets=targets, campaigns=week_campaigns(campaigns, start, rendered), notes=notes)


def week_campaigns(campaigns: pd.DataFrame | None, start: pd.Timestamp,
                   rendered: dict | None) -> pd.DataFrame:
    """Campaigns running in the week starting ``start``, with their reported lift if any."""
    cols = ["campaign_id", "campaign_name", "start_date", "end_date", "conversion_lift",
            "report"]
    if campaigns is None or campaigns.empty:
        return pd.DataFrame(columns=cols)
    end = start + pd.Timedelta(days=6)
    c = campaigns[(pd.to_datetime(campaigns["start_date"]) <= end)
                  & (pd.to_datetime(campaigns["end_date"]) >= start)].copy()
    rendered = rendered or {}
    c["conversion_lift"] = [rendered.get(i, {}).get("headline", {}).get("conversion_lift",
                                                                          np.nan)
                            for i in c["campaign_id"]]
    c["report"] = [rendered.get(i, {}).get("html", "") for i in c["campaign_id"]]
    return c[cols].reset_index(drop=True)


# --- charts ------------------------------------------------------------------------------

def plot_bridge(bridge: pd.Series, ax=None):
    """Waterfall: last week's sales, the three drivers, this week's sales."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(7, 3.2))[1]
    steps = [("visitors", bridge["from_visitors"]), ("conversion", bridge["from_conversion"]),
             ("AOV", bridge["from_aov"])]
    base = bridge["sales_before"]
    ax.bar(0, base, color="#9aa5b1")
    level = base
    for i, (_, v) in enumerate(steps, start=1):
        ax.bar(i, v, bottom=level if v >= 0 else level + v,
               color="#2e7d32" if v >= 0 else "#c62828")
        level += v
    ax.bar(len(steps) + 1, bridge["sales_after"], color="#1565c0")
    ax.set_xticks(range(len(steps) + 2),
                  ["last week", *[s for s, _ in steps], "this week"])
    ax.set_ylabel("sales (CNY)")
    lo = min(base, bridge["sales_after"], level) * 0.8
    ax.set_ylim(bottom=max(0, lo))
    for i, (_, v) in enumerate(steps, start=1):
        ax.annotate(f"{v:+,.0f}", (i, max(level, base)), ha="center", va="bottom", fontsize=8)
    ax.set_title("Sales bridge: what moved sales this week")
    return ax


def plot_trend(trend: pd.DataFrame, axes=None):
    """Sales, visitors, conversion and AOV over the last weeks."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 4, figsize=(12, 2.6))
    for ax, (col, label) in zip(axes, [("sales", "sales (CNY)"), ("visitors", "visitors"),
                                       ("conversion", "conversion"), ("aov", "AOV (CNY)")],
                                strict=True):
        ax.plot(range(len(trend)), trend[col], marker="o", ms=3, color="#1565c0")
        ax.set_title(label, fontsize=9)
        ax.set_xticks([0, len(trend) - 1], [trend["period_label"].iloc[0],
                                            trend["period_label"].iloc[-1]], fontsize=7)
    return axes


def plot_cohorts(cohorts: pd.DataFrame, target: float | None, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(7, 2.8))[1]
    ax.bar(range(len(cohorts)), cohorts["second_purchase_rate"], color="#6a1b9a")
    if target is not None:
        ax.axhline(target, color="#c62828", ls="--", lw=1, label=f"target {target:.1%}")
        ax.legend(fontsize=8)
    ax.set_xticks(range(len(cohorts)), cohorts["cohort_week"], rotation=45, fontsize=7)
    ax.set_ylabel("bought again within the window")
    ax.set_title("New customers' second-purchase rate by first-purchase week")
    return ax


def plot_migration(migration: pd.DataFrame, ax=None):
    """Alluvial flow between last week's and this week's lifecycle stages (members who
    stayed in their stage are drawn faint)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    ax = ax or plt.subplots(figsize=(8, 4.2))[1]
    order = ["(new member)", *sorted(STAGE_RANK, key=STAGE_RANK.get)]
    left = migration.groupby("from_stage")["members"].sum().reindex(order).dropna()
    right = migration.groupby("to_stage")["members"].sum().reindex(order).dropna()
    total = max(left.sum(), right.sum())
    gap = total * 0.02

    def stack(sizes):
        pos, y = {}, 0.0
        for k, v in sizes.items():
            pos[k] = [y, y + v]
            y += v + gap
        return pos

    lpos, rpos = stack(left), stack(right)
    lcur = {k: v[0] for k, v in lpos.items()}
    rcur = {k: v[0] for k, v in rpos.items()}
    colours = {"positive": "#2e7d32", "negative": "#c62828", "same": "#cfd8dc",
               "new": "#1565c0"}
    for _, f in migration.sort_values(["from_stage", "to_stage"]).iterrows():
        n, a, b = f["members"], f["from_stage"], f["to_stage"]
        y0, y1 = lcur[a], rcur[b]
        lcur[a] += n
        rcur[b] += n
        verts = [(0.1, y0), (0.5, y0), (0.5, y1), (0.9, y1), (0.9, y1 + n), (0.5, y1 + n),
                 (0.5, y0 + n), (0.1, y0 + n), (0.1, y0)]
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO,
                 MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(verts, codes), fc=colours[f["direction"]], ec="none",
                               alpha=0.35 if f["direction"] == "same" else 0.8))
    for pos, x, ha in ((lpos, 0.09, "right"), (rpos, 0.91, "left")):
        for k, (y0, y1) in pos.items():
            ax.add_patch(plt.Rectangle((0.08 if ha == "right" else 0.9, y0), 0.02, y1 - y0,
                                       color="#37474f"))
            ax.text(x - 0.01 if ha == "right" else x + 0.01, (y0 + y1) / 2,
                    f"{k} {int(y1 - y0):,}", ha=ha, va="center", fontsize=7)
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(0, max(sum(left) + gap * len(left), sum(right) + gap * len(right)))
    ax.invert_yaxis()
    ax.axis("off")
    ax.set_title("Lifecycle migration: last week → this week (green up, red down)")
    return ax


def plot_channel_mix(channels: pd.DataFrame, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5, 2.6))[1]
    share = channels["sales"] / max(channels["sales"].sum(), 1e-9)
    ax.barh(share.index, share.to_numpy(), color="#00838f")
    for y, v in enumerate(share.to_numpy()):
        ax.text(v, y, f" {v:.0%}", va="center", fontsize=8)
    ax.set_xlim(0, max(1.0, share.max() * 1.2) if len(share) else 1)
    ax.set_title("Sales by channel")
    return ax
