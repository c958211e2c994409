"""Lifecycle stages at each period end, their migration between consecutive ends (positive /
negative), the active repeat-buyer and dormant rates, and OneID health over time.

The stage is the segments pipeline's own rule (:func:`omnicrm.segments.rules.lifecycle_stage`)
applied to the few features it reads, recomputed at every period end on the feature engine."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from omnicrm.contracts import CHANNELS
from omnicrm.features.engine import lazy_tables
from omnicrm.segments.rules import lifecycle_stage

# up the ladder is positive migration: a non-buyer who buys, a buyer who becomes loyal, a
# dormant or lost buyer who comes back; down it (loyal -> purchased -> dormant -> lost) negative
STAGE_RANK = {"lost": 0, "dormant": 1, "aware": 2, "interested": 3, "registered": 4,
              "purchased": 5, "loyal": 6}
NEW = "(new member)"


def _if(cond, value=None):
    then = nw.lit(1) if value is None else value
    return nw.when(cond).then(then).otherwise(nw.lit(0))


def stages_at(tables: dict[str, Any], ends: list[pd.Timestamp], lifecycle: dict,
              active_days: int, engine: str = "duckdb", options: dict | None = None
              ) -> pd.DataFrame:
    """person_id, period_end, lifecycle_stage, orders_active (orders in the ``active_days``
    before the end) for every person with a member record registered before each end."""
    w = int(lifecycle["engagement_window_days"])
    year = 365
    cuts = [pd.Timestamp(e) for e in ends]
    ends_table = pd.DataFrame({"end_no": np.arange(len(cuts), dtype="int64"),
                               "end_at": pd.to_datetime(cuts).as_unit("us")})
    ends_table["year_from"] = ends_table["end_at"] - pd.Timedelta(days=year)
    ends_table["active_from"] = ends_table["end_at"] - pd.Timedelta(days=active_days)
    ends_table["engaged_from"] = ends_table["end_at"] - pd.Timedelta(days=w)
    lt = lazy_tables({**{k: tables[k] for k in ("orders", "events", "registrations",
                                                "person_index")}, "ends": ends_table},
                     engine, options)
    ids = lt["person_index"].select("record_id", "person_id")
    per = ["person_id", "end_no"]
    last_cut = max(cuts).to_pydatetime()
    # every end in one pass over each table: rows are paired with the ends they precede
    regs = (lt["registrations"].filter(nw.col("registered_at") < nw.lit(last_cut))
            .join(ids, on="record_id").join(lt["ends"].select("end_no", "end_at"), how="cross")
            .filter(nw.col("registered_at") < nw.col("end_at"))
            .with_columns(**{f"has_{c}": _if(nw.col("channel") == c) for c in CHANNELS})
            .group_by(*per).agg(*[nw.col(f"has_{c}").max() for c in CHANNELS]))
    orders = (lt["orders"].filter(nw.col("ordered_at") < nw.lit(last_cut))
              .select("record_id", "ordered_at", "paid_amount").join(ids, on="record_id")
              .join(lt["ends"], how="cross")
              .filter(nw.col("ordered_at") < nw.col("end_at"))
              .with_columns(in_year=_if(nw.col("ordered_at") >= nw.col("year_from")))
              .with_columns(spend=_if(nw.col("in_year") == 1, nw.col("paid_amount")),
                            active=_if(nw.col("ordered_at") >= nw.col("active_from")))
              .group_by(*per)
              .agg(nw.len().alias("frequency"), nw.col("ordered_at").max().alias("last_at"),
                   nw.col("in_year").sum().alias("baskets_year"),
                   nw.col("spend").sum().alias("spend_year"),
                   nw.col("active").sum().alias("orders_active")))
    first_from = (min(cuts) - pd.Timedelta(days=w)).to_pydatetime()
    engaged = (lt["events"].filter((nw.col("event_at") < nw.lit(last_cut))
                                   & (nw.col("event_at") >= nw.lit(first_from))
                                   & nw.col("event_type").is_in(["collect", "cart"]))
               .select("record_id", "event_at").join(ids, on="record_id")
               .join(lt["ends"].select("end_no", "end_at", "engaged_from"), how="cross")
               .filter((nw.col("event_at") < nw.col("end_at"))
                       & (nw.col("event_at") >= nw.col("engaged_from")))
               .group_by(*per).agg(nw.len().alias("engaged")))
    every = (regs.join(orders, on=per, how="left").join(engaged, on=per, how="left")
             .collect(backend="pandas").to_native())
    out = []
    for no, end in enumerate(cuts):
        f = every[every["end_no"] == no].reset_index(drop=True)
        for col in ("frequency", "baskets_year", "spend_year", "orders_active", "engaged"):
            f[col] = pd.to_numeric(f[col], errors="coerce").fillna(0)
        last = pd.to_datetime(f["last_at"])
        if last.dt.tz is not None:
            last = last.dt.tz_convert(None)
        f["recency_days"] = ((end - last) / pd.Timedelta(days=1)).astype(float)
        f[f"collects_{w}d"], f[f"carts_{w}d"] = f["engaged"], 0
        for c in CHANNELS:
            f[f"has_{c}"] = f[f"has_{c}"].astype(bool)
        stage = lifecycle_stage(f, {**lifecycle})
        out.append(pd.DataFrame({"person_id": f["person_id"].astype(str),
                                 "period_end": end.date(),
                                 "lifecycle_stage": stage.to_numpy(),
                                 "frequency": f["frequency"].astype("int64"),
                                 "orders_active": f["orders_active"].astype("int64")}))
    return (pd.concat(out, ignore_index=True).sort_values(["period_end", "person_id"],
                                                          ignore_index=True))


def stage_rates(stages: pd.DataFrame) -> pd.DataFrame:
    """Per period end: members, buyers, the active repeat-buyer rate (active buyers with 2+
    orders in the active window) and the dormant share (buyers who are dormant or lost)."""
    rows = []
    for end, g in stages.groupby("period_end", sort=True):
        buyers = g["frequency"] > 0
        active = g["orders_active"] > 0
        dormant = g["lifecycle_stage"].isin(["dormant", "lost"])
        rows.append({"period_end": end, "members": len(g), "buyers": int(buyers.sum()),
                     "active_buyers": int(active.sum()),
                     "active_repeat_rate": float((g["orders_active"] >= 2).sum()
                                                 / max(int(active.sum()), 1)),
                     "dormant_share": float(dormant.sum() / max(int(buyers.sum()), 1)),
                     **{f"stage_{s}": int((g["lifecycle_stage"] == s).sum())
                        for s in STAGE_RANK}})
    return pd.DataFrame(rows)


def migration(stages: pd.DataFrame) -> pd.DataFrame:
    """The transition counts between consecutive period ends: period_end, from_stage,
    to_stage, members, direction (positive / negative / same / new)."""
    ends = sorted(stages["period_end"].unique())
    rows = []
    for before, after in zip(ends[:-1], ends[1:], strict=True):
        a = stages.loc[stages["period_end"] == before, ["person_id", "lifecycle_stage"]]
        b = stages.loc[stages["period_end"] == after, ["person_id", "lifecycle_stage"]]
        m = b.merge(a, on="person_id", how="left", suffixes=("_to", "_from"))
        m["lifecycle_stage_from"] = m["lifecycle_stage_from"].fillna(NEW)
        counts = m.groupby(["lifecycle_stage_from", "lifecycle_stage_to"]).size()
        for (src, dst), n in counts.items():
            if src == NEW:
                direction = "new"
            else:
                step = STAGE_RANK[dst] - STAGE_RANK[src]
                direction = "positive" if step > 0 else "negative" if step < 0 else "same"
            rows.append({"period_end": after, "period_before": before, "from_stage": src,
                         "to_stage": dst, "members": int(n), "direction": direction})
    return pd.DataFrame(rows, columns=["period_end", "period_before", "from_stage", "to_stage",
                                       "members", "direction"])


def oneid_health(registrations: pd.DataFrame, person_index: pd.DataFrame,
                 ends: list[pd.Timestamp]) -> pd.DataFrame:
    """Per period end: member records, persons, records per person, the share of persons
    with records in 2+ channels, and the persons in each channel pair
    (``pair_pos_tmall`` ...), counting records registered before the end."""
    r = registrations[["record_id", "channel", "registered_at"]].merge(
        person_index[["record_id", "person_id"]], on="record_id", how="inner")
    at = pd.to_datetime(r["registered_at"])
    rows = []
    for end in ends:
        g = r[at < pd.Timestamp(end)]
        per = g.groupby(["person_id", "channel"]).size().unstack(fill_value=0) > 0
        for c in CHANNELS:
            if c not in per:
                per[c] = False
        n = len(per)
        row = {"period_end": pd.Timestamp(end).date(), "records": len(g), "persons": n,
               "records_per_person": len(g) / n if n else np.nan,
               "cross_channel_share": float((per[list(CHANNELS)].sum(axis=1) >= 2).mean())
               if n else np.nan}
        for x, y in combinations(CHANNELS, 2):
            row[f"pair_{x}_{y}"] = int((per[x] & per[y]).sum())
        rows.append(row)
    return pd.DataFrame(rows)
